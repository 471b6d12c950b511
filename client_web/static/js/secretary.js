// The secretary desk: notes and conclusions per agenda item (following the item under
// discussion), action items for the invited sites, a draft preview of the minutes, the
// follow-up of the series' open tasks (follow_up.js), and after the meeting the minutes'
// approval, distribution and receipts (minutes_panel.js, the second tab of the page).

import { boot, everySecond } from "./app.js";
import { newKey } from "./conn.js";
import { $, batched, fill, h, setText, toast } from "./dom.js";
import { activeItem, itemSeconds, ms, siteName } from "./derive.js";
import { CONFIG, clock, day, duration, isoDay, num, t } from "./i18n.js";
import { followUpBox } from "./follow_up.js";
import { minutesPanel } from "./minutes_panel.js";
import { decksPanel } from "./slides.js";
import { NoteEditor } from "./notes.js";
import { renderPreview } from "./preview.js";
import { keyedList, phaseBadge, renderAgenda, setupTabs, updateActionMeta } from "./ui.js";
import { fold } from "./wall.js";
import { triagePanel } from "./wards_staff.js";

const TZ = CONFIG.tz;
const CONF = CONFIG.conference;
const GENERAL = "__general__";
const { store, conn, run } = boot();
decksPanel({ mount: $(".desk-agenda"), store });   // slide decks attached beforehand (slides.js)
const editors = new Map();          // note_id -> NoteEditor (kept across item switches)
let selected = null;                // item_id, GENERAL, or null before the first state
let lastActive = null;
let previewOpen = false;
const picked = new Set();

const canWrite = () => {
  const roles = store.you ? store.you.roles : [];
  return roles.includes("secretary") || roles.includes("chair");
};

setupTabs($(".desk-right .tabs"), (id) => {
  previewOpen = id === "tab-preview";
  if (previewOpen) renderPreviewNow();
});

// -- the page's two tabs: writing the minutes, and after the meeting their approval -------------

let minutesOpen = location.hash === "#minutes";
let pageTabChosen = location.hash === "#minutes" || location.hash === "#desk";
const selectPageTab = setupTabs($("#page-tabs"), (id) => {
  minutesOpen = id === "tab-minutes";
  if (history.replaceState) history.replaceState(null, "", minutesOpen ? "#minutes" : "#desk");
  minutes.render();
});
for (const tab of document.querySelectorAll("#page-tabs [role=tab]")) tab.addEventListener("click", () => { pageTabChosen = true; });
const minutes = minutesPanel({ store, run, isShown: () => minutesOpen });
// recommendations triage and conference documents (wards_staff.js), the page's third tab
const triage = triagePanel({ store, run, root: $("#wards-triage"), isShown: () => !$("#pane-wards").hidden });
$("#tab-wards").addEventListener("click", () => triage.render());
const followUp = followUpBox({ store, canWrite });
if (minutesOpen) selectPageTab("tab-minutes");

// -- notes ---------------------------------------------------------------------------------------

function storageKey(noteId) {
  return `bc_note:${CONF}:${noteId}`;
}

function editorFor(noteId, { itemId = null, kind = "note" } = {}) {
  let ed = editors.get(noteId);
  if (ed) return ed;
  const note = store.state.notes[noteId] || null;
  ed = new NoteEditor({
    noteId, note, itemId: note ? note.item_id : itemId, kind: note ? note.kind : kind,
    send: (type, fields, key) => conn.send(type, fields, key).catch((err) => {
      if (!["edit_conflict", "note_exists", "unknown_note"].includes(err.code)) toast(t("notes.error", { message: err.message || err.code }), "error");
      throw err;
    }),
    state: () => store.state, storageKey: storageKey(noteId), readonly: !canWrite(),
    onChange: () => renderSaveAll(),
    onRemoved: (e) => { editors.delete(e.noteId); renderSaveAll(); },
    onRestore: (e) => {
      const text = e.draft;
      e.el.remove();
      editors.delete(e.noteId);
      const fresh = newEditor(e.itemId, e.kind);
      fresh.setDraft(text);
      fresh.save();
    },
  });
  if (note) ed._meta(note);
  editors.set(noteId, ed);
  return ed;
}

function newEditor(itemId, kind) {
  const ed = editorFor(newKey("n").replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 60), { itemId, kind });
  renderNotes();
  return ed;
}

function itemOfSelection() {
  return selected === GENERAL ? null : selected;
}

const renderNotes = batched(() => {
  const s = store.state;
  if (!s) return;
  const itemId = itemOfSelection();
  for (const kind of ["note", "conclusion"]) {
    const box = $(`#notes-${kind}`);
    const ids = Object.values(s.notes).filter((n) => n.item_id === itemId && n.kind === kind)
      .sort((a, b) => ms(a.created) - ms(b.created)).map((n) => n.note_id);
    for (const ed of editors.values()) {   // new notes not yet on the server
      if (!s.notes[ed.noteId] && ed.itemId === itemId && ed.kind === kind && !ids.includes(ed.noteId)) ids.push(ed.noteId);
    }
    const els = ids.map((id) => editorFor(id).el);
    if (els.length !== box.children.length || els.some((el, i) => box.children[i] !== el)) {
      box.replaceChildren(...els);
      for (const id of ids) editorFor(id).shown();
    }
    if (!els.length) fill(box, h("p", { class: "empty" }, t(kind === "conclusion" ? "notes.no_conclusions" : "notes.no_notes")));
  }
});

function renderSaveAll() {
  const eds = Array.from(editors.values());
  const el = $("#save-all");
  let status = "saved";
  if (eds.some((e) => e.status === "conflict")) status = "conflict";
  else if (eds.some((e) => e.status === "error")) status = "error";
  else if (eds.some((e) => e.inflight || e.status === "typing" || e.status === "saving")) status = conn.status === "online" ? "saving" : "waiting";
  el.className = `save-state ${status}`;
  setText(el, t(`notes.all.${status}`));
}

// -- agenda and the selected item ---------------------------------------------------------------

function select(itemId) {
  selected = itemId;
  renderAll();
  renderNotes();
}

const renderAll = batched(() => {
  const s = store.state;
  if (!s) return;
  const now = conn.now();
  phaseBadge($("#phase"), s.phase);
  setText($("#conf-when"), `${day(s.starts_at, TZ)} ${clock(s.starts_at, TZ)}–${clock(s.ends_at, TZ)}`);
  $("#readonly-note").hidden = canWrite();
  for (const b of document.querySelectorAll("#add-note, #add-conclusion, #action-form button")) b.disabled = !canWrite();
  const active = activeItem(s);
  if (selected === null) selected = active ? active.item_id : (s.agenda[0] ? s.agenda[0].item_id : GENERAL);
  if (selected !== GENERAL && !s.agenda.some((i) => i.item_id === selected)) selected = GENERAL;
  renderAgenda($("#agenda"), s, now, agendaOptions);
  $("#general").setAttribute("aria-pressed", String(selected === GENERAL));
  renderItemHead(s, now);
  setText($("#action-link-label"), selected === GENERAL ? t("actions.link_general") : t("actions.link_item"));
  renderAssignees(s);
  renderActions(s);
  if (previewOpen) renderPreviewSoon();
});

const agendaOptions = {
    controls: (div, item) => {
      const li = div.closest("li");
      if (!li.dataset.wired) {
        li.dataset.wired = "1";
        li.setAttribute("role", "option");
        li.tabIndex = 0;
        li.addEventListener("click", () => select(item.item_id));
        li.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") { e.preventDefault(); select(item.item_id); }
        });
      }
      li.setAttribute("aria-selected", String(item.item_id === selected));
    },
};

function renderItemHead(s, now) {
  if (selected === GENERAL) {
    setText($("#item-title"), t("notes.general"));
    setText($("#item-meta"), "");
    setText($("#item-speakers"), "");
    return;
  }
  const item = s.agenda.find((i) => i.item_id === selected);
  if (!item) return;
  setText($("#item-title"), item.title);
  const spent = itemSeconds(item, now);
  setText($("#item-meta"), [
    t(`item.${item.status}`), item.presenter ? t("agenda.presenter", { name: item.presenter }) : "",
    item.runs.length ? t("agenda.spent", { spent: duration(spent), planned: duration(item.planned_minutes * 60) }) : "",
  ].filter(Boolean).join(" · "));
  const turns = s.floor.turns.filter((x) => x.item_id === item.item_id).map((x) =>
    t("notes.turn", { name: siteName(s, x.site), time: clock(x.started, TZ), dur: duration((ms(x.ended) - ms(x.started)) / 1000) }));
  for (const sp of Object.values(s.floor.speakers)) {
    if (sp.item_id === item.item_id) turns.push(t("notes.turn_now", { name: siteName(s, sp.site), time: clock(sp.since, TZ) }));
  }
  setText($("#item-speakers"), turns.length ? t("notes.speakers", { list: turns.join("; ") }) : "");
}

// -- action items --------------------------------------------------------------------------------

function renderAssignees(s) {
  const box = $("#assignees");
  const q = fold($("#assignee-search").value.trim());
  const codes = Object.values(s.sites).filter((x) => x.code !== s.main_site)
    .sort((a, b) => a.name.localeCompare(b.name, "vi")).map((x) => x.code);
  const matching = codes.filter((c) => !q || fold(s.sites[c].name).includes(q) || fold(c).includes(q));
  const key = matching.join(",");
  if (box.dataset.key !== key) {
    box.dataset.key = key;
    fill(box, matching.map((code) => h("label", null,
      h("input", { type: "checkbox", value: code, checked: picked.has(code), onchange: (e) => {
        if (e.target.checked) picked.add(code); else picked.delete(code);
        setText($("#assignee-count"), t("actions.picked", { n: num(picked.size) }));
      } }), " ", s.sites[code].name)));
  }
  setText($("#assignee-count"), t("actions.picked", { n: num(picked.size) }));
}

function renderActions(s) {
  const today = isoDay(conn.now(), TZ);
  const items = Object.values(s.actions).sort((a, b) => ms(b.created) - ms(a.created));
  const ul = $("#action-list");
  if (!items.length) {
    fill(ul, h("li", { class: "empty" }, t("actions.none_yet")));
    return;
  }
  if (ul.querySelector(".empty")) ul.replaceChildren();
  keyedList(ul, items, (a) => a.action_id, () => h("li", { class: "card action-card" },
    h("h3", { class: "action-title" }), h("p", { class: "meta action-who" }),
    h("p", { class: "meta" }, h("span", { class: "chip action-status" }), " ", h("span", { class: "action-due" })),
    h("p", { class: "meta action-item" }), h("ol", { class: "updates" }), h("div", { class: "card-actions" })),
  (li, a) => {
    setText(li.querySelector(".action-title"), a.title);
    setText(li.querySelector(".action-who"), t("actions.assigned_to", { names: a.assignees.map((c) => siteName(s, c)).join(", ") }));
    updateActionMeta(li, a, today);
    const item = a.item_id ? s.agenda.find((i) => i.item_id === a.item_id) : null;
    setText(li.querySelector(".action-item"), item ? t("actions.under_item", { title: item.title }) : "");
    fill(li.querySelector(".updates"), a.updates.slice(-2).map((u) => h("li", null,
      `${siteName(s, u.by)} · ${day(u.at, TZ)}${u.percent !== null ? ` · ${u.percent}%` : ""}: `, u.text)));
    const want = `${a.status}|${a.confirmed}|${canWrite()}`;
    const box = li.querySelector(".card-actions");
    if (box.dataset.want !== want) {
      box.dataset.want = want;
      const btns = [];
      if (canWrite() && !a.confirmed && a.status !== "cancelled") {
        btns.push(h("button", { type: "button", class: "btn btn-ok btn-small", onclick: () => run("confirm_action_done", { action_id: a.action_id }) }, t("actions.confirm_done")));
      }
      if (canWrite() && (a.status === "open" || a.status === "in_progress")) {
        btns.push(h("button", { type: "button", class: "btn btn-small", onclick: () => {
          if (confirm(t("actions.cancel_confirm"))) run("cancel_action", { action_id: a.action_id });
        } }, t("actions.cancel")));
      }
      if (canWrite() && (a.status === "done" || a.status === "cancelled")) {
        btns.push(h("button", { type: "button", class: "btn btn-small", onclick: () => run("reopen_action", { action_id: a.action_id }) }, t("actions.reopen")));
      }
      fill(box, btns);
    }
  });
}

$("#assignee-search").addEventListener("input", () => renderAssignees(store.state));
$("#action-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  if (!form.reportValidity()) return;
  if (!picked.size) {
    toast(t("actions.pick_one"), "error");
    $("#assignee-search").focus();
    return;
  }
  const fields = {
    action_id: newKey("a").replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 60),
    title: $("#action-title").value.trim(),
    description: $("#action-desc").value.trim(),
    assignees: Array.from(picked),
    due: $("#action-due").value,
  };
  if ($("#action-link").checked && selected !== GENERAL) fields.item_id = selected;
  await run("create_action_item", fields);
  toast(t("actions.assigned"), "ok");
  form.reset();
  picked.clear();
  $("#action-due").value = defaultDue();
  $("#assignees").dataset.key = "";
  renderAssignees(store.state);
});

function defaultDue() {
  const d = new Date(conn.now() + 7 * 86400000);
  return isoDay(d.getTime(), TZ);
}

// -- preview -------------------------------------------------------------------------------------

function renderPreviewNow() {
  if (store.state) renderPreview($("#preview"), store.state, conn.now(), { tz: TZ });
}
let previewTimer = null;
function renderPreviewSoon() {
  if (previewTimer) return;
  previewTimer = setTimeout(() => { previewTimer = null; renderPreviewNow(); }, 1000);
}

// -- wiring --------------------------------------------------------------------------------------

$("#add-note").addEventListener("click", () => newEditor(itemOfSelection(), "note").textarea.focus());
$("#add-conclusion").addEventListener("click", () => newEditor(itemOfSelection(), "conclusion").textarea.focus());
$("#general").addEventListener("click", () => select(GENERAL));

function restoreDrafts() {
  const prefix = `bc_note:${CONF}:`;
  for (let i = 0; i < localStorage.length; i++) {
    const k = localStorage.key(i);
    if (!k || !k.startsWith(prefix)) continue;
    const noteId = k.slice(prefix.length);
    if (editors.has(noteId)) continue;
    try {
      const kept = JSON.parse(localStorage.getItem(k));
      editorFor(noteId, { itemId: kept.item_id ?? null, kind: kept.kind || "note" });
    } catch { /* a broken entry: leave it */ }
  }
}

store.on((ev, s) => {
  if (ev.type === "welcome" && !pageTabChosen) {   // after the meeting, the page opens on the minutes
    pageTabChosen = true;
    if (s.phase === "ended") selectPageTab("tab-minutes");
  }
  minutes.onEvent(ev, s);
  followUp.onEvent(ev, s);
  if (ev.type === "welcome") {
    if (!$("#action-due").value) $("#action-due").value = defaultDue();
    $("#action-due").min = isoDay(conn.now(), TZ);
    restoreDrafts();
    for (const ed of editors.values()) {   // after a snapshot: compare each editor with the server
      const note = s.notes[ed.noteId];
      if (note && note.rev !== ed.base.rev) ed.serverChanged(note, null);
    }
  }
  if (ev.type === "note_added" || ev.type === "note_edited" || ev.type === "note_deleted") {
    const ed = editors.get(ev.note_id);
    if (ed) ed.serverChanged(s.notes[ev.note_id] || null, ev.key);
    renderNotes();
  }
  const active = activeItem(s);
  const activeId = active ? active.item_id : null;
  if (activeId !== lastActive) {
    lastActive = activeId;
    const typing = document.activeElement && document.activeElement.classList.contains("note-text");
    if (activeId && $("#follow").checked && !typing) selected = activeId;
    else if (activeId && $("#follow").checked && typing) toast(t("notes.item_changed", { title: active.title }), "info");
    renderNotes();
  }
  renderAll();
});
conn.onStatus = ((orig) => (status, detail) => { orig(status, detail); renderSaveAll(); })(conn.onStatus);
everySecond(() => {
  if (store.state) {
    renderAgenda($("#agenda"), store.state, conn.now(), agendaOptions);
    renderItemHead(store.state, conn.now());
  }
});
window.addEventListener("beforeunload", (e) => {
  for (const ed of editors.values()) ed.save.flush();
  if (Array.from(editors.values()).some((ed) => ed.inflight)) e.preventDefault();
});
