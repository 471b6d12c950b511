// The action items of every conference (/actions): filters by conference, site, status and
// overdue, overdue tasks marked, the same selection exported as CSV, Excel and iCalendar,
// and a task a site reported done confirmed from here. Read with the REST API
// (GET /api/v1/actions), again after each change of the filters and every minute.

import { command, get } from "./api.js";
import { setupSettings } from "./app.js";
import { $, fill, h, setText, toast, toggle } from "./dom.js";
import { day, errorText, num, t } from "./i18n.js";
import { keyedList } from "./ui.js";

const TZ = "Asia/Ho_Chi_Minh";
const FILTERS = { conference: "#f-conference", site: "#f-site", status: "#f-status" };
let loading = null;

setupSettings();

function query() {
  const q = new URLSearchParams();
  for (const [name, sel] of Object.entries(FILTERS)) if ($(sel).value) q.set(name, $(sel).value);
  if ($("#f-overdue").checked) q.set("overdue", "1");
  return q;
}

function fromUrl() {
  const q = new URLSearchParams(location.search);
  for (const [name, sel] of Object.entries(FILTERS)) {
    const v = q.get(name);
    if (v && !$(`${sel} option[value="${CSS.escape(v)}"]`)) $(sel).append(h("option", { value: v }, v));
    if (v) $(sel).value = v;
  }
  $("#f-overdue").checked = q.get("overdue") === "1";
}

async function loadChoices() {
  const [confs, sites] = await Promise.all([
    get("/conferences").catch(() => ({ conferences: [] })), get("/sites").catch(() => ({ sites: [] }))]);
  const chosen = new URLSearchParams(location.search);
  const conf = $("#f-conference");
  fill(conf, h("option", { value: "" }, t("dash.all_conferences")), confs.conferences.map((c) =>
    h("option", { value: c.conference_id }, `${day(c.starts_at, c.timezone || TZ)} · ${c.title}`)));
  const site = $("#f-site");
  fill(site, h("option", { value: "" }, t("dash.all_sites")), sites.sites.filter((x) => x.kind !== "main")
    .sort((a, b) => a.name.localeCompare(b.name, "vi")).map((x) => h("option", { value: x.code }, x.name)));
  if (chosen.get("conference")) conf.value = chosen.get("conference");
  if (chosen.get("site")) site.value = chosen.get("site");
}

async function load() {
  const q = query();
  const qs = q.toString();
  history.replaceState(null, "", qs ? `?${qs}` : location.pathname);
  for (const fmt of ["csv", "xlsx", "ics"]) $(`#export-${fmt}`).href = `/api/v1/actions.${fmt}${qs ? `?${qs}` : ""}`;
  const ev = new URLSearchParams(q);
  ev.set("as", "event");
  $("#export-ics-events").href = `/api/v1/actions.ics?${ev}`;
  const mine = (loading = get(`/actions${qs ? `?${qs}` : ""}`));
  let data;
  try {
    data = await mine;
  } catch (err) {
    if (mine === loading) setText($("#dash-summary"), errorText(err));
    return;
  }
  if (mine !== loading) return;   // a newer request is on its way
  render(data.actions);
}

function render(rows) {
  const overdue = rows.filter((r) => r.overdue).length;
  const open = rows.filter((r) => r.status === "open" || r.status === "in_progress").length;
  setText($("#dash-summary"), t("dash.summary", { n: num(rows.length), open: num(open), overdue: num(overdue) }));
  const body = $("#dash-rows");
  if (!rows.length) {
    fill(body, h("tr", { class: "empty-row" }, h("td", { colspan: "7", class: "empty" }, t("dash.none"))));
    return;
  }
  if (body.querySelector(".empty-row")) body.replaceChildren();
  keyedList(body, rows, (r) => `${r.conference_id}/${r.action_id}`, (r) => h("tr", { "data-action": r.action_id, "data-conference": r.conference_id },
    h("td", null, h("strong", { class: "title" }), h("div", { class: "hint desc" })),
    h("td", null, h("a", { class: "conf", href: `/c/${encodeURIComponent(r.conference_id)}/secretary` })),
    h("td", { class: "who" }),
    h("td", { class: "due" }),
    h("td", null, h("span", { class: "chip status" }), " ", h("span", { class: "chip overdue-chip" }, t("dash.overdue"))),
    h("td", { class: "progress" }),
    h("td", { class: "actions" }, h("button", { type: "button", class: "btn btn-ok btn-small confirm", onclick: () => confirmDone(r) }, t("actions.confirm_done")))),
  (tr, r) => {
    toggle(tr, "overdue", r.overdue);
    setText(tr.querySelector(".title"), r.title);
    setText(tr.querySelector(".desc"), r.description || "");
    setText(tr.querySelector(".conf"), r.conference);
    setText(tr.querySelector(".who"), (r.assignee_names.length ? r.assignee_names : r.assignees).join(", "));
    setText(tr.querySelector(".due"), day(r.due));
    const status = tr.querySelector(".status");
    status.className = `chip status status-${r.status}`;
    setText(status, t(`action.${r.status}`) + (r.status === "done" && !r.confirmed ? " " + t("action.awaiting_confirm") : ""));
    tr.querySelector(".overdue-chip").hidden = !r.overdue;
    const last = r.updates[r.updates.length - 1];
    setText(tr.querySelector(".progress"), last
      ? `${day(last.at, TZ)}${last.percent !== null && last.percent !== undefined ? ` · ${last.percent}%` : ""}: ${last.text}` : "");
    tr.querySelector(".confirm").hidden = !(r.status === "done" && !r.confirmed);
  });
}

async function confirmDone(r) {
  try {
    await command(r.conference_id, "confirm_action_done", { action_id: r.action_id });
    toast(t("dash.confirmed"), "ok");
    await load();
  } catch (err) {
    toast(errorText(err), "error");
  }
}

$("#filters").addEventListener("change", () => load());
$("#filters").addEventListener("submit", (e) => { e.preventDefault(); load(); });
$("#refresh").addEventListener("click", () => load());
setInterval(() => { if (!document.hidden) load(); }, 60_000);

fromUrl();
load();
loadChoices().then(load);
