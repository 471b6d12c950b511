// The month view of the conferences in the admin page: a week per row, Monday first, each
// conference on the day it starts (in its own time zone) with its time, title and phase;
// choosing one opens it in the "Conferences" tab. On a phone the weeks become a list of days.

import { $, fill, h, setText } from "./dom.js";
import { clock, isoDay, t } from "./i18n.js";

const TZ = "Asia/Ho_Chi_Minh";

/**
 * @param {object} o
 * @param {() => object[]} o.conferences  the conference summaries (GET /conferences)
 * @param {(id: string) => void} o.onOpen  open one in the detail view
 */
export function setupCalendar({ conferences, onOpen }) {
  const today = isoDay(new Date().toISOString(), TZ);
  let year = +today.slice(0, 4);
  let month = +today.slice(5, 7);   // 1..12

  function render() {
    setText($("#calendar-title"), t("calendar.month", { month, year }));
    const byDay = new Map();
    for (const c of conferences()) {
      const d = isoDay(c.starts_at, c.timezone);
      if (!byDay.has(d)) byDay.set(d, []);
      byDay.get(d).push(c);
    }
    for (const list of byDay.values()) list.sort((a, b) => a.starts_at.localeCompare(b.starts_at));
    const first = new Date(Date.UTC(year, month - 1, 1));
    const lead = (first.getUTCDay() + 6) % 7;          // days of the previous month before the 1st (Monday first)
    const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const cells = Math.ceil((lead + days) / 7) * 7;
    const head = h("div", { class: "cal-row cal-head", role: "row" },
      ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].map((d) => h("div", { role: "columnheader", class: "cal-dow" }, t(`calendar.${d}`))));
    const rows = [];
    let shown = 0;
    for (let w = 0; w < cells / 7; w++) {
      const row = [];
      for (let i = 0; i < 7; i++) {
        const n = w * 7 + i - lead + 1;
        if (n < 1 || n > days) {
          row.push(h("div", { class: "cal-day outside", role: "gridcell", "aria-hidden": "true" }));
          continue;
        }
        const iso = `${year}-${String(month).padStart(2, "0")}-${String(n).padStart(2, "0")}`;
        const list = byDay.get(iso) || [];
        shown += list.length;
        row.push(h("div", { class: `cal-day${iso === today ? " today" : ""}${list.length ? " busy" : ""}`, role: "gridcell", dataset: { day: iso } },
          h("span", { class: "cal-date" }, h("span", { class: "cal-dow-inline" }, t(`calendar.${["sun", "mon", "tue", "wed", "thu", "fri", "sat"][new Date(Date.UTC(year, month - 1, n)).getUTCDay()]}`) + " "), String(n)),
          list.map((c) => h("button", { type: "button", class: `cal-conf phase-${c.phase}`, dataset: { conf: c.conference_id },
            title: `${c.title} · ${t(`phase.${c.phase}`)}`, onclick: () => onOpen(c.conference_id) },
          h("span", { class: "cal-time" }, clock(c.starts_at, c.timezone)), " ", c.title))));
      }
      rows.push(h("div", { class: "cal-row", role: "row" }, row));
    }
    fill($("#calendar"), head, rows);
    $("#calendar-empty").hidden = shown > 0;
  }

  const step = (delta) => {
    month += delta;
    if (month < 1) { month = 12; year -= 1; }
    if (month > 12) { month = 1; year += 1; }
    render();
  };
  $("#calendar-prev").addEventListener("click", () => step(-1));
  $("#calendar-next").addEventListener("click", () => step(1));
  $("#calendar-today").addEventListener("click", () => { year = +today.slice(0, 4); month = +today.slice(5, 7); render(); });
  $("#tab-calendar").addEventListener("click", render);
  return { render };
}
