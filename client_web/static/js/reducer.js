// The conference state on the page: the `welcome` snapshot, then every `event` folded in.
//
// This mirrors scheduling's `evolve` (scheduling/lifecycle.py, agenda.py, attendance.py,
// floor.py, minutes.py, actions.py) over the plain data of server/views.py
// `conference_view`: same keys, same values, date-times kept as the server's ISO strings.
// tests/e2e/test_reducer.py folds a whole recorded conference here and in Python and
// compares the two; change both sides together.

import { WARD_EVOLVE, WARD_STATE } from "./ward_reducer.js";

// scheduling/lifecycle.py EDITABLE_FIELDS (tests/scheduling/test_sched_lifecycle.py checks they agree)
export const EDITABLE_FIELDS = ["title", "kind", "starts_at", "ends_at", "timezone", "chair", "secretaries",
  "observers", "max_speakers", "description", "series"];

const EVOLVE = {
  conference_created(_s, ev) {
    return newState(ev);
  },
  conference_edited(s, ev) {
    for (const k of EDITABLE_FIELDS) {
      if (ev[k] !== undefined && ev[k] !== null) s[k] = ev[k];
    }
  },
  sites_invited(s, ev) {
    for (const site of ev.sites) {
      s.sites[site.code] = site;
      if (!s.attendance[site.code]) s.attendance[site.code] = newAttendance();
      if (site.code !== s.main_site) addSorted(s.floor.muted, site.code);
    }
  },
  sites_uninvited(s, ev) {
    for (const code of ev.codes) {
      delete s.sites[code];
      delete s.attendance[code];
      removeFrom(s.floor.muted, code);
      s.floor.queue = s.floor.queue.filter((r) => r.site !== code);
    }
  },
  phase_changed(s, ev) {
    s.phase = ev.phase;
    if (ev.phase === "live" && s.opened_at === null) s.opened_at = ev.at;
    if (ev.phase === "ended") s.ended_at = ev.at;
  },

  // agenda
  agenda_item_added(s, ev) {
    s.agenda.splice(ev.position, 0, {
      item_id: ev.item_id, title: ev.title, presenter: ev.presenter, planned_minutes: ev.planned_minutes,
      documents: ev.documents, status: "pending", runs: [], follow_up: ev.follow_up || [],
    });
  },
  agenda_item_edited(s, ev) {
    const item = itemOf(s, ev.item_id);
    for (const k of ["title", "presenter", "planned_minutes", "documents"]) {
      if (ev[k] !== undefined && ev[k] !== null) item[k] = ev[k];
    }
  },
  agenda_item_removed(s, ev) {
    s.agenda = s.agenda.filter((i) => i.item_id !== ev.item_id);
  },
  agenda_reordered(s, ev) {
    const byId = Object.fromEntries(s.agenda.map((i) => [i.item_id, i]));
    s.agenda = ev.order.map((id) => byId[id]);
  },
  item_started(s, ev) {
    const item = itemOf(s, ev.item_id);
    item.status = "active";
    item.runs.push({ started: ev.at, ended: null });
  },
  item_finished(s, ev) {
    const item = itemOf(s, ev.item_id);
    item.status = "done";
    const last = item.runs[item.runs.length - 1];
    if (last && last.ended === null) last.ended = ev.at;
  },
  item_skipped(s, ev) {
    itemOf(s, ev.item_id).status = "skipped";
  },
  item_reopened(s, ev) {
    itemOf(s, ev.item_id).status = "pending";
  },

  // attendance
  connection_changed(s, ev) {
    const att = s.attendance[ev.site];
    att.connection = ev.connection;
    if (ev.connection === "online" && att.first_joined === null) att.first_joined = ev.at;
    if (ev.connection === "offline") att.last_left = ev.at;
  },
  checked_in(s, ev) {
    const att = s.attendance[ev.site];
    att.headcount = ev.headcount;
    att.leaders = ev.leaders;
    att.checked_in_at = ev.at;
  },
  roll_call_opened(s, ev) {
    s.roll_calls[ev.round_id] = { round_id: ev.round_id, opened_at: ev.at, deadline: ev.deadline, closed_at: null, answers: {} };
  },
  roll_call_answered(s, ev) {
    s.roll_calls[ev.round_id].answers[ev.site] = ev.headcount;
  },
  roll_call_closed(s, ev) {
    s.roll_calls[ev.round_id].closed_at = ev.at;
  },

  // floor
  floor_requested(s, ev) {
    s.floor.queue.push({ site: ev.site, at: ev.at, item_id: ev.item_id ?? null, topic: ev.topic ?? "" });
  },
  floor_request_withdrawn(s, ev) {
    s.floor.queue = s.floor.queue.filter((r) => r.site !== ev.site);
  },
  floor_granted(s, ev) {
    s.floor.queue = s.floor.queue.filter((r) => r.site !== ev.site);
    const active = s.agenda.find((i) => i.status === "active");
    s.floor.speakers[ev.site] = {
      site: ev.site, since: ev.at, until: ev.limit_seconds ? addSeconds(ev.at, ev.limit_seconds) : null,
      item_id: active ? active.item_id : null, topic: ev.topic ?? "",
    };
  },
  floor_ended(s, ev) {
    const sp = s.floor.speakers[ev.site];
    delete s.floor.speakers[ev.site];
    s.floor.turns.push({ site: ev.site, item_id: sp.item_id, started: sp.since, ended: ev.at, topic: sp.topic });
  },
  site_muted(s, ev) {
    addSorted(s.floor.muted, ev.site);
  },
  site_unmuted(s, ev) {
    removeFrom(s.floor.muted, ev.site);
  },

  // minutes
  note_added(s, ev) {
    s.notes[ev.note_id] = {
      note_id: ev.note_id, item_id: ev.item_id, kind: ev.kind, text: ev.text, author: ev.actor,
      created: ev.at, updated: ev.at, rev: 1,
    };
  },
  note_edited(s, ev) {
    const note = s.notes[ev.note_id];
    note.text = ev.text;
    note.rev = ev.rev;
    note.updated = ev.at;
  },
  note_deleted(s, ev) {
    delete s.notes[ev.note_id];
  },
  minutes_approved(s, ev) {
    const v = { version: ev.version, approved_at: ev.at, approved_by: ev.actor, sha256: ev.sha256, prev_sha256: ev.prev_sha256 };
    if (ev.content !== undefined) v.content = ev.content;   // sites get it stripped
    s.minutes.approved.push(v);
    s.minutes.editing = false;
  },
  correction_opened(s) {
    s.minutes.editing = true;
  },
  minutes_distributed(s, ev) {
    const key = String(ev.version);
    const receipts = (s.minutes.receipts[key] ||= {});
    for (const code of ev.sites) {
      receipts[code] = { delivered_at: ev.at, opened_at: null, acknowledged_at: null, reminded_at: null, reminders: 0 };
    }
    s.minutes.accounts[key] = (s.minutes.accounts[key] || []).concat(ev.accounts || []);
  },
  minutes_opened(s, ev) {
    s.minutes.receipts[String(ev.version)][ev.site].opened_at = ev.at;
  },
  minutes_acknowledged(s, ev) {
    const r = s.minutes.receipts[String(ev.version)][ev.site];
    r.acknowledged_at = ev.at;
    if (r.opened_at === null) r.opened_at = ev.at;
  },
  minutes_reminded(s, ev) {
    for (const code of ev.sites) {
      const r = s.minutes.receipts[String(ev.version)][code];
      r.reminded_at = ev.at;
      r.reminders += 1;
    }
  },
  minutes_mailed(s, ev) {   // sites get it redacted
    const mail = (s.minutes.mail[String(ev.version)] ||= {});
    for (const r of ev.results) mail[r.recipient] = { at: ev.at, error: r.error || "" };
  },

  // action items
  action_item_created(s, ev) {
    s.actions[ev.action_id] = {
      action_id: ev.action_id, item_id: ev.item_id, title: ev.title, description: ev.description,
      assignees: ev.assignees, due: ev.due, created: ev.at, status: "open", confirmed: false, updates: [],
    };
  },
  action_item_edited(s, ev) {
    const a = s.actions[ev.action_id];
    for (const k of ["title", "description", "assignees", "due"]) {
      if (ev[k] !== undefined && ev[k] !== null) a[k] = ev[k];
    }
  },
  progress_posted(s, ev) {
    const a = s.actions[ev.action_id];
    a.updates.push({ by: ev.site, at: ev.at, text: ev.text, percent: ev.percent ?? null });
    a.status = ev.status;
    if (ev.status === "done" && !ev.actor.startsWith("site:")) a.confirmed = true;
  },
  action_done_confirmed(s, ev) {
    const a = s.actions[ev.action_id];
    a.status = "done";
    a.confirmed = true;
  },
  action_reopened(s, ev) {
    const a = s.actions[ev.action_id];
    a.status = "open";
    a.confirmed = false;
  },
  action_cancelled(s, ev) {
    s.actions[ev.action_id].status = "cancelled";
  },

  // the connectivity check before the meeting (scheduling/readiness.py)
  readiness_reported(s, ev) {
    const earlier = s.readiness[ev.site];
    s.readiness[ev.site] = {
      at: ev.at, status: ev.status, problems: ev.problems, camera: ev.camera, microphone: ev.microphone,
      mic_level: ev.mic_level, rtt_ms: ev.rtt_ms, loss_pct: ev.loss_pct, bitrate_kbps: ev.bitrate_kbps,
      relay: ev.relay, via: ev.via, runs: earlier ? earlier.runs + 1 : 1,
    };
  },

  // presentation (scheduling/presentation.py)
  deck_attached(s, ev) {
    s.presentation.decks[ev.deck_id] = {
      deck_id: ev.deck_id, name: ev.name, size: ev.size, pages: ev.pages, sha256: ev.sha256,
      item_id: ev.item_id ?? null, attached_by: ev.actor, attached_at: ev.at,
    };
  },
  deck_detached(s, ev) {
    delete s.presentation.decks[ev.deck_id];
  },
  presenting_allowed(s, ev) {
    addSorted(s.presentation.allowed, ev.site);
  },
  presenting_disallowed(s, ev) {
    removeFrom(s.presentation.allowed, ev.site);
  },
  presentation_started(s, ev) {
    s.presentation.presenter = ev.presenter;
    s.presentation.deck_id = ev.deck_id;
  },
  slide_shown(s, ev) {
    const p = s.presentation;
    const last = p.shown[p.shown.length - 1];
    if (last && last.ended === null) last.ended = ev.at;
    p.deck_id = ev.deck_id;
    p.page = ev.page;
    p.shown.push({ deck_id: ev.deck_id, page: ev.page, presenter: ev.presenter, item_id: ev.item_id ?? null, at: ev.at, ended: null });
  },
  presentation_stopped(s, ev) {
    const p = s.presentation;
    const last = p.shown[p.shown.length - 1];
    if (last && last.ended === null) last.ended = ev.at;
    p.presenter = null;
    p.deck_id = null;
    p.page = 0;
  },
  share_started(s, ev) {
    s.presentation.sharer = ev.site;
  },
  share_stopped(s) {
    s.presentation.sharer = null;
  },

  redacted() {},   // a secretary's note, hidden from sites: only its seq counts

  ...WARD_EVOLVE,   // recommendations, documents, votes (ward_reducer.js)
};

/** Event types this reducer knows (the test checks it knows every one the domain has). */
export const KNOWN = Object.freeze(Object.keys(EVOLVE));

/**
 * Fold one event into the state (in place, like `evolve`) and return the state.
 * `state` is null before `conference_created`. Unknown events only advance `seq`.
 */
export function evolve(state, ev) {
  const fn = EVOLVE[ev.type];
  if (ev.type === "conference_created") state = fn(state, ev);
  else if (state === null) throw new Error(`${ev.type} before conference_created`);
  else if (fn) fn(state, ev);
  else console.warn("bridgeconf: unknown event", ev.type);
  state.seq += 1;
  return state;
}

/** The snapshot of a `welcome`, as state (deep copy; the derived keys are dropped). */
export function fromSnapshot(snapshot) {
  const s = structuredClone(snapshot);
  delete s.totals;
  delete s.speaking_seconds;
  return s;
}

export function newState(ev) {
  const main = ev.main_site;
  return {
    conference_id: ev.conference_id, title: ev.title, kind: ev.kind, starts_at: ev.starts_at, ends_at: ev.ends_at,
    timezone: ev.timezone, main_site: main.code, chair: ev.chair, secretaries: ev.secretaries,
    observers: ev.observers, max_speakers: ev.max_speakers, series: ev.series, description: ev.description,
    phase: "draft", opened_at: null, ended_at: null,
    sites: { [main.code]: main }, attendance: { [main.code]: newAttendance() },
    agenda: [], roll_calls: {}, floor: { queue: [], speakers: {}, muted: [], turns: [] },
    presentation: { decks: {}, allowed: [], presenter: null, deck_id: null, page: 0, shown: [], sharer: null },
    notes: {}, minutes: { approved: [], editing: true, receipts: {}, accounts: {}, mail: {} }, actions: {}, readiness: {}, seq: 0,
    ...WARD_STATE(),
  };
}

function newAttendance() {
  return { connection: "offline", first_joined: null, last_left: null, checked_in_at: null, headcount: 0, leaders: [] };
}

function itemOf(s, id) {
  const item = s.agenda.find((i) => i.item_id === id);
  if (!item) throw new Error(`no agenda item ${id}`);
  return item;
}

function addSorted(list, value) {
  if (list.includes(value)) return;
  list.push(value);
  list.sort();
}

function removeFrom(list, value) {
  const i = list.indexOf(value);
  if (i >= 0) list.splice(i, 1);
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** `iso` + `seconds`, written the way Python's isoformat writes it (same offset, same fraction). */
export function addSeconds(iso, seconds) {
  const m = ISO.exec(iso);
  if (!m) throw new Error(`not an ISO date-time: ${iso}`);
  const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) + seconds * 1000;
  const d = new Date(t);
  const p = (n, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getUTCFullYear(), 4)}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}:` +
    `${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}${m[7] || ""}${m[8] || ""}`;
}
