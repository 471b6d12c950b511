// Pieces several pages show: tabs, keyed lists, the agenda, phase badges, icons.

import { h, setText, toggle } from "./dom.js";
import { isOverdue, itemSeconds, ms } from "./derive.js";
import { clock, day, duration, t } from "./i18n.js";

/** An action item card's status chip, due date and overdue mark (the secretary's desk and a site's page). */
export function updateActionMeta(li, a, today) {
  const status = li.querySelector(".action-status");
  status.className = `chip action-status status-${a.status}`;
  setText(status, t(`action.${a.status}`) + (a.status === "done" && !a.confirmed ? " " + t("action.awaiting_confirm") : ""));
  const overdue = isOverdue(a, today);
  setText(li.querySelector(".action-due"), t(overdue ? "actions.overdue" : "actions.due", { date: day(a.due) }));
  toggle(li, "overdue", overdue);
}

/** ARIA tabs: arrow keys move between tabs, the selected tab shows its panel. */
export function setupTabs(list, onSelect = () => {}) {
  const tabs = Array.from(list.querySelectorAll('[role="tab"]'));
  const select = (tab, focus = true) => {
    for (const other of tabs) {
      const on = other === tab;
      other.setAttribute("aria-selected", String(on));
      other.tabIndex = on ? 0 : -1;
      document.getElementById(other.getAttribute("aria-controls")).hidden = !on;
    }
    if (focus) tab.focus();
    onSelect(tab.id);
  };
  for (const tab of tabs) {
    tab.type = "button";
    tab.addEventListener("click", () => select(tab, false));
    tab.addEventListener("keydown", (e) => {
      const i = tabs.indexOf(tab);
      if (e.key === "ArrowRight" || e.key === "ArrowDown") select(tabs[(i + 1) % tabs.length]);
      else if (e.key === "ArrowLeft" || e.key === "ArrowUp") select(tabs[(i - 1 + tabs.length) % tabs.length]);
      else if (e.key === "Home") select(tabs[0]);
      else if (e.key === "End") select(tabs[tabs.length - 1]);
      else return;
      e.preventDefault();
    });
  }
  return (id) => select(document.getElementById(id), false);
}

/**
 * Keep `parent`'s children in step with `items`, one element per key: new ones are made by
 * `create(item)`, every one is refreshed by `update(el, item)`; elements (and whatever is
 * typed into them) survive re-renders.
 */
export function keyedList(parent, items, key, create, update) {
  const existing = new Map();
  for (const el of Array.from(parent.children)) if (el.dataset.key) existing.set(el.dataset.key, el);
  let cursor = parent.firstElementChild;
  for (const item of items) {
    const k = String(key(item));
    let el = existing.get(k);
    if (el) existing.delete(k);
    else {
      el = create(item);
      el.dataset.key = k;
    }
    update(el, item);
    if (el !== cursor) parent.insertBefore(el, cursor);
    else cursor = cursor.nextElementSibling;
  }
  for (const el of existing.values()) el.remove();
}

export function phaseBadge(el, phase) {
  el.className = `phase phase-${phase}`;
  setText(el, t(`phase.${phase}`));
}

/** The agenda as a list: number, title, presenter, planned and spent time, status. */
export function renderAgenda(ol, s, nowMs, { controls = null } = {}) {
  keyedList(ol, s.agenda, (i) => i.item_id, (item) => {
    const li = h("li", { class: "agenda-item" },
      h("div", { class: "agenda-main" },
        h("span", { class: "agenda-title" }),
        h("span", { class: "agenda-presenter" }),
        h("span", { class: "agenda-docs" })),
      h("div", { class: "agenda-meta" },
        h("span", { class: "agenda-status" }),
        h("span", { class: "agenda-time" })));
    if (controls) li.append(h("div", { class: "agenda-controls" }));
    return li;
  }, (li, item) => {
    toggle(li, "active", item.status === "active");
    toggle(li, "done", item.status === "done");
    toggle(li, "skipped", item.status === "skipped");
    if (item.status === "active") li.setAttribute("aria-current", "step");
    else li.removeAttribute("aria-current");
    setText(li.querySelector(".agenda-title"), item.title);
    setText(li.querySelector(".agenda-presenter"), item.presenter ? t("agenda.presenter", { name: item.presenter }) : "");
    renderDocuments(li.querySelector(".agenda-docs"), item.documents || []);
    setText(li.querySelector(".agenda-status"), t(`item.${item.status}`));
    const spent = itemSeconds(item, nowMs);
    const planned = item.planned_minutes * 60;
    const timeEl = li.querySelector(".agenda-time");
    if (item.runs.length) {
      setText(timeEl, t("agenda.spent", { spent: duration(spent), planned: duration(planned) }));
    } else {
      setText(timeEl, item.planned_minutes ? t("agenda.planned", { minutes: item.planned_minutes }) : "");
    }
    toggle(li, "overrun", planned > 0 && spent > planned);
    if (controls) controls(li.querySelector(".agenda-controls"), item);
  });
}

/** An agenda item's documents (lines the admin typed): a web address becomes a link. */
function renderDocuments(el, docs) {
  const key = docs.join("\n");
  if (el.dataset.key === key) return;
  el.dataset.key = key;
  el.hidden = !docs.length;
  el.replaceChildren();
  if (!docs.length) return;
  el.append(h("span", { class: "muted" }, t("agenda.documents")), " ");
  docs.forEach((doc, i) => {
    if (i) el.append("; ");
    el.append(/^https?:\/\/\S+$/.test(doc) ? h("a", { href: doc, target: "_blank", rel: "noopener noreferrer" }, doc) : doc);
  });
}

/** "08:05" of the first run of an item, for the minutes preview. */
export function itemStartClock(item, tz) {
  return item.runs.length ? clock(item.runs[0].started, tz) : "";
}

export function byStart(a, b) {
  return ms(a.at) - ms(b.at);
}

const SVG = "http://www.w3.org/2000/svg";
const PATHS = {
  hand: "M9 11V5a1.5 1.5 0 013 0v5m0-1V3.5a1.5 1.5 0 013 0V10m0-4.5a1.5 1.5 0 013 0V12m-9-1V8a1.5 1.5 0 00-3 0v6c0 4 3 7 7 7h1c3.5 0 5.5-2.5 6-6l1-4a1.5 1.5 0 00-3-.5L18 15",
  mic: "M12 3a3 3 0 00-3 3v6a3 3 0 006 0V6a3 3 0 00-3-3zM5 11a7 7 0 0014 0M12 18v3",
  micOff: "M3 3l18 18M9 9v3a3 3 0 005 2.2M15 10V6a3 3 0 00-5.7-1.3M5 11a7 7 0 0011.5 5.4M19 11a7 7 0 01-.7 3M12 18v3",
  people: "M16 20v-2a4 4 0 00-4-4H7a4 4 0 00-4 4v2M9.5 10a3.5 3.5 0 100-7 3.5 3.5 0 000 7zM21 20v-2a4 4 0 00-3-3.9M16 3.1a3.5 3.5 0 010 6.8",
  check: "M5 13l4 4L19 7",
};

export function icon(name, label = null) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("class", `icon icon-${name}`);
  if (label) {
    svg.setAttribute("role", "img");
    svg.setAttribute("aria-label", label);
  } else {
    svg.setAttribute("aria-hidden", "true");
  }
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", PATHS[name]);
  svg.append(path);
  return svg;
}
