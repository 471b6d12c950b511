// The minutes after the meeting, in the secretary desk: the draft's state and its files, the
// chair's approval, the approved versions (number, time, approver, SHA-256, files), a
// correction, distribution to the invited sites (and accounts), and per version the receipts
// tracker (receipts.js).
//
// Everything shown comes from the page's state, which the reducer keeps live from the
// minutes_* events. The REST overview (GET …/minutes) only adds what the state does not
// carry: whether a site has an e-mail address at all (no_address vs not_sent), the
// approvers' display names and the check of the hash chain; it is read again, debounced,
// after the events that change it.

import { get } from "./api.js";
import { $, batched, debounce, fill, h, setText, toast, toggle } from "./dom.js";
import { CONFIG, dayTime, num, t } from "./i18n.js";
import { receiptsTracker } from "./receipts.js";
import { keyedList } from "./ui.js";

const CONF = CONFIG.conference;
const TZ = CONFIG.tz;
export const MINUTES_BASE = `/api/v1/conferences/${encodeURIComponent(CONF)}/minutes`;
const FORMATS = [["html", "HTML"], ["pdf", "PDF"], ["docx", "DOCX"]];
const REFETCH = new Set(["welcome", "minutes_approved", "correction_opened", "minutes_distributed", "minutes_mailed", "phase_changed"]);
const LIVE = new Set([...REFETCH, "minutes_opened", "minutes_acknowledged", "minutes_reminded"]);

export function shortHash(sha) {
  return `${sha.slice(0, 12)}…`;
}

/**
 * The panel. `store` is the page's store, `run(type, fields)` sends a command and shows a
 * refusal, `isShown()` says whether the panel's tab is open (the tracker is drawn only then).
 */
export function minutesPanel({ store, run, isShown }) {
  const roles = () => (store.you ? store.you.roles : []);
  const isChair = () => roles().includes("chair");
  const canWrite = () => roles().includes("chair") || roles().includes("secretary");
  let overview = null;              // version -> {name, sites: {code: email_status}}
  let chain = null;
  const picked = new Set();
  const tracker = receiptsTracker({ store, run, canWrite, overview: () => overview, selectOptions, base: MINUTES_BASE });

  async function loadOverview() {
    try {
      const o = await get(`/conferences/${encodeURIComponent(CONF)}/minutes`);
      overview = new Map(o.versions.map((v) => [v.version, {
        name: v.approved_by_name, sites: Object.fromEntries(v.receipts.map((r) => [r.site, r.email_status])),
      }]));
      chain = o.chain;
    } catch (err) {
      console.warn("bridgeconf: minutes overview", err && err.code);
    }
    render();
  }
  const refetch = debounce(loadOverview, 700);

  // -- the head: status, draft files, approval, correction -----------------------------------

  function renderHead(s) {
    const m = s.minutes;
    const ended = s.phase === "ended";
    const draft = m.approved.length + 1;
    const latest = m.approved[m.approved.length - 1];
    let status;
    if (!m.editing) status = t("minutes.status_approved", { version: latest.version, time: dayTime(latest.approved_at, TZ) });
    else if (!ended) status = t("minutes.status_not_ended", { version: draft });
    else if (latest) status = t("minutes.status_correction", { version: draft, previous: latest.version });
    else status = t("minutes.status_waiting", { version: draft });
    const el = $("#minutes-status");
    setText(el, status);
    el.dataset.state = !m.editing ? "approved" : ended ? "waiting" : "draft";

    const files = $("#draft-files");
    const want = ended && m.editing ? `draft${draft}` : "";
    if (files.dataset.want !== want) {
      files.dataset.want = want;
      fill(files, want ? [h("span", { class: "label" }, t("minutes.draft_files", { version: draft })),
        FORMATS.map(([fmt, label]) => h("a", {
          class: "btn btn-small doc-link", href: `${MINUTES_BASE}/draft.${fmt}`, target: "_blank", rel: "noopener",
          "data-format": fmt, "aria-label": t("minutes.draft_file", { version: draft, format: label }),
        }, label))] : null);
    }

    const approve = $("#btn-approve");
    approve.hidden = !(isChair() && m.editing);
    approve.disabled = !ended || approve.dataset.busy === "1";
    setText(approve, latest ? t("minutes.approve_version", { version: draft }) : t("minutes.approve"));
    let hint = "";
    if (m.editing && !ended) hint = t("minutes.approve_after_end");
    else if (m.editing && !isChair()) hint = t("minutes.chair_approves");
    setText($("#approve-hint"), hint);

    $("#correction-form").hidden = !(canWrite() && !m.editing && m.approved.length > 0);

    const chip = $("#minutes-chain");
    chip.hidden = !chain || !m.approved.length;
    if (chain) {
      setText(chip, chain.ok ? t("minutes.chain_ok") : t("minutes.chain_broken"));
      chip.className = `chip ${chain.ok ? "status-done" : "status-cancelled"}`;
      chip.title = chain.message || "";
    }
    const badge = $("#badge-minutes");
    const waiting = isChair() && ended && m.editing;
    badge.hidden = !waiting;
    setText(badge, waiting ? "!" : "");
  }

  async function approve() {
    const s = store.state;
    const version = s.minutes.approved.length + 1;
    if (!confirm(t("minutes.approve_confirm", { version }))) return;
    const btn = $("#btn-approve");
    btn.dataset.busy = "1";
    render();
    try {
      await run("approve_minutes");
      toast(t("minutes.approved_toast", { version }), "ok");
    } catch { /* shown by run */ } finally {
      btn.dataset.busy = "";
      render();
    }
  }

  async function correction(e) {
    e.preventDefault();
    const input = $("#correction-reason");
    const reason = input.value.trim();
    if (!reason) {
      input.focus();
      return;
    }
    try {
      await run("open_correction", { reason });
      input.value = "";
      toast(t("minutes.correction_opened", { version: store.state.minutes.approved.length + 1 }), "ok");
    } catch { /* shown by run */ }
  }

  // -- approved versions ------------------------------------------------------------------------

  function approverName(s, v) {
    const id = String(v.approved_by).replace(/^account:/, "");
    const fromOverview = overview && overview.get(v.version);
    return (s.people && s.people[id]) || (fromOverview && fromOverview.name) || id;
  }

  function renderVersions(s) {
    const ol = $("#versions");
    const versions = s.minutes.approved.slice().reverse();
    if (!versions.length) {
      if (!ol.querySelector(".empty")) fill(ol, h("li", { class: "empty" }, t("minutes.no_versions")));
      return;
    }
    if (ol.querySelector(".empty")) ol.replaceChildren();
    const total = Object.keys(s.sites).length;
    keyedList(ol, versions, (v) => v.version, (v) => h("li", { class: "card version-card", "data-version": v.version },
      h("h3", null, t("minutes.version", { version: v.version })),
      h("p", { class: "meta approved-by" }),
      h("p", { class: "meta" }, "SHA-256 ", h("code", { class: "sha", title: v.sha256 }, shortHash(v.sha256))),
      h("p", { class: "meta sent-to" }),
      h("div", { class: "card-actions" }, FORMATS.map(([fmt, label]) => h("a", {
        class: "btn btn-small doc-link", href: `${MINUTES_BASE}/${v.version}.${fmt}`, target: "_blank", rel: "noopener",
        "data-format": fmt, "aria-label": t("minutes.version_file", { version: v.version, format: label }),
      }, label)))),
    (li, v) => {
      setText(li.querySelector(".approved-by"), t("minutes.approved_by", { time: dayTime(v.approved_at, TZ), name: approverName(s, v) }));
      const sent = Object.keys(s.minutes.receipts[String(v.version)] || {}).length;
      const accounts = (s.minutes.accounts[String(v.version)] || []).length;
      setText(li.querySelector(".sent-to"), accounts ? t("minutes.sent_to_accounts", { n: num(sent), total: num(total), accounts: num(accounts) })
        : sent ? t("minutes.sent_to", { n: num(sent), total: num(total) }) : t("minutes.not_sent"));
      toggle(li, "acknowledged", sent > 0);
      toggle(li, "latest", v.version === s.minutes.approved.length);
    });
  }

  // -- distribution -----------------------------------------------------------------------------

  function selectOptions(select, versions, chosen) {
    const key = versions.join(",");
    if (select.dataset.key !== key) {
      select.dataset.key = key;
      fill(select, versions.map((v) => h("option", { value: String(v) }, t("minutes.version", { version: v }))));
    }
    if (chosen !== null && select.value !== String(chosen)) select.value = String(chosen);
  }

  function renderDistribute(s) {
    const panel = $("#distribute-panel");
    const versions = s.minutes.approved.map((v) => v.version).reverse();
    panel.hidden = !versions.length || !canWrite();
    if (panel.hidden) return;
    const select = $("#distribute-version");
    const before = select.value;
    selectOptions(select, versions, before && versions.includes(+before) ? +before : versions[0]);
    const version = +select.value;
    const receipts = s.minutes.receipts[String(version)] || {};
    const total = Object.keys(s.sites).length;
    const done = Object.keys(receipts).length;
    setText($("#distribute-sites"), done === 0 ? t("minutes.to_all_sites", { n: num(total) })
      : done < total ? t("minutes.to_rest", { done: num(done), total: num(total), rest: num(total - done) })
        : t("minutes.all_sites_have_it", { n: num(total) }));
    const sentAccounts = new Set(s.minutes.accounts[String(version)] || []);
    const people = Object.entries(s.people || {}).filter(([id]) => !sentAccounts.has(id));
    const box = $("#distribute-people");
    const key = `${version}|${people.map(([id]) => id).join(",")}`;
    if (box.dataset.key !== key) {
      box.dataset.key = key;
      for (const id of Array.from(picked)) if (sentAccounts.has(id)) picked.delete(id);
      fill(box, people.length ? people.map(([id, name]) => h("label", null,
        h("input", { type: "checkbox", value: id, checked: picked.has(id), onchange: (e) => {
          if (e.target.checked) picked.add(id); else picked.delete(id);
          renderDistributeButton();
        } }), " ", name === id ? id : `${name} (${id})`)) : h("p", { class: "hint" }, t("minutes.no_more_accounts")));
    }
    renderDistributeButton();
  }

  function typedAccounts() {
    return $("#distribute-accounts").value.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);
  }

  function renderDistributeButton() {
    const s = store.state;
    const version = +$("#distribute-version").value;
    if (!s || !version) return;
    const total = Object.keys(s.sites).length;
    const done = Object.keys(s.minutes.receipts[String(version)] || {}).length;
    const accounts = new Set([...picked, ...typedAccounts()]);
    const btn = $("#btn-distribute");
    btn.disabled = (done >= total && accounts.size === 0) || btn.dataset.busy === "1";
    setText(btn, done >= total ? t("minutes.send_accounts", { n: num(accounts.size) })
      : t("minutes.send", { version, n: num(total - done) }));
  }

  async function distribute(e) {
    e.preventDefault();
    const s = store.state;
    const version = +$("#distribute-version").value;
    const accounts = Array.from(new Set([...picked, ...typedAccounts()]));
    const done = Object.keys(s.minutes.receipts[String(version)] || {}).length;
    const total = Object.keys(s.sites).length;
    if (!confirm(t("minutes.send_confirm", { version, n: num(total - done), accounts: num(accounts.length) }))) return;
    const btn = $("#btn-distribute");
    btn.dataset.busy = "1";
    renderDistributeButton();
    try {
      await run("distribute_minutes", accounts.length ? { version, accounts } : { version });
      toast(t("minutes.sent_toast", { version }), "ok");
      picked.clear();
      $("#distribute-accounts").value = "";
      $("#distribute-people").dataset.key = "";
      tracker.follow(version);
    } catch { /* shown by run */ } finally {
      btn.dataset.busy = "";
      render();
    }
  }

  // -- wiring -----------------------------------------------------------------------------------

  const render = batched(() => {
    const s = store.state;
    if (!s) return;
    renderHead(s);
    if (!isShown()) return;
    renderVersions(s);
    renderDistribute(s);
    tracker.render(s);
  });

  $("#btn-approve").addEventListener("click", approve);
  $("#correction-form").addEventListener("submit", correction);
  $("#distribute-form").addEventListener("submit", distribute);
  $("#distribute-version").addEventListener("change", () => render());
  $("#distribute-accounts").addEventListener("input", renderDistributeButton);

  let loaded = false;
  return {
    render,
    /** Called with every event the store folds (and `welcome`). */
    onEvent(ev, s) {
      if (!LIVE.has(ev.type)) return;
      if (ev.type === "phase_changed" && ev.phase === "ended") toast(t("minutes.ended_toast"), "info");
      const wanted = s.phase === "ended" || s.minutes.approved.length > 0;
      if (wanted && (!loaded || REFETCH.has(ev.type))) {
        loaded = true;
        refetch();
      }
      render();
    },
  };
}
