// What the site page, the secretary desk and the chair console share about what the wards
// bring: status chips, the recommendation card, uploads to the file store, vote tallies.

import { api } from "./api.js";
import { h } from "./dom.js";
import { siteName } from "./derive.js";
import { CONFIG, day, num, t } from "./i18n.js";

export const WARD_EVENTS = new Set([
  "recommendation_submitted", "recommendations_merged", "recommendation_assigned", "recommendation_marked",
  "recommendation_answered", "answer_decided", "recommendation_feedback_given", "recommendations_carried",
  "document_added", "document_removed", "document_receipt_recorded", "vote_opened", "vote_cast", "vote_closed",
  "sites_invited", "agenda_item_added", "agenda_item_edited", "phase_changed", "checked_in", "connection_changed",
  "floor_granted", "floor_ended",
]);

export const FILE_ACCEPT = ".pdf,.docx,.xlsx,.pptx,.png,.jpg,.jpeg";
const TYPES = {
  pdf: "application/pdf", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
};

/** The declared type of a file, from its extension (the server checks the content against it). */
export function fileType(name) {
  return TYPES[(name.split(".").pop() || "").toLowerCase()] || "application/octet-stream";
}

/** Upload one file to the conference's file store; its reference {name, size, content_type, sha256}. */
export function upload(path, file, token = null) {
  const sep = path.includes("?") ? "&" : "?";
  return api("POST", `${path}${sep}name=${encodeURIComponent(file.name)}`, undefined,
    { raw: file, contentType: fileType(file.name), token });
}

export function statusChip(status) {
  return h("span", { class: `chip rec-${status}` }, t(`ward.status.${status}`));
}

export function names(s, codes) {
  return codes.map((c) => siteName(s, c)).join("; ");
}

/** The recommendation a merged one lives on in. */
export function holderOf(s, rec) {
  let r = rec;
  while (r && r.merged_into) r = s.recommendations[r.merged_into];
  return r || rec;
}

export function departmentsOf(s) {
  return Object.values(s.sites).filter((x) => x.kind === "department");
}

export function fileLink(conf, path, label, token = null) {
  const q = token ? `?token=${encodeURIComponent(token)}` : "";
  return h("a", { href: `/api/v1/conferences/${encodeURIComponent(conf)}/${path}${q}`, target: "_blank",
    rel: "noopener" }, label);
}

/** One recommendation as a card: title, status, sources, departments and due date, answers. */
export function recCard(s, r, { conf = CONFIG.conference, token = null, extra = [] } = {}) {
  const answers = r.answers.map((a) => h("li", { class: "answer" },
    h("strong", null, siteName(s, a.department)), " – ",
    a.mode === "in_meeting" ? t("ward.answered_in_meeting") : t("ward.answered_in_writing"),
    a.text ? h("p", { class: "answer-text" }, a.text) : null));
  return h("li", { class: `card rec-card rec-${r.status}`, dataset: { rec: r.rec_id } },
    h("div", { class: "card-head" }, h("strong", { class: "rec-title" }, r.title), " ", statusChip(r.status),
      r.carried_from ? h("span", { class: "chip" }, t("ward.carried")) : null),
    h("p", { class: "muted" }, t("ward.raised_by", { names: names(s, r.sources) }), " · ", r.field),
    r.departments.length ? h("p", { class: "muted" }, t("ward.assigned_to", {
      names: names(s, r.departments), date: r.due ? day(r.due) : "" })) : null,
    h("details", null, h("summary", null, t("ward.text")), ...r.text.split("\n\n").map((p) => h("p", null, p)),
      r.attachments.length ? h("ul", { class: "attachments" }, r.attachments.map((f) => h("li", null,
        fileLink(conf, `files/${f.sha256}`, `${f.name} (${num(Math.ceil(f.size / 1024))} KB)`, token)))) : null),
    answers.length ? h("ul", { class: "answers" }, answers) : h("p", { class: "muted" }, t("ward.no_answer")),
    ...extra);
}

/** A vote's tally as bars; `counts` the per-option totals. */
export function tallyBars(vote, counts) {
  const total = counts.reduce((a, b) => a + b, 0) || 1;
  return h("ul", { class: "tally" }, vote.options.map((o, i) => h("li", null,
    h("span", { class: "tally-label" }, o), " ",
    h("meter", { min: 0, max: total, value: counts[i] || 0 }), " ",
    h("strong", { class: "tally-count" }, num(counts[i] || 0)))));
}

export function voteTally(vote) {
  return vote.options.map((_, i) => Object.values(vote.ballots).reduce((n, b) => n + (b.counts[i] || 0), 0));
}

/**
 * Keep `parent`'s children in step with `items`, one element per key, rebuilding an element
 * only when its signature changed: a register of a thousand recommendations re-renders by
 * comparing strings, not by building a thousand cards.
 */
export function signedList(parent, items, key, sig, build) {
  const existing = new Map();
  for (const el of Array.from(parent.children)) if (el.dataset.key) existing.set(el.dataset.key, el);
  let cursor = parent.firstElementChild;
  for (const item of items) {
    const k = String(key(item));
    const s = sig(item);
    let el = existing.get(k);
    if (el) existing.delete(k);
    if (!el || el.dataset.sig !== s) {
      const fresh = build(item);
      fresh.dataset.key = k;
      fresh.dataset.sig = s;
      if (el) {
        if (el === cursor) cursor = fresh;
        el.replaceWith(fresh);
      }
      el = fresh;
    }
    if (el !== cursor) parent.insertBefore(el, cursor);
    else cursor = cursor.nextElementSibling;
  }
  for (const el of existing.values()) el.remove();
  for (const el of Array.from(parent.children)) if (!el.dataset.key) el.remove();   // a placeholder
}

/** What a recommendation's card shows, as a string that changes when the card must. */
export function recSig(r) {
  return [r.status, r.answers.length, r.departments.join(","), r.due, r.in_meeting, r.item_id, r.sources.join(","),
    JSON.stringify(r.feedback), r.kept_open.length, r.title].join("|");
}
