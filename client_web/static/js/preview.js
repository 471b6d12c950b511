// A draft of the minutes (biên bản) drawn in the page from the state, for the secretaries
// to read while they write. It follows the content of scheduling.reports.minutes_content;
// the official document (HTML/PDF/DOCX, hashed on approval) is rendered by the server, and
// the figures here are counted as server/documents/view.py counts them: every invited site
// with the main bridge, people by their display names, the whole list of absent sites.

import { h, fill } from "./dom.js";
import { ms, totals } from "./derive.js";
import { clock, day, duration, num, t } from "./i18n.js";

export function renderPreview(box, s, nowMs, { tz }) {
  const sum = totals(s);
  const all = Object.values(s.sites);
  const remote = all.filter((x) => x.code !== s.main_site);
  const isPresent = (x) => s.attendance[x.code].first_joined !== null || s.attendance[x.code].checked_in_at !== null;
  const present = all.filter(isPresent);
  const absent = all.filter((x) => !isPresent(x));
  const person = (account) => (s.people && s.people[account]) || account;   // display names (server/views.py)
  const start = s.opened_at || s.starts_at;
  const end = s.ended_at || (s.phase === "live" ? null : s.ends_at);
  const notesOf = (itemId, kind) => Object.values(s.notes).filter((n) => n.item_id === itemId && n.kind === kind)
    .sort((a, b) => ms(a.created) - ms(b.created));
  const actionsTable = Object.values(s.actions);
  fill(box,
    s.minutes.editing ? h("p", { class: "draft-mark" }, t("preview.draft", { version: s.minutes.approved.length + 1 })) : null,
    h("h2", null, t("preview.heading")),
    h("p", { class: "center" }, h("strong", null, s.title)),
    h("p", null, t("preview.when", { day: day(start, tz), start: clock(start, tz), end: end ? clock(end, tz) : "…" })),
    h("p", null, t("preview.where", { main: s.sites[s.main_site].name, n: num(remote.length) })),
    h("p", null, t("preview.chair_secretaries", { chair: person(s.chair), secretaries: s.secretaries.map(person).join("; ") })),
    h("h3", null, t("preview.attendance")),
    h("p", { class: "attendance-line" }, t("preview.attendance_line", {
      present: num(present.length), sites: num(all.length), people: num(sum.people), expected: num(sum.expected),
      absent: num(absent.length),
    })),
    absent.length ? h("p", { class: "absent-sites" }, t("preview.absent_sites", { names: absent.map((x) => x.name).join(", ") })) : null,
    h("h3", null, t("preview.agenda")),
    s.agenda.map((item, i) => {
      const turns = s.floor.turns.filter((x) => x.item_id === item.item_id);
      const spent = item.runs.reduce((acc, r) => acc + ((r.ended ? ms(r.ended) : nowMs) - ms(r.started)) / 1000, 0);
      return h("section", { class: "preview-item" },
        h("h3", null, `${i + 1}. ${item.title}`),
        h("p", { class: "muted" }, [
          item.presenter ? t("agenda.presenter", { name: item.presenter }) : "",
          item.runs.length ? t("preview.item_time", { start: clock(item.runs[0].started, tz), spent: duration(spent), planned: duration(item.planned_minutes * 60) })
            : t(`item.${item.status}`),
        ].filter(Boolean).join(" · ")),
        turns.length ? h("p", null, t("preview.speakers"), " ", turns.map((x) =>
          `${s.sites[x.site] ? s.sites[x.site].name : x.site} (${clock(x.started, tz)}, ${duration((ms(x.ended) - ms(x.started)) / 1000)})`).join("; ")) : null,
        notesOf(item.item_id, "note").map((n) => h("p", { class: "pre" }, n.text)),
        notesOf(item.item_id, "conclusion").length ? h("p", null, h("strong", null, t("preview.conclusions"))) : null,
        notesOf(item.item_id, "conclusion").map((n) => h("p", { class: "pre" }, "– ", n.text)));
    }),
    notesOf(null, "note").length || notesOf(null, "conclusion").length ? [
      h("h3", null, t("preview.general")),
      [...notesOf(null, "note"), ...notesOf(null, "conclusion")].map((n) => h("p", { class: "pre" }, n.text)),
    ] : null,
    h("h3", null, t("preview.actions")),
    actionsTable.length ? h("table", null,
      h("thead", null, h("tr", null, h("th", null, "#"), h("th", null, t("preview.task")), h("th", null, t("preview.assignees")), h("th", null, t("preview.due")))),
      h("tbody", null, actionsTable.map((a, i) => h("tr", null,
        h("td", null, String(i + 1)), h("td", null, a.title),
        h("td", null, a.assignees.map((c) => (s.sites[c] ? s.sites[c].name : c)).join(", ")),
        h("td", null, day(a.due)))))) : h("p", { class: "muted" }, t("preview.no_actions")));
}
