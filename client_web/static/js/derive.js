// Figures the pages show that are folds of the state (as scheduling/reports.py computes them).

/** Milliseconds since the epoch of a Python ISO date-time (microseconds cut to milliseconds). */
export function ms(iso) {
  if (!iso) return NaN;
  return Date.parse(iso.replace(/(\.\d{3})\d+/, "$1"));
}

/** Like scheduling.reports.totals: sites online and checked in, people present, people expected. */
export function totals(s) {
  const t = { invited: 0, online: 0, checked_in: 0, people: 0, expected: 0 };
  for (const [code, site] of Object.entries(s.sites)) {
    const a = s.attendance[code];
    t.invited += 1;
    t.expected += site.expected_headcount;
    if (a.connection === "online") t.online += 1;
    if (a.checked_in_at !== null) {
      t.checked_in += 1;
      t.people += a.headcount;
    }
  }
  return t;
}

/** The wall's figures: remote sites only (the main bridge is shown apart); people everywhere. */
export function wallTotals(s) {
  const t = { sites: 0, online: 0, reconnecting: 0, offline: 0, checked_in: 0, hands: s.floor.queue.length, people: 0, expected: 0 };
  for (const [code, site] of Object.entries(s.sites)) {
    const a = s.attendance[code];
    if (a.checked_in_at !== null) t.people += a.headcount;
    t.expected += site.expected_headcount;
    if (code === s.main_site) continue;
    t.sites += 1;
    t[a.connection] += 1;
    if (a.checked_in_at !== null) t.checked_in += 1;
  }
  return t;
}

export function activeItem(s) {
  return s.agenda.find((i) => i.status === "active") || null;
}

/** Seconds spent on an agenda item so far (the sum of its runs; a running one up to now). */
export function itemSeconds(item, nowMs) {
  let total = 0;
  for (const r of item.runs) total += ((r.ended ? ms(r.ended) : nowMs) - ms(r.started)) / 1000;
  return Math.max(0, total);
}

export function overrunSeconds(item, nowMs) {
  if (!item.planned_minutes) return 0;
  return Math.max(0, itemSeconds(item, nowMs) - item.planned_minutes * 60);
}

/** Seconds left of a speaker's time limit, or null when unlimited. */
export function secondsLeft(speaker, nowMs) {
  if (!speaker || !speaker.until) return null;
  return Math.max(0, Math.ceil((ms(speaker.until) - nowMs) / 1000));
}

export function speakingSeconds(s, nowMs) {
  const out = {};
  for (const t of s.floor.turns) out[t.site] = (out[t.site] || 0) + (ms(t.ended) - ms(t.started)) / 1000;
  for (const sp of Object.values(s.floor.speakers)) out[sp.site] = (out[sp.site] || 0) + Math.max(0, (nowMs - ms(sp.since)) / 1000);
  return out;
}

export function queuePosition(s, site) {
  const i = s.floor.queue.findIndex((r) => r.site === site);
  return i < 0 ? 0 : i + 1;
}

/** The roll call still open (the newest), or null. */
export function openRollCall(s, nowMs) {
  const open = Object.values(s.roll_calls).filter((rc) => rc.closed_at === null && ms(rc.deadline) >= nowMs);
  open.sort((a, b) => ms(b.opened_at) - ms(a.opened_at));
  return open[0] || null;
}

export function latestRollCall(s) {
  const all = Object.values(s.roll_calls);
  all.sort((a, b) => ms(b.opened_at) - ms(a.opened_at));
  return all[0] || null;
}

/** A site's connection as the pages name it: "never" for a site that has not joined yet (not
 * "offline", which says a link was lost), else its connection (online, reconnecting, offline). */
export function connectionOf(att) {
  return att.connection === "offline" && att.first_joined === null ? "never" : att.connection;
}

export function siteName(s, code) {
  return s.sites[code] ? s.sites[code].name : code;
}

/** Action items assigned to a site, open ones first, by due date. */
export function actionsOf(s, code) {
  const order = { open: 0, in_progress: 1, done: 2, cancelled: 3 };
  return Object.values(s.actions).filter((a) => a.assignees.includes(code))
    .sort((a, b) => order[a.status] - order[b.status] || a.due.localeCompare(b.due));
}

/** Approved minutes versions distributed to a site, newest first, with its receipt. */
export function inboxOf(s, code) {
  const out = [];
  for (const v of s.minutes.approved) {
    const r = (s.minutes.receipts[String(v.version)] || {})[code];
    if (r) out.push({ version: v, receipt: r });
  }
  return out.reverse();
}

export function isOverdue(action, todayIso) {
  return (action.status === "open" || action.status === "in_progress") && todayIso > action.due;
}
