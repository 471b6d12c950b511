// The receipts tracker of the minutes (secretary desk, "Approval and distribution"): per
// version sent, each site's delivered / opened / acknowledged times, reminders and e-mail;
// the counts on top ("126 received, 98 opened, 87 acknowledged"), a filter to those not
// acknowledged, reminders (all of them or one site) and the tracker as CSV. Drawn from the
// page's state, live with the minutes_* events; `overview()` (the REST overview kept by
// minutes_panel.js) only adds whether a site without a mail report has an address at all.

import { $, fill, h, setText, toast, toggle } from "./dom.js";
import { siteName } from "./derive.js";
import { CONFIG, clock, day, num, t } from "./i18n.js";
import { keyedList } from "./ui.js";
import { fold } from "./wall.js";

const TZ = CONFIG.tz;

/** The tracker rows of a version, from the state (and the overview's e-mail statuses). */
export function trackerRows(s, version, overview) {
  const key = String(version);
  const receipts = s.minutes.receipts[key] || {};
  const mail = s.minutes.mail[key] || {};
  const known = overview ? overview.get(version) : null;
  return Object.entries(receipts).map(([code, r]) => {
    const sent = mail[`site:${code}`];
    const emailStatus = sent ? (sent.error ? "email_failed" : "sent")
      : (known && known.sites[code]) || "unknown";
    const status = r.acknowledged_at ? "acknowledged" : r.opened_at ? "opened" : "delivered";
    return { code, name: siteName(s, code), receipt: r, status, emailStatus, emailError: sent ? sent.error : "" };
  }).sort((a, b) => a.name.localeCompare(b.name, "vi"));
}

/** Counts over tracker rows: received, opened, acknowledged, waiting, e-mail. */
export function trackerCounts(rows) {
  const c = { delivered: rows.length, opened: 0, acknowledged: 0, waiting: 0, sent: 0, failed: 0, no_address: 0, not_sent: 0 };
  for (const r of rows) {
    if (r.receipt.opened_at) c.opened += 1;
    if (r.receipt.acknowledged_at) c.acknowledged += 1;
    else c.waiting += 1;
    if (r.emailStatus === "sent") c.sent += 1;
    else if (r.emailStatus === "email_failed") c.failed += 1;
    else if (r.emailStatus === "no_address") c.no_address += 1;
    else if (r.emailStatus === "not_sent") c.not_sent += 1;
  }
  return c;
}

function mailLabel(status) {
  if (status === "sent") return t("minutes.mail_sent");
  if (status === "email_failed") return t("minutes.mail_failed");
  if (status === "no_address") return t("minutes.mail_no_address");
  if (status === "not_sent") return t("minutes.mail_not_sent");
  return "…";
}

function when(iso) {
  return iso ? `${clock(iso, TZ)} ${day(iso, TZ).slice(0, 5)}` : "";
}

/** The versions sent to anyone, newest first. */
export function sentVersions(s) {
  return s.minutes.approved.map((v) => v.version)
    .filter((v) => Object.keys(s.minutes.receipts[String(v)] || {}).length || (s.minutes.accounts[String(v)] || []).length)
    .reverse();
}

/**
 * The tracker. `run` sends a command, `canWrite()` says whether this person may remind,
 * `overview()` gives the REST overview (or null), `selectOptions(select, versions, chosen)`
 * fills the version chooser, `base` is the minutes' URL.
 */
export function receiptsTracker({ store, run, canWrite, overview, selectOptions, base }) {
  let chosen = null;                // the version the person picked; null follows the newest sent

  function render(s) {
    const versions = sentVersions(s);
    $("#tracker-empty").hidden = versions.length > 0;
    $("#tracker-body").hidden = versions.length === 0;
    $("#tracker-csv").hidden = versions.length === 0;
    const select = $("#tracker-version");
    select.closest("label").hidden = versions.length < 2;
    if (!versions.length) return;
    const version = chosen && versions.includes(chosen) ? chosen : versions[0];
    selectOptions(select, versions, version);

    const all = trackerRows(s, version, overview());
    const c = trackerCounts(all);
    setText($("#tracker-counts"), t("minutes.counts", { delivered: num(c.delivered), opened: num(c.opened), acknowledged: num(c.acknowledged) }));
    $("#tracker-counts").dataset.acknowledged = String(c.acknowledged);
    setText($("#tracker-mail"), t("minutes.mail_counts", { sent: num(c.sent), failed: num(c.failed), none: num(c.no_address), pending: num(c.not_sent) }));

    const remind = $("#btn-remind");
    setText(remind, t("minutes.remind", { n: num(c.waiting) }));
    remind.disabled = !canWrite() || c.waiting === 0;
    remind.dataset.version = String(version);
    const csv = $("#tracker-csv");
    csv.href = `${base}/${version}/receipts.csv`;

    const q = fold($("#tracker-search").value.trim());
    const pendingOnly = $("#tracker-pending").checked;
    const rows = all.filter((r) => (!pendingOnly || r.status !== "acknowledged") && (!q || fold(r.name).includes(q) || fold(r.code).includes(q)));
    const body = $("#tracker-rows");
    if (!rows.length) {
      if (!body.querySelector(".empty-row")) fill(body, h("tr", { class: "empty-row" }, h("td", { colspan: "7", class: "empty" }, t("minutes.no_rows"))));
    } else {
      if (body.querySelector(".empty-row")) body.replaceChildren();
      keyedList(body, rows, (r) => `${version}:${r.code}`, (r) => h("tr", { "data-site": r.code },
        h("th", { scope: "row", class: "site" }, r.name),
        h("td", { class: "delivered" }), h("td", { class: "opened" }), h("td", { class: "acknowledged" }),
        h("td", { class: "reminders num" }), h("td", { class: "email" }),
        h("td", { class: "actions" }, h("button", { type: "button", class: "btn btn-small remind-one", onclick: () => remindSites(version, [r.code], r.name) }, t("minutes.remind_one")))),
      (tr, r) => {
        tr.dataset.status = r.status;
        const rc = r.receipt;
        setText(tr.querySelector(".delivered"), when(rc.delivered_at));
        setText(tr.querySelector(".opened"), when(rc.opened_at));
        const ack = tr.querySelector(".acknowledged");
        setText(ack, rc.acknowledged_at ? `✓ ${when(rc.acknowledged_at)}` : t("minutes.not_acknowledged"));
        toggle(ack, "ok-text", !!rc.acknowledged_at);
        setText(tr.querySelector(".reminders"), rc.reminders ? `${num(rc.reminders)} (${when(rc.reminded_at)})` : "");
        const mail = tr.querySelector(".email");
        setText(mail, mailLabel(r.emailStatus));
        mail.title = r.emailError || "";
        toggle(mail, "bad-text", r.emailStatus === "email_failed");
        const btn = tr.querySelector(".remind-one");
        btn.hidden = !canWrite() || !!rc.acknowledged_at;
        btn.setAttribute("aria-label", t("minutes.remind_site", { name: r.name }));
      });
    }
    setText($("#tracker-shown"), rows.length !== all.length ? t("minutes.shown", { n: num(rows.length), total: num(all.length) }) : "");

    const accounts = s.minutes.accounts[String(version)] || [];
    const mail = s.minutes.mail[String(version)] || {};
    setText($("#tracker-accounts"), accounts.length ? t("minutes.accounts_sent", {
      list: accounts.map((id) => {
        const m = mail[`account:${id}`];
        const name = (s.people && s.people[id]) || id;
        return `${name} (${m ? (m.error ? t("minutes.mail_failed") : t("minutes.mail_sent")) : t("minutes.mail_not_sent")})`;
      }).join("; "),
    }) : "");
  }

  async function remindSites(version, sites, name) {
    const waiting = trackerCounts(trackerRows(store.state, version, overview())).waiting;
    const text = sites ? t("minutes.remind_site_confirm", { name }) : t("minutes.remind_confirm", { n: num(waiting), version });
    if (!confirm(text)) return;
    try {
      await run("remind_minutes", sites ? { version, sites } : { version });
      toast(t("minutes.reminded_toast"), "ok");
    } catch { /* shown by run */ }
  }

  $("#tracker-version").addEventListener("change", (e) => { chosen = +e.target.value; render(store.state); });
  $("#tracker-search").addEventListener("input", () => render(store.state));
  $("#tracker-pending").addEventListener("change", () => render(store.state));
  $("#btn-remind").addEventListener("click", () => remindSites(+$("#btn-remind").dataset.version, null));

  return {
    render,
    /** Show this version (after it was sent). */
    follow(version) {
      chosen = version;
    },
  };
}
