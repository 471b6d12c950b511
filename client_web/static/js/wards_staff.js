// The main bridge's side of what the wards bring. The secretary desk triages the
// recommendations (merge duplicates, assign to departments with a due date, mark for the
// meeting), carries the open ones of the series' previous conference, uploads the conference
// documents and sees each site's receipts. The chair console shows the recommendations marked
// for the meeting under their agenda item (give the floor to the department, accept the answer
// or keep it open) and runs quick votes with a live tally.

import { api } from "./api.js";
import { newKey } from "./conn.js";
import { batched, fill, h, setText, toast } from "./dom.js";
import { siteName } from "./derive.js";
import { CONFIG, clock, errorText, isoDay, num, t } from "./i18n.js";
import {
  FILE_ACCEPT, WARD_EVENTS, departmentsOf, names, recCard, recSig, signedList, statusChip, tallyBars, upload, voteTally,
} from "./wards_common.js";

const CONF = CONFIG.conference;

// -- the secretary desk ------------------------------------------------------------------------------

export function triagePanel({ store, run, root, isShown = () => true }) {
  const picked = new Set();
  const list = h("ul", { class: "rec-list", id: "triage-list" });
  const deptBox = h("div", { class: "dept-pick", id: "assign-departments" });
  const due = h("input", { type: "date", id: "assign-due" });
  const summary = h("p", { class: "status-line", id: "triage-summary" });
  const docs = h("ul", { class: "cards", id: "doc-list" });
  const file = h("input", { type: "file", id: "doc-file", accept: FILE_ACCEPT });
  const docItem = h("select", { id: "doc-item" });
  const act = (fn) => async () => {
    try {
      await fn();
    } catch (err) {
      if (err && err.code && !err.ref) toast(errorText(err), "error");
    }
  };
  const chosen = () => [...picked].filter((id) => store.state.recommendations[id]);

  fill(root,
    h("div", { class: "ward-triage" },
      h("div", { class: "panel-head" }, h("h2", null, t("ward.triage_title")),
        h("a", { href: "/recommendations", class: "btn btn-small" }, t("ward.dashboard")),
        h("button", { type: "button", class: "btn btn-small", id: "carry-btn", onclick: act(async () => {
          const r = await api("POST", `/conferences/${encodeURIComponent(CONF)}/recommendations/carry`, { key: newKey("carry") });
          toast(t("ward.carried_n", { n: r.carried }), "ok");
        }) }, t("ward.carry"))),
      summary,
      h("div", { class: "triage-tools" },
        h("button", { type: "button", class: "btn btn-small", id: "merge-btn", onclick: act(async () => {
          const [into, ...others] = chosen();
          if (!others.length) return toast(t("ward.pick_two"), "error");
          await run("merge_recommendations", { into, others });
          picked.clear();
          render();
        }) }, t("ward.merge")),
        h("fieldset", null, h("legend", null, t("ward.assign_to")), deptBox,
          h("label", { for: "assign-due" }, t("ward.due")), due,
          h("button", { type: "button", class: "btn btn-small btn-primary", id: "assign-btn", onclick: act(async () => {
            const departments = [...deptBox.querySelectorAll("input:checked")].map((x) => x.value);
            for (const rec_id of chosen()) await run("assign_recommendation", { rec_id, departments, due: due.value });
            picked.clear();
            render();
          }) }, t("ward.assign"))),
        h("button", { type: "button", class: "btn btn-small", id: "mark-btn", onclick: act(async () => {
          for (const rec_id of chosen()) await run("mark_recommendation_for_meeting", { rec_id, in_meeting: true });
          picked.clear();
          render();
        }) }, t("ward.mark"))),
      list),
    h("div", { class: "ward-docs-staff" },
      h("h2", null, t("ward.docs_title")),
      h("form", { class: "inline-form", id: "doc-form", onsubmit: (e) => {
        e.preventDefault();
        act(async () => {
          if (!file.files.length) return;
          const item = docItem.value ? `&item_id=${encodeURIComponent(docItem.value)}` : "";
          await upload(`/conferences/${encodeURIComponent(CONF)}/documents?document_id=${newKey("tl")}${item}`, file.files[0]);
          file.value = "";
          toast(t("ward.doc_added"), "ok");
        })();
      } }, h("label", { for: "doc-file" }, t("ward.doc_file")), file, h("label", { for: "doc-item" }, t("ward.item")),
      docItem, h("button", { type: "submit", class: "btn btn-primary btn-small" }, t("ward.upload"))),
      docs));

  function renderList(s) {
    const recs = Object.values(s.recommendations).filter((r) => r.status !== "merged");
    const open = recs.filter((r) => r.status !== "accepted").length;
    setText(summary, t("ward.summary", { n: num(recs.length), open: num(open),
      assigned: num(recs.filter((r) => r.departments.length).length) }));
    signedList(list, recs, (r) => r.rec_id, (r) => `${recSig(r)}|${picked.has(r.rec_id)}`, (r) => h("li", { class: `rec-row rec-${r.status}`, dataset: { rec: r.rec_id } },
      h("input", { type: "checkbox", checked: picked.has(r.rec_id), "aria-label": r.title,
        onchange: (e) => { if (e.target.checked) picked.add(r.rec_id); else picked.delete(r.rec_id); } }),
      h("span", { class: "rec-title" }, r.title), " ", statusChip(r.status),
      r.in_meeting ? h("span", { class: "chip" }, t("ward.in_meeting")) : null,
      h("span", { class: "muted" }, ` ${names(s, r.sources)} · ${r.field}`,
        r.departments.length ? ` → ${names(s, r.departments)}` : "")));
    const want = departmentsOf(s).map((d) => d.code).join("|");
    if (deptBox.dataset.depts !== want) {
      deptBox.dataset.depts = want;
      fill(deptBox, departmentsOf(s).map((d) => h("label", null,
        h("input", { type: "checkbox", value: d.code }), " ", d.name)));
      if (!due.value) due.value = isoDay(Date.now() + 14 * 86400e3);
    }
    const items = ["", ...s.agenda.map((i) => i.item_id)].join("|");
    if (docItem.dataset.items !== items) {
      docItem.dataset.items = items;
      fill(docItem, h("option", { value: "" }, t("ward.whole_conference")),
        s.agenda.map((i) => h("option", { value: i.item_id }, i.title)));
    }
  }

  function renderDocs(s) {
    const sites = Object.keys(s.sites).filter((c) => c !== s.main_site);
    fill(docs, Object.values(s.documents).filter((d) => !d.removed).map((d) => {
      const opened = Object.keys(d.receipts);
      const waiting = sites.filter((c) => !d.receipts[c]);
      return h("li", { class: "card doc-card", dataset: { doc: d.document_id } },
        h("a", { href: `/api/v1/conferences/${encodeURIComponent(CONF)}/documents/${d.document_id}`, target: "_blank",
          rel: "noopener" }, d.file.name),
        h("span", { class: "chip doc-receipts" }, t("ward.opened_n", { n: num(opened.length), of: num(sites.length) })),
        h("details", null, h("summary", null, t("ward.receipts")),
          h("ul", null, opened.map((c) => h("li", { dataset: { site: c } }, siteName(s, c), " – ",
            clock(d.receipts[c].opened_at || d.receipts[c].downloaded_at)))),
          waiting.length ? h("p", { class: "muted" }, t("ward.not_opened", { names: names(s, waiting) })) : null));
    }));
  }

  const render = batched(() => {
    const s = store.state;
    if (!s || !isShown()) return;
    renderList(s);
    renderDocs(s);
  });
  store.on((ev) => { if (ev.type === "welcome" || WARD_EVENTS.has(ev.type)) render(); });
  return { render };
}

// -- the chair console -------------------------------------------------------------------------------

export function chairWardsPanel({ store, run, conn, root, isChair = () => true }) {
  const recsBox = h("div", { id: "chair-recs" });
  const votesBox = h("div", { id: "chair-votes" });
  const question = h("input", { id: "vote-question", maxlength: 1000, required: true });
  const mode = h("select", { id: "vote-mode" }, h("option", { value: "per_site" }, t("ward.per_site")),
    h("option", { value: "per_delegate" }, t("ward.per_delegate")));
  const secret = h("input", { type: "checkbox", id: "vote-secret" });
  const minutes = h("input", { type: "number", id: "vote-minutes", min: 1, max: 480, value: 3 });
  const form = h("form", { class: "form vote-open", id: "vote-form", onsubmit: async (e) => {
    e.preventDefault();
    const deadline = new Date(conn.now() + Number(minutes.value) * 60e3).toISOString();
    try {
      await run("open_vote", { vote_id: newKey("bq"), question: question.value.trim(), mode: mode.value,
        secret: secret.checked, deadline });
      question.value = "";
    } catch { /* shown by run */ }
  } }, h("label", { for: "vote-question" }, t("ward.question")), question,
  h("label", { for: "vote-mode" }, t("ward.vote_mode")), mode,
  h("label", null, secret, " ", t("ward.secret")),
  h("label", { for: "vote-minutes" }, t("ward.minutes_open")), minutes,
  h("button", { type: "submit", class: "btn btn-primary" }, t("ward.open_vote")));

  fill(root, h("h2", null, t("ward.meeting_title")), recsBox, h("h2", null, t("ward.votes")), form, votesBox);

  function recActions(s, r) {
    const out = [];
    for (const d of r.departments) {
      const speaking = !!s.floor.speakers[d];
      out.push(h("button", { type: "button", class: "btn btn-small", disabled: speaking || s.phase !== "live",
        onclick: () => run("give_floor", { site: d }).catch(() => {}) }, t("ward.give_floor", { name: siteName(s, d) })));
      const hadTurn = speaking || s.floor.turns.some((x) => x.site === d);
      if (hadTurn && (r.status === "assigned" || r.status === "answered")) {
        out.push(h("button", { type: "button", class: "btn btn-small", onclick: () => run("answer_recommendation",
          { rec_id: r.rec_id, department: d, mode: "in_meeting", text: "" }).catch(() => {}) },
        t("ward.record_meeting_answer", { name: siteName(s, d) })));
      }
    }
    if (r.status === "answered") {
      out.push(h("button", { type: "button", class: "btn btn-small btn-primary",
        onclick: () => run("decide_answer", { rec_id: r.rec_id, accept: true }).catch(() => {}) }, t("ward.accept")));
      out.push(h("button", { type: "button", class: "btn btn-small",
        onclick: () => run("decide_answer", { rec_id: r.rec_id, accept: false, reason: "" }).catch(() => {}) },
      t("ward.keep_open")));
    }
    return out.length ? [h("div", { class: "rec-actions" }, out)] : [];
  }

  function renderRecs(s) {
    const marked = Object.values(s.recommendations).filter((r) => r.in_meeting && r.status !== "merged");
    const groups = [...s.agenda.map((i) => [i.item_id, i.title]), [null, t("ward.no_item")]]
      .map(([id, title]) => ({ id: id || "__none__", title, recs: marked.filter((r) => (r.item_id ?? null) === id) }))
      .filter((g) => g.recs.length);
    const chair = isChair();
    const floorSig = (r) => r.departments.map((d) => `${!!s.floor.speakers[d]}${s.floor.turns.some((x) => x.site === d)}`).join("");
    signedList(recsBox, groups.length ? groups : [{ id: "-", title: "", recs: [] }], (g) => g.id, (g) => g.title,
      (g) => g.id === "-" ? h("p", { class: "muted" }, t("ward.none_marked"))
        : h("section", { class: "rec-group", dataset: { item: g.id } }, h("h3", null, g.title), h("ul", { class: "cards" })));
    for (const g of groups) {
      const ul = recsBox.querySelector(`[data-key="${CSS.escape(g.id)}"] ul`);
      signedList(ul, g.recs, (r) => r.rec_id, (r) => `${recSig(r)}|${chair}|${s.phase}|${floorSig(r)}`,
        (r) => recCard(s, r, { extra: chair ? recActions(s, r) : [] }));
    }
  }

  function renderVotes(s, now) {
    const present = Object.entries(s.attendance).filter(([c, a]) => c !== s.main_site
      && s.sites[c] && s.sites[c].kind !== "department" && (a.connection === "online" || a.checked_in_at));
    const delegates = present.reduce((n, [, a]) => n + (a.checked_in_at ? a.headcount : 0), 0);
    fill(votesBox, Object.values(s.votes).reverse().map((v) => {
      const counts = voteTally(v);
      const running = v.closed_at === null;
      const voters = Object.keys(v.ballots).length;
      const of = v.mode === "per_site" ? t("ward.voters_of", { n: num(voters), of: num(present.length) })
        : t("ward.delegates_of", { n: num(counts.reduce((a, b) => a + b, 0)), of: num(delegates), sites: num(voters) });
      return h("div", { class: `vote ${running ? "running" : "closed"}`, dataset: { vote: v.vote_id } },
        h("p", null, h("strong", null, v.question), " ", h("span", { class: "muted" },
          running ? t("ward.until", { time: clock(v.deadline) }) : t("ward.closed"),
          Date.parse(v.deadline) < now && running ? ` · ${t("ward.deadline_passed")}` : "")),
        tallyBars(v, counts), h("p", { class: "vote-voters" }, of),
        running && isChair() ? h("button", { type: "button", class: "btn btn-danger btn-small",
          onclick: () => run("close_vote", { vote_id: v.vote_id }).catch(() => {}) }, t("ward.close_vote")) : null);
    }));
  }

  const render = batched(() => {
    const s = store.state;
    if (!s) return;
    form.hidden = !isChair();
    renderRecs(s);
    renderVotes(s, conn.now());
  });
  store.on((ev) => { if (ev.type === "welcome" || WARD_EVENTS.has(ev.type)) render(); });
  return { render };
}
