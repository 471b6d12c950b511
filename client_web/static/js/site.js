// The page of a bridge site (and of the main bridge), opened by its join link: the program,
// the floor, check-in, the agenda, the roll call, the inbox of minutes and the site's tasks.

import { boot, everySecond } from "./app.js";
import { $, announce, batched, fill, h, setText, toast, toggle } from "./dom.js";
import {
  actionsOf, activeItem, inboxOf, ms, openRollCall, queuePosition, secondsLeft, siteName,
} from "./derive.js";
import { CONFIG, clock, day, dayTime, duration, isoDay, num, spelled, t } from "./i18n.js";
import { readinessCheck } from "./readiness_check.js";
import { presenterShare, shareOnStage } from "./screen_share.js";
import { siteMedia } from "./site_media.js";
import { presenterControls, slideStage } from "./slides.js";
import { keyedList, phaseBadge, renderAgenda, setupTabs, updateActionMeta } from "./ui.js";
import { sitePanel } from "./wards_site.js";

const SITE = CONFIG.site;
const TZ = CONFIG.tz;
const { store, conn, run } = boot({ token: CONFIG.token });
const stage = siteMedia({ conn, site: SITE, onChange: () => render() });
const { media } = stage;
slideStage({ box: $("#program-box"), store });   // slides: the big picture while presenting (slides.js)
presenterControls({ mount: $(".stage"), store, run, site: SITE, token: CONFIG.token });
// screen share: another site's share is the big picture; the presenter's button (screen_share.js)
const shareView = shareOnStage({ box: $("#program-box"), store, media, own: SITE.code });
presenterShare({ mount: $(".stage"), store, run, media, site: SITE });
let lastSpeakers = "";
let checkinTouched = false;

setupTabs($(".tabs"));
readinessCheck({ store, conn, run, media, site: SITE, tz: TZ });
// recommendations, documents and votes (wards_site.js): renders itself on its events
sitePanel({ store, run, conn, root: $("#wards"), site: SITE.code, token: CONFIG.token, badge: $("#badge-wards") });

// -- rendering ---------------------------------------------------------------------------------

const render = batched(() => {
  const s = store.state;
  if (!s) return;
  const now = conn.now();
  phaseBadge($("#phase"), s.phase);
  document.body.dataset.phase = s.phase;   // a phone shows the invite first before the meeting
  const active = activeItem(s);
  setText($("#active-item"), active ? t("site.active_item", { title: active.title }) : "");
  renderInfo(s, now);
  shareView.render();   // audio only hides it
  renderSpeaking(s);
  renderFloor();
  renderAgenda($("#agenda"), s, now);
  renderCheckin(s);
  renderRollCall(s, now);
  renderInbox(s);
  renderActions(s);
});

/** The conference as an invite says it: when, where the main bridge is, when it opens. */
function renderInfo(s, now) {
  setText($("#info-when"), t("site.when", { day: day(s.starts_at, TZ), from: clock(s.starts_at, TZ), to: clock(s.ends_at, TZ) }));
  const main = s.sites[s.main_site];
  setText($("#info-place"), main ? [main.name, main.parent].filter(Boolean).join(", ") : "");
  const before = s.phase === "scheduled" || s.phase === "rehearsal" || s.phase === "draft";
  const opens = $("#info-opens");
  opens.hidden = !before;
  if (before) {
    const left = (ms(s.starts_at) - now) / 1000;
    setText(opens, left > 0 ? t("site.opens_in", { left: spelled(left, { seconds: left < 3600 }), time: clock(s.starts_at, TZ) })
      : t("site.opens_soon"));
  }
}

function renderSpeaking(s) {
  const speakers = Object.keys(s.floor.speakers);
  const box = $("#now-speaking");
  const names = speakers.map((c) => siteName(s, c)).join(", ");
  if (speakers.length) {
    fill(box, h("span", { class: "label" }, t("site.now_speaking")), " ", h("strong", null, names));
  } else {
    fill(box, h("span", { class: "label" }, t("site.program_from")), " ", h("strong", null, siteName(s, s.main_site)));
  }
  stage.setSpeakers(speakers);
  stage.setPhase(s.phase);
  const key = speakers.join(",");
  if (key !== lastSpeakers) {
    lastSpeakers = key;
    if (speakers.length) announce(t("site.now_speaking") + " " + names);
  }
  setText($("#program-placeholder-text"), s.phase === "ended" ? t("site.ended")
    : s.phase === "cancelled" ? t("site.cancelled")
    : media.poorLink ? t("media.poor_link")
    : media.audioOnly ? t("media.audio_only_on")
    : s.phase === "live" ? t("site.no_signal") : t("site.waiting_start"));
}

function renderFloor() {
  const s = store.state;
  if (!s) return;
  const state = $("#floor-state");
  const now = conn.now();
  if (SITE.main) {
    const speakers = Object.keys(s.floor.speakers).map((c) => siteName(s, c));
    setText(state, speakers.length ? t("main.speaker", { names: speakers.join(", ") }) : t("main.no_speaker"));
    media.setFloor(s.phase === "live" || s.phase === "rehearsal");
    return;
  }
  const speaker = s.floor.speakers[SITE.code];
  const pos = queuePosition(s, SITE.code);
  const live = s.phase === "live";
  const panel = state.closest(".floor-panel");
  toggle(panel, "speaking", !!speaker);
  toggle(panel, "waiting", !speaker && pos > 0);
  toggle(panel, "muted", !!speaker && s.floor.muted.includes(SITE.code));
  const over = s.phase === "ended" || s.phase === "cancelled";
  $("#floor-request").hidden = !!speaker || pos > 0 || over;
  $("#floor-request").disabled = !live || conn.status !== "online";
  $("#floor-topic").hidden = !!speaker || pos > 0 || over;
  $("#floor-withdraw").hidden = !(pos > 0);
  $("#floor-release").hidden = !speaker;
  $("#self-box").hidden = !speaker;
  media.setFloor(!!speaker);
  if (speaker) {
    const left = secondsLeft(speaker, now);
    const muted = s.floor.muted.includes(SITE.code);
    // one statement of the truth: muted, no device, no media link, or live
    const what = muted ? t("floor.you_muted")
      : media.devices === "none" ? t("floor.no_device")
      : media.state !== "connected" ? t("floor.media_down")
      : t("floor.you_live");
    setText(state, (left === null ? t("floor.you_have") : t("floor.you_have_left", { left: duration(left) })) + " " + what);
    toggle(panel, "ending", left !== null && left <= 15);
  } else if (pos > 0) {
    setText(state, t("floor.queued", { n: pos }));
  } else if (over) {
    setText(state, t(s.phase === "ended" ? "floor.ended" : "floor.cancelled"));
  } else if (!live) {
    setText(state, t("floor.not_live"));
  } else {
    setText(state, t("floor.idle"));
  }
}

function renderCheckin(s) {
  const att = s.attendance[SITE.code];
  const open = s.phase === "rehearsal" || s.phase === "live";
  setText($("#checkin-status"), att && att.checked_in_at
    ? t("checkin.done", { n: num(att.headcount), time: clock(att.checked_in_at, TZ) })
    : t("checkin.not_yet"));
  toggle($("#checkin-status"), "ok-text", !!(att && att.checked_in_at));
  setText($("#checkin-expected"), t("checkin.expected", { n: num(SITE.expected) }));
  setText($("#checkin-note"), open ? "" : s.phase === "ended" || s.phase === "cancelled" ? t("checkin.ended") : t("checkin.closed"));
  $("#checkin-submit").disabled = !open;
  const badge = $("#badge-checkin");
  badge.hidden = !!(att && att.checked_in_at) || !open;
  setText(badge, "!");
  if (att && !checkinTouched) {   // fill the form from what was reported (once, before any typing)
    checkinTouched = true;
    if (att.checked_in_at) $("#checkin-headcount").value = att.headcount;
    for (const leader of att.leaders) addLeader(leader);
  }
}

function renderRollCall(s, now) {
  const rc = openRollCall(s, now);
  const banner = $("#rollcall-banner");
  banner.hidden = !rc;
  if (!rc) return;
  const left = Math.max(0, Math.round((Date.parse(rc.deadline) - now) / 1000));
  setText($("#rollcall-left"), t("rollcall.left", { left: duration(left), time: clock(rc.deadline, TZ) }));
  const answered = rc.answers[SITE.code];
  const done = $("#rollcall-done");
  done.hidden = answered === undefined;
  if (answered !== undefined) setText(done, t("rollcall.answered", { n: num(answered) }));
  const input = $("#rollcall-headcount");
  if (!input.value && document.activeElement !== input) {
    const att = s.attendance[SITE.code];
    if (att && att.checked_in_at) input.value = att.headcount;
  }
}

function renderInbox(s) {
  const items = inboxOf(s, SITE.code);
  const waiting = items.filter((x) => !x.receipt.acknowledged_at).length;
  const badge = $("#badge-inbox");
  badge.hidden = waiting === 0;
  setText(badge, num(waiting));
  const ul = $("#inbox");
  if (!items.length) {
    fill(ul, h("li", { class: "empty" }, t("inbox.empty")));
    return;
  }
  if (ul.querySelector(".empty")) ul.replaceChildren();
  keyedList(ul, items, (x) => x.version.version, (x) => {
    const v = x.version.version;
    return h("li", { class: "card" },
      h("h3", null, t("inbox.title", { version: v })),
      h("p", { class: "meta" }),
      h("p", { class: "receipt" }),
      h("div", { class: "card-actions" },
        h("a", { class: "btn btn-small open-minutes", href: minutesUrl(v), target: "_blank", rel: "noopener noreferrer",
          onclick: () => run("open_minutes", { version: v, site: SITE.code }, { quiet: true }).catch(() => {}) }, t("inbox.open")),
        h("button", { type: "button", class: "btn btn-primary btn-small ack-minutes",
          onclick: () => run("acknowledge_minutes", { version: v, site: SITE.code }).then(() => toast(t("inbox.acked"), "ok")) }, t("inbox.ack"))));
  }, (li, x) => {
    setText(li.querySelector(".meta"), t("inbox.approved", { time: dayTime(x.version.approved_at, TZ) }));
    const r = x.receipt;
    const text = r.acknowledged_at ? t("inbox.state.acknowledged", { time: dayTime(r.acknowledged_at, TZ) })
      : r.opened_at ? t("inbox.state.opened") : t("inbox.state.delivered");
    const reminded = !r.acknowledged_at && r.reminders ? " " + t("inbox.reminded", { n: r.reminders, time: dayTime(r.reminded_at, TZ) }) : "";
    setText(li.querySelector(".receipt"), text + reminded);
    toggle(li, "acknowledged", !!r.acknowledged_at);
    li.querySelector(".ack-minutes").hidden = !!r.acknowledged_at;
  });
}

function inviteUrl() {
  // The site's own invite, with its join link in it (server/minutes_api.py conference_invite).
  return `/api/v1/conferences/${encodeURIComponent(CONFIG.conference)}/invite.ics?token=${encodeURIComponent(CONFIG.token)}`;
}
$("#info-ics").href = inviteUrl();

function minutesUrl(version) {
  // The server renders approved minutes for the sites they were sent to (docs/documents.md).
  return `/api/v1/conferences/${encodeURIComponent(CONFIG.conference)}/minutes/${version}.html?token=${encodeURIComponent(CONFIG.token)}`;
}

function renderActions(s) {
  const items = actionsOf(s, SITE.code);
  const today = isoDay(conn.now(), TZ);
  const open = items.filter((a) => a.status === "open" || a.status === "in_progress").length;
  const badge = $("#badge-actions");
  badge.hidden = open === 0;
  setText(badge, num(open));
  const ul = $("#actions");
  if (!items.length) {
    fill(ul, h("li", { class: "empty" }, t("actions.empty")));
    return;
  }
  if (ul.querySelector(".empty")) ul.replaceChildren();
  keyedList(ul, items, (a) => a.action_id, (a) => actionCard(a.action_id), (li, a) => updateActionCard(li, a, today, s));
}

function actionCard(actionId) {
  const form = h("form", { class: "form progress-form" },
    h("label", { for: `p-text-${actionId}` }, t("actions.progress_text")),
    h("textarea", { id: `p-text-${actionId}`, rows: 3, maxlength: 5000, required: true }),
    h("div", { class: "row" },
      h("label", { for: `p-pct-${actionId}` }, t("actions.percent")),
      h("input", { id: `p-pct-${actionId}`, type: "number", min: 0, max: 100, inputmode: "numeric", class: "short" }),
      h("label", { class: "check" }, h("input", { type: "checkbox", class: "p-done" }), " ", t("actions.mark_done"))),
    h("button", { type: "submit", class: "btn btn-primary btn-small" }, t("actions.send")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const text = form.querySelector("textarea").value.trim();
    if (!text) return form.querySelector("textarea").focus();
    const pct = form.querySelector('input[type="number"]').value;
    const fields = { action_id: actionId, site: SITE.code, text };
    if (pct !== "") fields.percent = Math.max(0, Math.min(100, parseInt(pct, 10)));
    fields.status = form.querySelector(".p-done").checked ? "done" : "in_progress";
    const btn = form.querySelector("button");
    btn.disabled = true;
    try {
      await run("post_progress", fields);
      form.reset();
      toast(t("actions.sent"), "ok");
    } finally {
      btn.disabled = false;
    }
  });
  return h("li", { class: "card action-card" },
    h("h3", { class: "action-title" }),
    h("p", { class: "action-desc" }),
    h("p", { class: "meta" }, h("span", { class: "chip action-status" }), " ", h("span", { class: "action-due" })),
    h("ol", { class: "updates" }),
    h("details", { class: "progress" }, h("summary", null, t("actions.report")), form));
}

function updateActionCard(li, a, today, s) {
  setText(li.querySelector(".action-title"), a.title);
  setText(li.querySelector(".action-desc"), a.description);
  updateActionMeta(li, a, today);
  const ol = li.querySelector(".updates");
  fill(ol, a.updates.slice(-3).map((u) => h("li", null,
    h("span", { class: "muted" }, dayTime(u.at, TZ) + (u.percent !== null ? ` · ${u.percent}%` : "") + " — "), u.text)));
  li.querySelector(".progress").hidden = !(a.status === "open" || a.status === "in_progress");
  void s;
}

// -- forms -------------------------------------------------------------------------------------

function addLeader(leader = { name: "", title: "", present: true, reason: "" }) {
  const n = $("#leaders").children.length + 1;
  const id = `leader-${Date.now().toString(36)}-${n}`;
  const reason = h("input", { id: `${id}-reason`, class: "leader-reason", maxlength: 500, value: leader.reason || "",
    placeholder: t("checkin.reason_ph") });
  const present = h("input", { type: "checkbox", id: `${id}-present`, class: "leader-present", checked: leader.present });
  const reasonLabel = h("label", { for: `${id}-reason`, class: "offscreen" }, t("checkin.reason"));
  const sync = () => { reason.hidden = present.checked; reason.required = !present.checked; };
  present.addEventListener("change", sync);
  const row = h("div", { class: "leader-row" },
    h("label", { for: `${id}-name`, class: "offscreen" }, t("checkin.leader_name")),
    h("input", { id: `${id}-name`, class: "leader-name", maxlength: 200, value: leader.name, placeholder: t("checkin.leader_name"), required: true }),
    h("label", { for: `${id}-title`, class: "offscreen" }, t("checkin.leader_title")),
    h("input", { id: `${id}-title`, class: "leader-title", maxlength: 200, value: leader.title, placeholder: t("checkin.leader_title") }),
    h("label", { class: "check" }, present, " ", t("checkin.present")),
    reasonLabel, reason,
    h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": t("checkin.remove_leader"),
      onclick: () => row.remove() }, "×"));
  sync();
  $("#leaders").append(row);
  return row;
}

$("#leader-add").addEventListener("click", () => addLeader().querySelector(".leader-name").focus());

$("#checkin-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  checkinTouched = true;
  const form = e.currentTarget;
  if (!form.reportValidity()) return;
  const leaders = Array.from(document.querySelectorAll(".leader-row")).map((row) => ({
    name: row.querySelector(".leader-name").value.trim(),
    title: row.querySelector(".leader-title").value.trim(),
    present: row.querySelector(".leader-present").checked,
    reason: row.querySelector(".leader-present").checked ? "" : row.querySelector(".leader-reason").value.trim(),
  })).filter((l) => l.name);
  const headcount = parseInt($("#checkin-headcount").value, 10);
  await run("check_in", { site: SITE.code, headcount, leaders });
  toast(t("checkin.sent"), "ok");
});

$("#rollcall-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const rc = openRollCall(store.state, conn.now());
  if (!rc) return;
  const headcount = parseInt($("#rollcall-headcount").value, 10);
  if (Number.isNaN(headcount)) return $("#rollcall-headcount").focus();
  await run("answer_roll_call", { round_id: rc.round_id, site: SITE.code, headcount });
});

if (!SITE.main) {
  $("#floor-request").addEventListener("click", async () => {
    const active = activeItem(store.state);
    const fields = { site: SITE.code, topic: $("#floor-topic").value.trim() };
    if (active) fields.item_id = active.item_id;
    await run("request_floor", fields);
    $("#floor-topic").value = "";
    $("#floor-withdraw").focus();
  });
  $("#floor-withdraw").addEventListener("click", () => run("withdraw_floor_request", { site: SITE.code }));
  $("#floor-release").addEventListener("click", () => run("release_floor", { site: SITE.code }));
}

$("#audio-only").checked = localStorage.getItem("bc_audio_only") === "1";
media.setAudioOnly($("#audio-only").checked);
$("#audio-only").addEventListener("change", (e) => {
  localStorage.setItem("bc_audio_only", e.target.checked ? "1" : "0");
  media.setAudioOnly(e.target.checked);
});

store.on((ev) => {
  if (ev.type === "welcome") media.attach();
  if (ev.type === "floor_granted" && ev.site === SITE.code) toast(t("floor.granted_toast"), "ok");
  if (ev.type === "action_item_created" && ev.assignees.includes(SITE.code)) toast(t("actions.new_toast", { title: ev.title }), "info");
  if (ev.type === "minutes_distributed" && ev.sites.includes(SITE.code)) toast(t("inbox.new_toast"), "info");
  if (ev.type === "minutes_reminded" && ev.sites.includes(SITE.code)) toast(t("inbox.remind_toast"), "info");
  render();
});
conn.onStatus = ((orig) => (status, detail) => { orig(status, detail); render(); })(conn.onStatus);
// the media servers lost Redis (media_relays): a short notice, and one when they are back
let relaysDown = false;
conn.onMessage = ((orig) => (m) => {
  orig(m);
  if (m.type !== "media_relays" || m.store_ok !== relaysDown) return;
  relaysDown = !m.store_ok;
  toast(t(m.store_ok ? "site.relays_back" : "site.relays_waiting"), m.store_ok ? "info" : "error");
})(conn.onMessage);
everySecond(() => {
  if (!store.state) return;
  renderFloor();
  renderRollCall(store.state, conn.now());
  renderAgenda($("#agenda"), store.state, conn.now());
  renderInfo(store.state, conn.now());
});
