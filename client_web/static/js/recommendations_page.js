// The recommendations of every conference (/recommendations): by ward, field, department and
// overdue answers, the same selection exported as CSV and Excel. Read with the REST API
// (GET /api/v1/recommendations) after each change of the filters.

import { get } from "./api.js";
import { setupSettings } from "./app.js";
import { $, fill, h, setText } from "./dom.js";
import { day, errorText, num, t } from "./i18n.js";

const FILTERS = { conference: "#f-conference", site: "#f-site", department: "#f-department", field: "#f-field" };
let names = {};

setupSettings();
setText($("#l-overdue"), t("rdash.overdue_only"));
setText($("#l-open"), t("rdash.open_only"));

function query() {
  const q = new URLSearchParams();
  for (const [name, sel] of Object.entries(FILTERS)) if ($(sel).value) q.set(name, $(sel).value);
  if ($("#f-overdue").checked) q.set("overdue", "1");
  if ($("#f-open").checked) q.set("open", "1");
  return q;
}

async function loadChoices() {
  const [confs, sites, fields] = await Promise.all([get("/conferences").catch(() => ({ conferences: [] })),
    get("/sites").catch(() => ({ sites: [] })), get("/recommendation-fields").catch(() => ({ fields: [] }))]);
  names = Object.fromEntries(sites.sites.map((x) => [x.code, x.name]));
  const all = h("option", { value: "" }, t("rdash.all"));
  fill($("#f-conference"), all.cloneNode(true), confs.conferences.map((c) =>
    h("option", { value: c.conference_id }, `${day(c.starts_at, c.timezone)} · ${c.title}`)));
  const sorted = (kind) => sites.sites.filter((x) => x.kind === kind).sort((a, b) => a.name.localeCompare(b.name, "vi"));
  fill($("#f-site"), all.cloneNode(true), sorted("remote").map((x) => h("option", { value: x.code }, x.name)));
  fill($("#f-department"), all.cloneNode(true), sorted("department").map((x) => h("option", { value: x.code }, x.name)));
  fill($("#f-field"), all.cloneNode(true), fields.fields.map((f) => h("option", { value: f }, f)));
}

function byBox(title, counts, label = (k) => k) {
  const rows = Object.entries(counts).sort((a, b) => b[1] - a[1]);
  return h("div", { class: "rdash-group" }, h("h2", null, title),
    h("ul", null, rows.map(([k, n]) => h("li", null, label(k), ": ", h("strong", null, num(n))))));
}

async function load() {
  const q = query();
  const suffix = q.toString() ? `?${q}` : "";
  $("#export-csv").href = `/api/v1/recommendations.csv${suffix}`;
  $("#export-xlsx").href = `/api/v1/recommendations.xlsx${suffix}`;
  try {
    const data = await get(`/recommendations${suffix}`);
    const rows = data.recommendations;
    setText($("#rdash-summary"), t("rdash.summary", { n: num(rows.length), open: num(data.open), overdue: num(data.overdue) }));
    const name = (c) => names[c] || c;
    fill($("#rdash-by"), byBox(t("rdash.by_field"), data.by.field), byBox(t("rdash.by_department"), data.by.department, name),
      byBox(t("rdash.by_site"), data.by.site, name));
    fill($("#rdash-rows"), rows.length ? rows.map((r) => h("tr", { class: r.overdue ? "overdue" : "", dataset: { rec: r.rec_id } },
      h("td", null, r.title), h("td", null, r.conference), h("td", null, r.source_names.join("; ")),
      h("td", null, r.department_names.join("; "), r.due ? ` (${day(r.due)})` : ""), h("td", null, r.field),
      h("td", null, t(`ward.status.${r.status}`), r.overdue ? h("span", { class: "chip chip-warn" }, ` ${t("rdash.overdue")}`) : null)))
      : h("tr", null, h("td", { colspan: 6 }, t("rdash.none"))));
  } catch (err) {
    setText($("#rdash-summary"), errorText(err));
  }
}

$("#filters").addEventListener("change", load);
loadChoices().then(load);
