// The audit log in the admin page (nhật ký hệ thống): who did what and when, read from the
// event logs (GET /api/v1/audit), filtered by record, who, what and dates, exported as CSV.
// Loaded when its tab is first opened.

import { get } from "./api.js";
import { $, fill, h, setText, toast } from "./dom.js";
import { clockSeconds, day, errorText, hasString, num, t } from "./i18n.js";

const TZ = "Asia/Ho_Chi_Minh";
const LIMIT = 500;

export function setupAudit() {
  let meta = null;

  async function loadStreams() {
    meta = await get("/audit/streams");
    fill($("#audit-stream"), meta.streams.map((s) => h("option", { value: s.stream },
      s.kind === "conference" ? t("audit.stream.conference", { title: s.title, date: day(s.starts_at, TZ) }) : t(`audit.stream.${s.kind}`))));
    fillTypes();
  }

  function kindOf(stream) {
    const s = meta.streams.find((x) => x.stream === stream);
    return s ? s.kind : "directory";
  }

  function fillTypes() {
    const types = meta.types[kindOf($("#audit-stream").value)] || [];
    fill($("#audit-type"), h("option", { value: "" }, t("audit.all_types")), types.map((x) => h("option", { value: x }, typeName(x))));
  }

  function query() {
    const q = new URLSearchParams({ stream: $("#audit-stream").value });
    for (const [name, el] of [["actor", "#audit-actor"], ["type", "#audit-type"], ["since", "#audit-since"], ["until", "#audit-until"]]) {
      const v = $(el).value.trim();
      if (v) q.set(name, v);
    }
    return q;
  }

  async function show() {
    const q = query();
    $("#audit-csv").href = `/api/v1/audit.csv?${q}`;
    q.set("limit", String(LIMIT));
    try {
      const out = await get(`/audit?${q}`);
      setText($("#audit-summary"), t(out.matched > out.rows.length ? "audit.summary_more" : "audit.summary",
        { shown: num(out.rows.length), matched: num(out.matched) }) + (out.truncated ? " " + t("audit.truncated") : ""));
      fill($("#audit-table tbody"), out.rows.length ? out.rows.map(row) : h("tr", null, h("td", { colspan: 4, class: "empty" }, t("audit.none"))));
    } catch (err) {
      toast(errorText(err), "error");
    }
  }

  /** The event type in words (the code itself for a type this page does not know). */
  function typeName(type) {
    return hasString(`audit.type.${type}`) ? t(`audit.type.${type}`) : type;
  }

  function row(r) {
    const who = r.actor.startsWith("system:") ? t("audit.system") : r.actor_name;
    const details = Object.entries(r.details).map(([k, v]) => `${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`).join(" · ");
    return h("tr", { dataset: { seq: r.seq, type: r.type } },
      h("td", { class: "nowrap" }, `${clockSeconds(r.at, TZ)} ${day(r.at, TZ)}`),
      h("td", null, who, h("div", { class: "hint" }, r.actor)),
      h("td", null, typeName(r.type), h("div", { class: "hint" }, h("code", null, r.type))),
      h("td", { class: "audit-details", title: details.slice(0, 2000) }, details.length > 240 ? `${details.slice(0, 240)}…` : details));
  }

  $("#audit-stream").addEventListener("change", () => { fillTypes(); show(); });
  $("#audit-form").addEventListener("submit", (e) => { e.preventDefault(); show(); });
  $("#tab-audit").addEventListener("click", async () => {
    if (meta) return;
    try {
      await loadStreams();
      await show();
    } catch (err) {
      toast(errorText(err), "error");
    }
  });
}
