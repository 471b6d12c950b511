// The administration page: conferences (schedule, invite, agenda, join links), the site
// directory (search, add, CSV import with a checked preview), and accounts. Everything goes
// through the REST API (/api/v1) and is read back after each change.

import { api, command, get } from "./api.js";
import { setupSettings } from "./app.js";
import { $, copyText, fill, h, setText, toast } from "./dom.js";
import { CONFIG, clock, day, errorText, num, t } from "./i18n.js";
import { setupAudit } from "./admin_audit.js";
import { setupCalendar } from "./admin_calendar.js";
import { setupEditForm } from "./admin_edit.js";
import { setupWebhooks } from "./admin_webhooks.js";
import { setupTabs } from "./ui.js";
import { fold } from "./wall.js";

const TZ = "Asia/Ho_Chi_Minh";
const PAGE = 50;
const data = { sites: [], groups: [], accounts: [], conferences: [] };
let current = null;        // the conference shown in detail (its full view)
let links = [];
let sitePage = 0;
let importText = null;
const picked = new Set();

setupSettings();
setupTabs($(".tabs"), (id) => { if (id === "tab-webhooks") setupWebhooks(guarded); });
setupCalendar({ conferences: () => data.conferences, onOpen: (id) => { $("#tab-conferences").click(); openDetail(id); } });
setupAudit();
const edit = setupEditForm({
  current: () => current, conferences: () => data.conferences, zonedIso,
  refresh: async () => { await refreshDetail(); await loadLinks(); await loadConferences(); },
});

/** Run an action; a refusal is shown to the person (and the action gives undefined). */
async function guarded(fn) {
  try {
    return await fn();
  } catch (err) {
    console.warn("bridgeconf:", JSON.stringify(err), String(err));
    toast(errorText(err), "error");
    return undefined;
  }
}

// -- loading -------------------------------------------------------------------------------------

async function loadAll() {
  const [sites, accounts] = await Promise.all([get("/sites"), get("/accounts")]);
  data.sites = sites.sites;
  data.groups = sites.groups;
  data.accounts = accounts.accounts;
  await loadConferences();
  renderSites();
  renderAccounts();
  fillCreateForm();
}

// -- conferences ---------------------------------------------------------------------------------

/** The list of conferences; a failure to list them leaves the rest of the page working. */
async function loadConferences() {
  try {
    data.conferences = (await get("/conferences")).conferences;
    data.conferencesError = null;
  } catch (err) {
    data.conferencesError = err;
  }
  renderConferences();
}

function renderConferences() {
  const tbody = $("#conference-table tbody");
  if (data.conferencesError) {
    fill(tbody, h("tr", null, h("td", { colspan: 6, class: "form-error" }, errorText(data.conferencesError))));
    return;
  }
  if (!data.conferences.length) {
    fill(tbody, h("tr", null, h("td", { colspan: 6, class: "empty" }, t("admin.no_conferences"))));
    return;
  }
  fill(tbody, data.conferences.map((c) => h("tr", { dataset: { conf: c.conference_id } },
    h("td", null, c.title), h("td", null, day(c.starts_at, c.timezone)),
    h("td", null, `${clock(c.starts_at, c.timezone)}–${clock(c.ends_at, c.timezone)}`),
    h("td", { class: "num" }, num(c.sites - 1)),
    h("td", null, h("span", { class: `phase phase-${c.phase}` }, t(`phase.${c.phase}`))),
    h("td", { class: "actions" }, h("button", { type: "button", class: "btn btn-small manage", onclick: () => openDetail(c.conference_id) }, t("admin.manage"))))));
}

function option(value, label, selected = false) {
  return h("option", { value, selected }, label);
}

function groupOptions(select) {
  fill(select, option("remote", t("admin.group_remote")), data.groups.map((g) => option(g, g)));
}

function fillCreateForm() {
  const mains = data.sites.filter((s) => s.kind === "main");
  fill($("#c-main"), mains.map((s) => option(s.code, s.name)));
  const people = data.accounts.filter((a) => !a.disabled);
  fill($("#c-chair"), people.map((a) => option(a.account_id, `${a.name} (${a.account_id})`)));
  fill($("#c-secretaries"), people.map((a) => h("label", null,
    h("input", { type: "checkbox", value: a.account_id }), " ", `${a.name} (${a.account_id})`)));
  groupOptions($("#c-group"));
  groupOptions($("#inv-group"));
  renderPicker();
  if (!$("#c-date").value) {
    const d = new Date(Date.now() + 86400000);
    $("#c-date").value = d.toISOString().slice(0, 10);
  }
}

function renderPicker() {
  const q = fold($("#c-pick-search").value.trim());
  const remote = data.sites.filter((s) => s.kind === "remote" && (!q || fold(s.name).includes(q) || fold(s.code).includes(q)));
  fill($("#c-pick"), remote.map((s) => h("label", null,
    h("input", { type: "checkbox", value: s.code, checked: picked.has(s.code), onchange: (e) => {
      if (e.target.checked) picked.add(s.code); else picked.delete(s.code);
      setText($("#c-pick-count"), t("actions.picked", { n: num(picked.size) }));
    } }), " ", s.name, h("span", { class: "muted" }, ` · ${s.parent}`))));
  setText($("#c-pick-count"), t("actions.picked", { n: num(picked.size) }));
}

/** A short code from a title: its first words without diacritics (short, because the server
 * builds idempotency keys of at most 64 characters from it and a site code). */
function slug(text) {
  const words = fold(text).replace(/[^a-z0-9]+/g, " ").trim().split(" ");
  let out = "";
  for (const w of words) {
    if ((out ? out.length + 1 : 0) + w.length > 20) break;
    out = out ? `${out}-${w}` : w;
  }
  return out || "hoi-nghi";
}

/** "2025-10-03" + "08:00" in `tz` -> ISO 8601 with that zone's offset then. */
export function zonedIso(dateStr, timeStr, tz) {
  const [y, m, d] = dateStr.split("-").map(Number);
  const [hh, mm] = timeStr.split(":").map(Number);
  const wanted = Date.UTC(y, m - 1, d, hh, mm);
  const f = new Intl.DateTimeFormat("en-GB", { timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  let guess = wanted;
  for (let i = 0; i < 3; i++) {
    const p = Object.fromEntries(f.formatToParts(new Date(guess)).map((x) => [x.type, x.value]));
    const shown = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
    guess += wanted - shown;
  }
  const offset = Math.round((wanted - guess) / 60000);
  const sign = offset >= 0 ? "+" : "-";
  const a = Math.abs(offset);
  const pad = (n) => String(n).padStart(2, "0");
  return `${dateStr}T${timeStr}:00${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

$("#new-conference").addEventListener("click", () => {
  $("#create-form").hidden = false;
  $("#detail").hidden = true;
  $("#c-title").focus();
});
$("#create-cancel").addEventListener("click", () => { $("#create-form").hidden = true; });
$("#c-title").addEventListener("input", () => {
  if (!$("#c-id").dataset.touched) $("#c-id").value = `${slug($("#c-title").value)}-${$("#c-date").value.replaceAll("-", "")}`;
});
$("#c-id").addEventListener("input", () => { $("#c-id").dataset.touched = "1"; });
$("#c-pick-search").addEventListener("input", renderPicker);
for (const radio of document.querySelectorAll('input[name="c-invite"]')) {
  radio.addEventListener("change", () => {
    const list = document.querySelector('input[name="c-invite"]:checked').value === "list";
    $("#c-pick-box").hidden = !list;
    $("#c-group").disabled = list;
  });
}

$("#create-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  const err = $("#create-error");
  err.hidden = true;
  if (!form.reportValidity()) return;
  const list = document.querySelector('input[name="c-invite"]:checked').value === "list";
  if (list && !picked.size) {
    err.textContent = t("actions.pick_one");
    err.hidden = false;
    return;
  }
  const id = $("#c-id").value.trim();
  const body = {
    conference_id: id, title: $("#c-title").value.trim(), kind: $("#c-kind").value,
    starts_at: zonedIso($("#c-date").value, $("#c-start").value, TZ), ends_at: zonedIso($("#c-date").value, $("#c-end").value, TZ),
    timezone: TZ, main_site: $("#c-main").value, chair: $("#c-chair").value,
    secretaries: Array.from(document.querySelectorAll("#c-secretaries input:checked")).map((x) => x.value),
    max_speakers: parseInt($("#c-speakers").value, 10) || 1, series: $("#c-series").value.trim(),
  };
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    await api("POST", "/conferences", { ...body, key: `c.${id}`.slice(0, 64) });
    await command(id, "invite_sites", list ? { codes: Array.from(picked), key: `i.${id}`.slice(0, 64) } : { group: $("#c-group").value, key: `i.${id}`.slice(0, 64) });
    if ($("#c-schedule").checked) await command(id, "schedule_conference", { key: `s.${id}`.slice(0, 64) });
    toast(t("admin.created"), "ok");
    form.hidden = true;
    form.reset();
    picked.clear();
    delete $("#c-id").dataset.touched;
    await loadConferences();
    fillCreateForm();
    await openDetail(id);
  } catch (error) {
    err.textContent = errorText(error);
    err.hidden = false;
  } finally {
    button.disabled = false;
  }
});

async function openDetail(id) {
  const view = await guarded(() => get(`/conferences/${encodeURIComponent(id)}`));
  if (!view) return;
  current = view;
  $("#detail").hidden = false;
  $("#create-form").hidden = true;
  renderDetail();
  await loadLinks();
  $("#detail").scrollIntoView({ block: "start" });
}

async function refreshDetail() {
  current = await get(`/conferences/${encodeURIComponent(current.conference_id)}`);
  renderDetail();
}

function renderDetail() {
  const c = current;
  setText($("#detail-title"), c.title);
  const phase = $("#detail-phase");
  phase.className = `phase phase-${c.phase}`;
  setText(phase, t(`phase.${c.phase}`));
  setText($("#detail-when"), `${day(c.starts_at, c.timezone)} ${clock(c.starts_at, c.timezone)}–${clock(c.ends_at, c.timezone)} · ${t("admin.sites_invited", { n: num(Object.keys(c.sites).length - 1) })}`);
  $("#detail-chair").href = `/c/${encodeURIComponent(c.conference_id)}/chair`;
  $("#detail-secretary").href = `/c/${encodeURIComponent(c.conference_id)}/secretary`;
  $("#detail-schedule").hidden = c.phase !== "draft";
  $("#detail-cancel").hidden = !["draft", "scheduled", "rehearsal"].includes(c.phase);
  $("#links-csv").href = `/api/v1/conferences/${encodeURIComponent(c.conference_id)}/links?format=csv`;
  $("#detail-recordings").href = `/c/${encodeURIComponent(c.conference_id)}/recordings`;
  edit.render();
  renderAgendaEditor();
}

$("#detail-schedule").addEventListener("click", () => guarded(async () => {
  await command(current.conference_id, "schedule_conference");
  await refreshDetail();
}));
$("#detail-cancel").addEventListener("click", () => guarded(async () => {
  const reason = prompt(t("admin.cancel_reason"));
  if (reason === null) return;
  await command(current.conference_id, "cancel_conference", { reason });
  await refreshDetail();
}));
$("#invite-form").addEventListener("submit", (e) => {
  e.preventDefault();
  guarded(async () => {
    await command(current.conference_id, "invite_sites", { group: $("#inv-group").value });
    await refreshDetail();
    await loadLinks();
    toast(t("admin.invited"), "ok");
  });
});

// -- agenda editor (drag to reorder) -------------------------------------------------------------

let dragging = null;

function renderAgendaEditor() {
  const ol = $("#agenda-edit");
  const items = current.agenda;
  if (!items.length) {
    fill(ol, h("li", { class: "empty" }, t("admin.agenda_empty")));
    return;
  }
  fill(ol, items.map((item, i) => {
    const title = h("input", { value: item.title, maxlength: 500, "aria-label": t("admin.item_title", { n: i + 1 }) });
    const minutes = h("input", { type: "number", min: 0, max: 1440, value: item.planned_minutes, class: "short", "aria-label": t("admin.item_minutes", { n: i + 1 }) });
    const save = () => guarded(async () => {
      const fields = { item_id: item.item_id };
      if (title.value.trim() && title.value.trim() !== item.title) fields.title = title.value.trim();
      const m = parseInt(minutes.value, 10);
      if (!Number.isNaN(m) && m !== item.planned_minutes) fields.planned_minutes = m;
      if (Object.keys(fields).length > 1) {
        await command(current.conference_id, "edit_agenda_item", fields);
        await refreshDetail();
      }
    });
    title.addEventListener("change", save);
    minutes.addEventListener("change", save);
    const li = h("li", { draggable: "true", dataset: { item: item.item_id } },
      h("span", { class: "drag-handle", "aria-hidden": "true", title: t("admin.drag") }, "⠿"),
      h("span", { class: "muted" }, `${i + 1}.`),
      h("div", null, title, item.presenter ? h("div", { class: "hint" }, t("agenda.presenter", { name: item.presenter })) : null,
        item.documents.length ? h("div", { class: "hint" }, t("admin.documents", { list: item.documents.join("; ") })) : null),
      minutes,
      h("div", { class: "btn-row" },
        h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": t("admin.move_up", { n: i + 1 }), disabled: i === 0, onclick: () => move(i, i - 1) }, "↑"),
        h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": t("admin.move_down", { n: i + 1 }), disabled: i === items.length - 1, onclick: () => move(i, i + 1) }, "↓"),
        h("button", { type: "button", class: "btn btn-ghost btn-small", "aria-label": t("admin.remove_item", { n: i + 1 }), disabled: item.status !== "pending" || item.runs.length > 0,
          onclick: () => guarded(async () => {
            if (!confirm(t("admin.remove_confirm", { title: item.title }))) return;
            await command(current.conference_id, "remove_agenda_item", { item_id: item.item_id });
            await refreshDetail();
          }) }, "×")));
    li.addEventListener("dragstart", (e) => { dragging = i; li.classList.add("dragging"); e.dataTransfer.effectAllowed = "move"; e.dataTransfer.setData("text/plain", item.item_id); });
    li.addEventListener("dragend", () => { dragging = null; li.classList.remove("dragging"); });
    li.addEventListener("dragover", (e) => { e.preventDefault(); li.classList.add("drop-target"); });
    li.addEventListener("dragleave", () => li.classList.remove("drop-target"));
    li.addEventListener("drop", (e) => {
      e.preventDefault();
      li.classList.remove("drop-target");
      if (dragging !== null && dragging !== i) move(dragging, i);
    });
    return li;
  }));
}

function move(from, to) {
  const order = current.agenda.map((i) => i.item_id);
  const [id] = order.splice(from, 1);
  order.splice(to, 0, id);
  return guarded(async () => {
    await command(current.conference_id, "reorder_agenda", { order });
    await refreshDetail();
  });
}

$("#item-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  if (!form.reportValidity()) return;
  const documents = $("#i-docs").value.split("\n").map((x) => x.trim()).filter(Boolean);
  guarded(async () => {
    await command(current.conference_id, "add_agenda_item", {
      item_id: `muc-${Date.now().toString(36)}`, title: $("#i-title").value.trim(), presenter: $("#i-presenter").value.trim(),
      planned_minutes: parseInt($("#i-minutes").value, 10) || 0, documents,
    });
    form.reset();
    $("#i-minutes").value = 15;
    await refreshDetail();
    $("#i-title").focus();
  });
});

// -- join links ----------------------------------------------------------------------------------

async function loadLinks() {
  const out = await guarded(() => get(`/conferences/${encodeURIComponent(current.conference_id)}/links`));
  links = out ? out.links : [];
  renderLinks();
}

function renderLinks() {
  const q = fold($("#links-search").value.trim());
  const rows = links.filter((l) => !q || fold(l.name).includes(q) || fold(l.site).includes(q));
  const shown = rows.slice(0, PAGE);
  fill($("#links-table tbody"), shown.map((l) => h("tr", { dataset: { site: l.site }, class: l.revoked ? "invalid" : "" },
    h("td", null, h("strong", null, l.name), h("div", { class: "hint" }, l.site + (l.site === current.main_site ? ` · ${t("admin.main")}` : ""))),
    h("td", null, l.revoked ? h("span", { class: "muted" }, t("admin.revoked")) : h("span", { class: "link-url" }, l.url)),
    h("td", { class: "actions" },
      h("button", { type: "button", class: "btn btn-small copy-link", disabled: !!l.revoked, onclick: async () => {
        if (await copyText(l.url)) toast(t("admin.copied", { name: l.name }), "ok");
      } }, t("admin.copy")),
      h("button", { type: "button", class: "btn btn-small", disabled: !!l.revoked, onclick: () => guarded(async () => {
        if (!confirm(t("admin.revoke_confirm", { name: l.name }))) return;
        await api("POST", `/conferences/${encodeURIComponent(current.conference_id)}/links/${encodeURIComponent(l.site)}/revoke`, {});
        l.revoked = true;
        renderLinks();
      }) }, t("admin.revoke")),
      h("button", { type: "button", class: "btn btn-small", onclick: () => guarded(async () => {
        const out = await api("POST", `/conferences/${encodeURIComponent(current.conference_id)}/links/${encodeURIComponent(l.site)}/reissue`, {});
        l.url = out.url;
        l.revoked = false;
        renderLinks();
        toast(t("admin.reissued", { name: l.name }), "ok");
      }) }, t("admin.reissue")),
      edit.uninviteButton(l.site, l.name)))));
  setText($("#links-more"), rows.length > shown.length ? t("admin.more_links", { n: num(rows.length - shown.length) }) : "");
}

$("#links-search").addEventListener("input", renderLinks);
$("#links-copy-all").addEventListener("click", async () => {
  const text = links.filter((l) => !l.revoked).map((l) => `${l.name}\t${l.url}`).join("\n");
  if (await copyText(text)) toast(t("admin.copied_all", { n: num(links.length) }), "ok");
});

// -- directory -----------------------------------------------------------------------------------

function renderSites() {
  const q = fold($("#site-search").value.trim());
  const rows = data.sites.filter((s) => !q || fold(s.name).includes(q) || fold(s.code).includes(q) || fold(s.parent).includes(q));
  const pages = Math.max(1, Math.ceil(rows.length / PAGE));
  sitePage = Math.min(sitePage, pages - 1);
  const shown = rows.slice(sitePage * PAGE, (sitePage + 1) * PAGE);
  setText($("#site-count"), num(data.sites.length));
  fill($("#site-table tbody"), shown.map((s) => h("tr", { dataset: { code: s.code } },
    h("td", null, s.code), h("td", null, s.name), h("td", null, s.parent),
    h("td", null, s.kind === "main" ? t("admin.main") : t("admin.remote")),
    h("td", { class: "num" }, num(s.expected_headcount)),
    h("td", null, [s.contact_name, s.contact_phone, s.email].filter(Boolean).join(" · ")),
    h("td", { class: "actions" }, h("button", { type: "button", class: "btn btn-small", onclick: () => guarded(async () => {
      if (!confirm(t("admin.retire_confirm", { name: s.name }))) return;
      await api("DELETE", `/sites/${encodeURIComponent(s.code)}`);
      await reloadSites();
    }) }, t("admin.retire"))))));
  setText($("#site-range"), rows.length ? t("wall.range", { from: num(sitePage * PAGE + 1), to: num(sitePage * PAGE + shown.length), total: num(rows.length) }) : "");
  $("#site-prev").disabled = sitePage === 0;
  $("#site-next").disabled = sitePage >= pages - 1;
  fill($("#area-list"), data.groups.map((g) => h("option", { value: g })));
}

async function reloadSites() {
  const out = await get("/sites");
  data.sites = out.sites;
  data.groups = out.groups;
  renderSites();
  fillCreateForm();
}

$("#site-search").addEventListener("input", () => { sitePage = 0; renderSites(); });
$("#site-prev").addEventListener("click", () => { sitePage -= 1; renderSites(); });
$("#site-next").addEventListener("click", () => { sitePage += 1; renderSites(); });
$("#site-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  $("#s-code").value = $("#s-code").value.trim().toUpperCase();
  if (!form.reportValidity()) return;
  guarded(async () => {
    await api("POST", "/sites", {
      code: $("#s-code").value, name: $("#s-name").value.trim(), parent: $("#s-parent").value.trim(), kind: $("#s-kind").value,
      expected_headcount: parseInt($("#s-expected").value, 10) || 0, contact_name: $("#s-contact").value.trim(),
      contact_phone: $("#s-phone").value.trim(), email: $("#s-email").value.trim(),
    });
    toast(t("admin.site_added"), "ok");
    form.reset();
    await reloadSites();
  });
});

$("#import-file").addEventListener("change", async (e) => {
  const file = e.target.files[0];
  if (file) $("#import-text").value = await file.text();
});
$("#import-text").addEventListener("input", () => { $("#import-go").disabled = true; importText = null; });
$("#import-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const text = $("#import-text").value;
  const box = $("#import-result");
  $("#import-go").disabled = true;
  importText = null;
  if (!text.trim()) return;
  try {
    const out = await api("POST", "/sites/import?dry_run=1", undefined, { raw: text, contentType: "text/csv" });
    fill(box, h("p", { class: "ok-text" }, t("admin.import_ok", { rows: num(out.rows), new: num(out.new), changed: num(out.changed) })));
    importText = text;
    $("#import-go").disabled = false;
  } catch (err) {
    // the server lists every bad row in one message: "line 3: …; line 7: …"
    const lines = String(err.message || "").split(/;\s+(?=line \d+|and \d+ more)/);
    fill(box, h("p", { class: "form-error" }, t("admin.import_bad")), h("ul", { class: "csv-errors" }, lines.map((l) => h("li", null, l))));
  }
});
$("#import-go").addEventListener("click", () => guarded(async () => {
  if (importText === null) return;
  const out = await api("POST", "/sites/import", undefined, { raw: importText, contentType: "text/csv" });
  fill($("#import-result"), h("p", { class: "ok-text" }, t("admin.imported", { n: num(out.events) })));
  $("#import-go").disabled = true;
  importText = null;
  await reloadSites();
}));

// -- accounts ------------------------------------------------------------------------------------

function renderAccounts() {
  fill($("#account-table tbody"), data.accounts.map((a) => h("tr", { dataset: { account: a.account_id } },
    h("td", null, a.account_id), h("td", null, a.name), h("td", null, a.email),
    h("td", null, a.admin ? t("admin.role_admin") : t("admin.role_user")),
    h("td", null, a.disabled ? t("admin.disabled") : t("admin.active")),
    h("td", { class: "actions" },
      h("button", { type: "button", class: "btn btn-small", disabled: a.account_id === CONFIG.you.id, onclick: () => guarded(async () => {
        await api("PATCH", `/accounts/${encodeURIComponent(a.account_id)}`, { disabled: !a.disabled });
        await reloadAccounts();
      }) }, a.disabled ? t("admin.enable") : t("admin.disable")),
      h("button", { type: "button", class: "btn btn-small", onclick: () => guarded(async () => {
        const own = a.account_id === CONFIG.you.id;   // one's own: the current password too (it ends the other sessions)
        const current = own ? prompt(t("admin.current_password")) : null;
        if (own && !current) return;
        const password = prompt(t("admin.new_password", { name: a.name }));
        if (!password) return;
        const out = await api("POST", `/accounts/${encodeURIComponent(a.account_id)}/password`,
          own ? { password, current_password: current } : { password });
        if (out.csrf) CONFIG.csrf = out.csrf;   // this page goes on with its new session
        toast(t("admin.password_set"), "ok");
      }) }, t("admin.set_password"))))));
}

async function reloadAccounts() {
  data.accounts = (await get("/accounts")).accounts;
  renderAccounts();
  fillCreateForm();
}

$("#account-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const form = e.currentTarget;
  if (!form.reportValidity()) return;
  guarded(async () => {
    await api("POST", "/accounts", {
      account_id: $("#a-id").value.trim(), name: $("#a-name").value.trim(), email: $("#a-email").value.trim(),
      admin: $("#a-admin").checked, password: $("#a-password").value,
    });
    toast(t("admin.account_created"), "ok");
    form.reset();
    await reloadAccounts();
  });
});

// -- the issuing organisation (Decree 30/2020 format of the minutes) ------------------------------

const ORG_FIELDS = { governing_body: "#o-governing", issuing_body: "#o-issuing", symbol: "#o-symbol", place: "#o-place",
  chair_title: "#o-chair-title", secretary_title: "#o-secretary-title" };

async function loadOrganisation() {
  const org = await get("/organisation");
  for (const [field, sel] of Object.entries(ORG_FIELDS)) $(sel).value = org.settings[field] || "";
  $("#o-recipients").value = (org.settings.recipients || []).join("\n");
  setText($("#o-last-number"), org.last_number ? `${org.last_number}/${org.settings.symbol} (${org.year})` : "—");
  const s = org.signing;
  setText($("#o-signer"), s.error ? `${t("org.signer_error")}: ${s.error}` : s.subject || t("org.unsigned"));
}

$("#org-form").addEventListener("submit", (e) => {
  e.preventDefault();
  if (!e.currentTarget.reportValidity()) return;
  const body = Object.fromEntries(Object.entries(ORG_FIELDS).map(([field, sel]) => [field, $(sel).value.trim()]));
  body.recipients = $("#o-recipients").value.split("\n").map((r) => r.trim()).filter(Boolean);
  guarded(async () => {
    await api("PUT", "/organisation", body);
    toast(t("org.saved"), "ok");
    await loadOrganisation();
  });
});

loadOrganisation().catch((err) => toast(errorText(err), "error"));
loadAll().catch((err) => toast(errorText(err), "error"));
