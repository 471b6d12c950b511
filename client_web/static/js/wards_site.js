// A site's page, what the wards bring: a ward submits its recommendations (before or during
// the meeting), follows their status and says whether the answer resolves its obstacle; sees
// the conference documents ("mới" until opened) and votes. A department (sở, ngành) answers
// the recommendations assigned to it.

import { api } from "./api.js";
import { newKey } from "./conn.js";
import { $, batched, fill, h, setText, toast } from "./dom.js";
import { CONFIG, clock, errorText, num, t } from "./i18n.js";
import {
  FILE_ACCEPT, WARD_EVENTS, fileLink, recCard, recSig, signedList, tallyBars, upload,
} from "./wards_common.js";

export function sitePanel({ store, run, conn, root, site, token, badge = null }) {
  const conf = CONFIG.conference;
  let fields = [];
  api("GET", "/recommendation-fields", undefined, { token }).then((d) => { fields = d.fields; render(); })
    .catch(() => {});
  const form = submitForm();
  const box = { recs: h("ul", { class: "cards", id: "ward-recs" }), docs: h("ul", { class: "cards", id: "ward-docs" }),
    votes: h("div", { id: "ward-votes" }), assigned: h("ul", { class: "cards", id: "ward-assigned" }) };
  const isDepartment = () => store.state && store.state.sites[site] && store.state.sites[site].kind === "department";

  fill(root,
    h("section", { class: "ward-votes" }, h("h3", null, t("ward.votes")), box.votes),
    h("section", { class: "ward-assigned", id: "ward-assigned-box", hidden: true },
      h("h3", null, t("ward.assigned_title")), box.assigned),
    h("section", { class: "ward-recs", id: "ward-recs-box" }, h("h3", null, t("ward.recs_title")), form.el, box.recs),
    h("section", { class: "ward-docs" }, h("h3", null, t("ward.docs_title")), box.docs));

  function submitForm() {
    const title = h("input", { id: "rec-title", maxlength: 300, required: true });
    const field = h("select", { id: "rec-field", required: true });
    const item = h("select", { id: "rec-item" });
    const text = h("textarea", { id: "rec-text", rows: 5, maxlength: 20000, required: true });
    const files = h("input", { id: "rec-files", type: "file", multiple: true, accept: FILE_ACCEPT });
    const send = h("button", { type: "submit", class: "btn btn-primary", id: "rec-submit" }, t("ward.submit"));
    const el = h("form", { class: "form rec-form", id: "rec-form" },
      h("label", { for: "rec-title" }, t("ward.title")), title,
      h("label", { for: "rec-field" }, t("ward.field")), field,
      h("label", { for: "rec-item" }, t("ward.item")), item,
      h("label", { for: "rec-text" }, t("ward.body")), text,
      h("label", { for: "rec-files" }, t("ward.attachments")), files, send);
    el.addEventListener("submit", async (e) => {
      e.preventDefault();
      send.disabled = true;
      try {
        const attachments = [];
        for (const f of files.files) attachments.push(await upload(`/conferences/${encodeURIComponent(conf)}/files`, f, token));
        await run("submit_recommendation", { rec_id: newKey("kn"), site, title: title.value.trim(), text: text.value,
          field: field.value, item_id: item.value || null, attachments });
        el.reset();
        toast(t("ward.submitted"), "ok");
      } catch (err) {
        if (err && err.code && !err.ref) toast(errorText(err), "error");
      } finally {
        send.disabled = false;
      }
    });
    const sync = (s) => {
      if (field.options.length !== fields.length) fill(field, fields.map((f) => h("option", { value: f }, f)));
      const want = ["", ...s.agenda.map((i) => i.item_id)].join("|");
      if (item.dataset.items !== want) {
        item.dataset.items = want;
        fill(item, h("option", { value: "" }, t("ward.no_item")), s.agenda.map((i) => h("option", { value: i.item_id }, i.title)));
      }
      const open = ["draft", "scheduled", "rehearsal", "live"].includes(s.phase);
      send.disabled = !open;
    };
    return { el, sync };
  }

  function renderRecs(s) {
    const mine = Object.values(s.recommendations).filter((r) => r.sources.includes(site) && r.status !== "merged");
    if (!mine.length) fill(box.recs, h("li", { class: "muted" }, t("ward.none_yet")));
    else signedList(box.recs, mine, (r) => r.rec_id, recSig, (r) => recCard(s, r, { token, extra: feedback(s, r) }));
  }

  function feedback(s, r) {
    if (!(r.status === "answered" || r.status === "accepted")) return [];
    const said = r.feedback[site];
    const say = (resolved) => run("give_recommendation_feedback", { rec_id: r.rec_id, site, resolved }).catch(() => {});
    return [h("div", { class: "feedback" },
      said === undefined ? h("span", null, t("ward.feedback_q")) : h("span", { class: "ok-text" },
        said ? t("ward.resolved") : t("ward.not_resolved")), " ",
      h("button", { type: "button", class: "btn btn-small btn-primary", onclick: () => say(true) }, t("ward.accept_answer")),
      h("button", { type: "button", class: "btn btn-small", onclick: () => say(false) }, t("ward.not_resolved_btn")))];
  }

  function renderAssigned(s) {
    const mine = Object.values(s.recommendations).filter((r) => r.departments.includes(site)
      && (r.status === "assigned" || r.status === "answered"));
    fill(box.assigned, mine.length ? mine.map((r) => {
      const text = h("textarea", { rows: 3, maxlength: 20000, "aria-label": t("ward.answer_text") });
      const answer = (mode) => run("answer_recommendation", { rec_id: r.rec_id, department: site, mode, text: text.value })
        .then(() => toast(t("ward.answered"), "ok")).catch(() => {});
      return recCard(s, r, { token, extra: [h("div", { class: "answer-form" }, text,
        h("button", { type: "button", class: "btn btn-primary btn-small", onclick: () => answer("written") }, t("ward.answer_written")),
        h("button", { type: "button", class: "btn btn-small", onclick: () => answer("in_meeting") }, t("ward.answer_meeting")))] });
    }) : h("li", { class: "muted" }, t("ward.nothing_assigned")));
  }

  function renderDocs(s) {
    const docs = Object.values(s.documents).filter((d) => !d.removed);
    fill(box.docs, docs.length ? docs.map((d) => {
      const fresh = !d.receipts[site];
      return h("li", { class: "card doc-card", dataset: { doc: d.document_id } },
        fileLink(conf, `documents/${d.document_id}`, d.file.name, token), " ",
        fresh ? h("span", { class: "chip chip-new" }, t("ward.new")) : null,
        h("span", { class: "muted" }, ` ${num(Math.ceil(d.file.size / 1024))} KB`));
    }) : h("li", { class: "muted" }, t("ward.no_docs")));
    return docs.filter((d) => !d.receipts[site]).length;
  }

  function renderVotes(s, now) {
    const votes = Object.values(s.votes);
    let open = 0;
    fill(box.votes, votes.length ? votes.map((v) => {
      const mineDone = !!v.ballots[site];
      const running = v.closed_at === null && Date.parse(v.deadline) >= now;
      if (running && !mineDone) open += 1;
      const head = h("p", null, h("strong", null, v.question), " ",
        h("span", { class: "muted" }, t(v.mode === "per_site" ? "ward.per_site" : "ward.per_delegate"),
          v.secret ? ` · ${t("ward.secret")}` : "", running ? ` · ${t("ward.until", { time: clock(v.deadline) })}` : ""));
      if (v.closed_at !== null) return h("div", { class: "vote closed" }, head, tallyBars(v, v.result));
      if (mineDone) return h("div", { class: "vote" }, head, h("p", { class: "ok-text" }, t("ward.voted")));
      if (!running) return h("div", { class: "vote" }, head, h("p", { class: "muted" }, t("ward.vote_over")));
      if (v.mode === "per_site") {
        return h("div", { class: "vote", dataset: { vote: v.vote_id } }, head, h("div", { class: "vote-buttons" },
          v.options.map((o, i) => h("button", { type: "button", class: "btn btn-big", dataset: { option: i },
            onclick: () => run("cast_vote", { vote_id: v.vote_id, site, option: i }).catch(() => {}) }, o))));
      }
      const inputs = v.options.map(() => h("input", { type: "number", min: 0, max: 100000, value: 0, inputmode: "numeric" }));
      const present = s.attendance[site] ? s.attendance[site].headcount : 0;
      return h("form", { class: "vote form", dataset: { vote: v.vote_id }, onsubmit: (e) => {
        e.preventDefault();
        run("cast_vote", { vote_id: v.vote_id, site, counts: inputs.map((x) => Number(x.value) || 0) }).catch(() => {});
      } }, head, h("p", { class: "hint" }, t("ward.delegates_present", { n: num(present) })),
      v.options.map((o, i) => h("label", null, o, " ", inputs[i])),
      h("button", { type: "submit", class: "btn btn-primary" }, t("ward.send_counts")));
    }) : h("p", { class: "muted" }, t("ward.no_votes")));
    return open;
  }

  const render = batched(() => {
    const s = store.state;
    if (!s) return;
    const dept = isDepartment();
    $("#ward-assigned-box", root).hidden = !dept;
    $("#ward-recs-box", root).hidden = dept;
    form.sync(s);
    if (dept) renderAssigned(s);
    else renderRecs(s);
    const fresh = renderDocs(s);
    const open = renderVotes(s, conn.now());
    if (badge) {
      const n = fresh + open;
      badge.hidden = n === 0;
      setText(badge, n ? String(n) : "");
    }
  });
  store.on((ev) => { if (ev.type === "welcome" || WARD_EVENTS.has(ev.type)) render(); });
  setInterval(() => { if (store.state && Object.keys(store.state.votes).length) render(); }, 5000);
  return { render };
}
