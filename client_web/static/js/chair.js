// The chair console: the site wall (hundreds of tiles, updated one by one), the floor
// queue and speakers with their countdown, the agenda with its timers, the roll call.

import { boot, everySecond } from "./app.js";
import { $, announce, batched, fill, h, setText, toast, toggle } from "./dom.js";
import {
  activeItem, connectionOf, itemSeconds, latestRollCall, ms, openRollCall, overrunSeconds, secondsLeft, siteName, wallTotals,
} from "./derive.js";
import { CONFIG, clock, day, duration, num, spelled, t } from "./i18n.js";
import { chairMedia } from "./chair_media.js";
import { renderReadiness } from "./readiness_wall.js";
import { chairShareControl, shareOnStage } from "./screen_share.js";
import { chairControls, slideStage } from "./slides.js";
import { phaseBadge, renderAgenda } from "./ui.js";
import { Wall } from "./wall.js";
import { chairWardsPanel } from "./wards_staff.js";

const TZ = CONFIG.tz;
const { store, conn, run } = boot();
slideStage({ box: $("#program-video").closest(".video-box"), store });   // slides (slides.js)
chairControls({ mount: $("#program-video").closest(".panel"), store, run });
const isChair = () => store.state && store.you && store.you.roles.includes("chair");
let selected = null;
let overrunSaid = null;

const wall = new Wall({
  container: $("#wall"), empty: $("#wall-empty"), range: $("#wall-range"), prev: $("#wall-prev"), next: $("#wall-next"),
  search: $("#wall-search"), stateFilter: $("#wall-state"), areaFilter: $("#wall-area"), size: $("#wall-size"),
  onSelect: (code) => select(code),
});
const av = chairMedia({ conn, store, wall, previewSlots: 4, onChange: () => renderPanels() });
// a site's screen share: the big picture of the program box, and the chair's "stop" (screen_share.js)
shareOnStage({ box: $("#program-video").closest(".video-box"), store, media: av.media });
chairShareControl({ mount: $("#program-video").closest(".panel"), store, run });
// recommendations marked for the meeting and quick votes (wards_staff.js)
chairWardsPanel({ store, run, conn, root: $("#wards-panel"), isChair: () => !!isChair() });

// -- rendering -----------------------------------------------------------------------------------

const renderPanels = batched(() => {
  const s = store.state;
  if (!s) return;
  const now = conn.now();
  phaseBadge($("#phase"), s.phase);
  setText($("#conf-when"), `${day(s.starts_at, TZ)} ${clock(s.starts_at, TZ)}–${clock(s.ends_at, TZ)}`);
  $("#btn-rehearse").hidden = s.phase !== "scheduled";
  $("#btn-open").hidden = !(s.phase === "scheduled" || s.phase === "rehearsal");
  $("#btn-end").hidden = s.phase !== "live";
  const chair = isChair();
  $("#readonly-note").hidden = chair;
  document.body.classList.toggle("readonly", !chair);
  for (const b of document.querySelectorAll(".conf-bar button, #btn-mute-all, #btn-next-item, #btn-finish-item, #rollcall-form button")) b.disabled = !chair;
  renderTotals(s);
  renderMain(s);
  renderQueue(s);
  renderSpeakers(s, now);
  renderAgendaPanel(s, now);
  renderRollCall(s, now);
  renderSelected(s);
  renderReadiness(s, TZ);
});

function renderTotals(s) {
  const w = wallTotals(s);
  const box = $("#totals");
  const total = (big, lbl, cls = "") => h("div", { class: `total ${cls}` }, h("span", { class: "big" }, big), h("span", { class: "lbl" }, lbl));
  fill(box,
    total(`${num(w.online)}/${num(w.sites)}`, t("wall.sites_online"), "t-online"),
    total(num(w.people), t("wall.people"), "t-people"),
    total(`${num(w.checked_in)}/${num(w.sites)}`, t("wall.checked_in"), "t-checked"),
    total(num(w.reconnecting + w.offline), t("wall.not_connected"), "t-lost"),
    total(num(w.hands), t("wall.hands"), "t-hands"));
  box.setAttribute("aria-label", t("wall.summary", {
    online: num(w.online), sites: num(w.sites), people: num(w.people),
  }));
}

function renderMain(s) {
  const main = s.attendance[s.main_site];
  setText($("#main-bridge"), t("chair.main_bridge", { name: siteName(s, s.main_site), state: t(`state.${connectionOf(main)}`) }));
  setText($("#main-state"), main.connection === "online" ? t("chair.program_waiting_media") : t("chair.main_offline"));
}

function renderQueue(s) {
  const ol = $("#queue");
  setText($("#queue-count"), num(s.floor.queue.length));
  if (!s.floor.queue.length) {
    fill(ol, h("li", { class: "empty" }, t("queue.empty")));
    return;
  }
  const chair = isChair();
  fill(ol, s.floor.queue.map((r, i) => {
    const att = s.attendance[r.site];
    const item = r.item_id ? s.agenda.find((x) => x.item_id === r.item_id) : null;
    return h("li", { dataset: { site: r.site } },
      h("span", { class: "pos" }, `${i + 1}.`),
      h("div", null,
        h("div", { class: "qname" }, siteName(s, r.site)),
        h("div", { class: "qmeta" }, [
          t("queue.since", { time: clock(r.at, TZ) }),
          att.checked_in_at ? ` · ${t("wall.n_people", { n: num(att.headcount) })}` : "",
          r.topic ? ` · ${r.topic}` : "",
          item ? ` · ${item.title}` : "",
        ].join(""))),
      h("div", { class: "btn-row" },
        h("button", { type: "button", class: "btn btn-ok btn-small grant", disabled: !chair || s.phase !== "live",
          onclick: () => grant(r.site, "grant_floor") }, t("queue.grant")),
        h("button", { type: "button", class: "btn btn-small dismiss", disabled: !chair,
          onclick: () => run("withdraw_floor_request", { site: r.site }) }, t("queue.dismiss"))));
  }));
}

function renderSpeakers(s, now) {
  const box = $("#speakers");
  const speakers = Object.values(s.floor.speakers);
  if (!speakers.length) {
    if (!box.querySelector(".no-speaker")) fill(box, h("div", { class: "speaker-box no-speaker" }, h("p", { class: "muted" }, t("chair.no_speaker"))));
    return;
  }
  const chair = isChair();
  const key = speakers.map((sp) => sp.site + sp.since).join("|") + String(chair);
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    fill(box, speakers.map((sp) => h("div", { class: "speaker-box has-speaker", dataset: { site: sp.site } },
      h("div", { class: "speaker-name" }, siteName(s, sp.site)),
      sp.topic ? h("div", { class: "muted" }, sp.topic) : null,
      h("div", { class: "speaker-time" }),
      h("div", { class: "speaker-since muted" }),
      h("div", { class: "btn-row" },
        h("button", { type: "button", class: "btn btn-danger btn-small revoke", disabled: !chair,
          onclick: () => run("revoke_floor", { site: sp.site }) }, t("chair.revoke")),
        h("button", { type: "button", class: "btn btn-small mute-toggle", disabled: !chair,
          onclick: () => run(s.floor.muted.includes(sp.site) ? "unmute_site" : "mute_site", { site: sp.site }) })))));
  }
  for (const el of box.querySelectorAll(".speaker-box[data-site]")) {
    const sp = s.floor.speakers[el.dataset.site];
    if (!sp) continue;
    const left = secondsLeft(sp, now);
    const time = el.querySelector(".speaker-time");
    setText(time, left === null ? duration((now - ms(sp.since)) / 1000) : t("chair.left", { left: duration(left) }));
    toggle(time, "ending", left !== null && left <= 15);
    setText(el.querySelector(".speaker-since"), left === null
      ? t("chair.since_unlimited", { time: clock(sp.since, TZ) })
      : t("chair.since_limited", { time: clock(sp.since, TZ), until: clock(sp.until, TZ) }));
    setText(el.querySelector(".mute-toggle"), s.floor.muted.includes(sp.site) ? t("chair.unmute") : t("chair.mute"));
  }
}

function renderAgendaPanel(s, now) {
  const chair = isChair() && s.phase === "live";
  const active = activeItem(s);
  const box = $("#agenda-now");
  if (active) {
    const spent = itemSeconds(active, now);
    const over = overrunSeconds(active, now);
    toggle(box, "overrun", over > 0);
    fill(box, h("div", null, h("strong", null, active.title)),
      h("div", { class: "time" }, `${duration(spent)} / ${duration(active.planned_minutes * 60)}`),
      over > 0 ? h("div", { class: "overrun-warning" }, t("agenda.overrun", { over: duration(over) })) : null);
    if (over > 0 && overrunSaid !== active.item_id) {
      overrunSaid = active.item_id;
      announce(t("agenda.overrun_announce", { title: active.title }));
    }
  } else {
    toggle(box, "overrun", false);
    fill(box, h("span", { class: "muted" }, s.phase === "live" ? t("agenda.none_active")
      : s.phase === "ended" || s.phase === "cancelled" ? t("agenda.ended") : t("agenda.not_live")));
  }
  $("#btn-next-item").disabled = !chair || !nextItem(s);
  $("#btn-finish-item").disabled = !chair || !active;
  renderAgenda($("#agenda"), s, now, {
    controls: (div, item) => {
      const want = `${item.status}|${chair}`;
      if (div.dataset.want === want) return;
      div.dataset.want = want;
      const b = (label, type, cls = "") => h("button", { type: "button", class: `btn btn-small ${cls}`, disabled: !chair,
        onclick: () => run(type, { item_id: item.item_id }) }, label);
      if (item.status === "pending") fill(div, b(t("agenda.start"), "start_item", "start"), b(t("agenda.skip"), "skip_item"));
      else if (item.status === "active") fill(div, b(t("agenda.finish"), "finish_item"));
      else fill(div, b(t("agenda.reopen"), "reopen_item"));
    },
  });
}

function nextItem(s) {
  const active = activeItem(s);
  const from = active ? s.agenda.indexOf(active) + 1 : 0;
  return s.agenda.slice(from).find((i) => i.status === "pending") || s.agenda.find((i) => i.status === "pending") || null;
}

function renderRollCall(s, now) {
  const box = $("#rollcall");
  const rc = latestRollCall(s);
  const open = openRollCall(s, now);
  $("#rollcall-form").hidden = !!open;
  if (!rc) {
    fill(box, h("p", { class: "muted" }, t("rollcall.none")));
    return;
  }
  const remote = Object.keys(s.sites).filter((c) => c !== s.main_site);
  const answered = Object.keys(rc.answers).filter((c) => c !== s.main_site);
  const people = Object.values(rc.answers).reduce((a, b) => a + b, 0);
  const left = Math.max(0, Math.round((ms(rc.deadline) - now) / 1000));
  const missing = remote.filter((c) => !(c in rc.answers));
  fill(box,
    h("p", { class: "tally" }, t("rollcall.tally", { answered: num(answered.length), sites: num(remote.length), people: num(people) })),
    h("p", null, open ? t("rollcall.open_left", { left: duration(left), time: clock(rc.deadline, TZ) })
      : t("rollcall.closed_at", { time: clock(rc.closed_at || rc.deadline, TZ) })),
    missingList(s, missing, !open),
    open ? h("button", { type: "button", class: "btn btn-small", disabled: !isChair(),
      onclick: () => run("close_roll_call", { round_id: rc.round_id }) }, t("rollcall.close")) : null);
}

/** Who has not answered: inline when few; when many, a list to open (always, once closed). */
function missingList(s, missing, closed) {
  if (!missing.length) return closed ? h("p", { class: "ok-text" }, t("rollcall.all_answered")) : null;
  const names = missing.map((c) => siteName(s, c)).sort((a, b) => a.localeCompare(b, "vi"));
  if (names.length <= 12) return h("p", { class: "muted rollcall-missing" }, t("rollcall.missing", { names: names.join(", ") }));
  const box = $("#rollcall");
  const want = closed ? "closed" : "open";
  const before = box.querySelector("details.rollcall-missing");
  const open = before && before.dataset.round === want ? before.open : closed;   // a closed round shows its list; the chair may fold it
  return h("details", { class: "rollcall-missing", open: open || null, dataset: { round: want } },
    h("summary", null, t("rollcall.missing_all", { n: num(names.length) })),
    h("ul", { class: "missing-list" }, names.map((n) => h("li", null, n))));
}

function select(code) {
  selected = selected === code ? null : code;
  wall.setSelected(selected);
  if (store.state) renderSelected(store.state);   // at once: the panel never shows up empty
  renderPanels();
}

function renderSelected(s) {
  const panel = $("#selected");
  if (!selected || !s.sites[selected]) {
    panel.hidden = true;
    return;
  }
  panel.hidden = false;
  const site = s.sites[selected];
  const att = s.attendance[selected];
  const speaking = !!s.floor.speakers[selected];
  const queued = s.floor.queue.some((r) => r.site === selected);
  const muted = s.floor.muted.includes(selected);
  setText($("#selected-name"), site.name);
  const facts = [
    [t("sel.code"), site.code], [t("sel.area"), site.parent || "—"], [t("sel.connection"), t(`state.${connectionOf(att)}`)],
    [t("sel.headcount"), att.checked_in_at ? t("sel.headcount_of", { n: num(att.headcount), expected: num(site.expected_headcount) }) : t("sel.not_checked_in")],
    [t("sel.leaders"), att.leaders.length ? att.leaders.map((l) => `${l.name}${l.title ? ` (${l.title})` : ""}${l.present ? "" : ` — ${t("sel.absent", { reason: l.reason })}`}`).join("; ") : "—"],
    [t("sel.contact"), [site.contact_name, site.contact_phone].filter(Boolean).join(", ") || "—"],
  ];
  fill($("#selected-facts"), facts.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
  const chair = isChair() && s.phase === "live";
  const btn = (label, type, cls = "") => h("button", { type: "button", class: `btn btn-small ${cls}`, disabled: !chair,
    onclick: () => (type === "give_floor" || type === "grant_floor" ? grant(selected, type) : run(type, { site: selected })) }, label);
  const actions = [];
  if (selected !== s.main_site) {
    if (speaking) actions.push(btn(t("chair.revoke"), "revoke_floor", "btn-danger"));
    else if (queued) actions.push(btn(t("queue.grant"), "grant_floor", "btn-ok"));
    else actions.push(btn(t("sel.give_floor"), "give_floor", "btn-ok"));
    actions.push(btn(muted ? t("chair.unmute") : t("chair.mute"), muted ? "unmute_site" : "mute_site"));
    actions.push(av.pictureButton(selected));
  }
  fill($("#selected-actions"), actions);
}

async function grant(site, type) {
  const limit = $("#grant-limit").value;
  const fields = { site };
  if (limit) fields.limit_seconds = parseInt(limit, 10);
  await run(type, fields);
  announce(t("chair.granted", { name: siteName(store.state, site) }));
}

// -- controls ------------------------------------------------------------------------------------

$("#btn-rehearse").addEventListener("click", () => run("start_rehearsal"));
$("#btn-open").addEventListener("click", () => run("open_conference"));
$("#btn-end").addEventListener("click", () => {
  if (confirm(t("chair.end_confirm"))) run("end_conference");
});
$("#btn-mute-all").addEventListener("click", () => run("mute_all"));
$("#btn-next-item").addEventListener("click", () => {
  const item = nextItem(store.state);
  if (item) run("start_item", { item_id: item.item_id });
});
$("#btn-finish-item").addEventListener("click", () => {
  const item = activeItem(store.state);
  if (item) run("finish_item", { item_id: item.item_id });
});
$("#selected-close").addEventListener("click", () => select(null));
$("#rollcall-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const minutes = parseInt($("#rollcall-minutes").value, 10);
  const deadline = new Date(conn.now() + minutes * 60000).toISOString();
  await run("open_roll_call", { round_id: `rc-${Date.now().toString(36)}`, deadline });
  toast(t("rollcall.opened"), "ok");
});

// -- wiring --------------------------------------------------------------------------------------

store.on((ev, s) => {
  if (ev.type === "welcome") {
    wall.poorLinks.clear();   // the server tells the sites on audio only again after each welcome
    wall.mediaStates.clear(); // and the sites' media states
    wall.reset(s);
    av.media.attach();
  } else {
    wall.apply(ev, s);
  }
  av.event(ev);
  if (ev.type === "floor_requested") announce(t("chair.hand_announce", { name: siteName(s, ev.site) }));
  renderPanels();
});
conn.onMessage = ((orig) => (m) => {
  orig(m);
  if (m.type === "levels") av.levels(m);
  if (m.type === "link_quality") wall.linkQuality(m);
  if (m.type === "site_media_state") wall.mediaState(m);
  if (m.type === "media_relays") toast(t(m.store_ok ? "chair.relays_back" : "chair.relays_waiting"), m.store_ok ? "info" : "error");
})(conn.onMessage);
everySecond(() => {
  const s = store.state;
  if (!s) return;
  const now = conn.now();
  setText($("#conf-elapsed"), s.opened_at
    ? t(s.ended_at ? "chair.elapsed_ended" : "chair.elapsed", {
      elapsed: spelled(((s.ended_at ? ms(s.ended_at) : now) - ms(s.opened_at)) / 1000),
      planned: spelled((ms(s.ends_at) - ms(s.starts_at)) / 1000, { seconds: false }),
    })
    : "");
  renderSpeakers(s, now);
  renderAgendaPanel(s, now);
  renderRollCall(s, now);
});
