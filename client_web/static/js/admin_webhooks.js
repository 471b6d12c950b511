// The administration page's webhooks tab: the hooks (pause, resume, delete), a form to add
// one, and the delivery log. Loaded when the tab is first opened; read back after each change.

import { api, get } from "./api.js";
import { $, fill, h, toast } from "./dom.js";
import { dayTime, t } from "./i18n.js";

const TZ = "Asia/Ho_Chi_Minh";
const EVENT_LABEL = {
  "conference.opened": "admin.wh_ev_opened",
  "conference.ended": "admin.wh_ev_ended",
  "minutes.approved": "admin.wh_ev_approved",
  "minutes.distributed": "admin.wh_ev_distributed",
  "action.overdue": "admin.wh_ev_action_overdue",
  "recommendation.overdue": "admin.wh_ev_recommendation_overdue",
};
const STATUS_LABEL = {
  pending: "admin.wh_st_pending", delivered: "admin.wh_st_delivered", gave_up: "admin.wh_st_gave_up",
};
let guard = null;

const eventName = (type) => (EVENT_LABEL[type] ? t(EVENT_LABEL[type]) : type);

/** Set the tab up on its first opening (later openings refresh it). */
export function setupWebhooks(guarded) {
  if (guard === null) {
    guard = guarded;
    $("#webhook-form").addEventListener("submit", submit);
    $("#webhook-log-refresh").addEventListener("click", () => guard(loadLog));
  }
  return guard(reload);
}

async function reload() {
  const data = await get("/webhooks");
  renderHooks(data.webhooks);
  renderEventPicker(data.event_types);
  await loadLog();
}

function renderHooks(hooks) {
  const body = $("#webhook-table tbody");
  if (!hooks.length) {
    fill(body, h("tr", null, h("td", { colspan: 6, class: "muted" }, t("admin.wh_none"))));
    return;
  }
  fill(body, hooks.map((w) => h("tr", { dataset: { hook: w.hook_id } },
    h("td", null, w.hook_id), h("td", { class: "break" }, w.url),
    h("td", null, w.events.map(eventName).join(", ")),
    h("td", null, w.active ? t("admin.wh_active") : t("admin.wh_paused")),
    h("td", null, t("admin.wh_counts", w.counts)),
    h("td", { class: "actions" },
      h("button", { type: "button", class: "btn btn-small", onclick: () => guard(async () => {
        await api("PATCH", `/webhooks/${encodeURIComponent(w.hook_id)}`, { active: !w.active });
        await reload();
      }) }, w.active ? t("admin.wh_pause") : t("admin.wh_resume")),
      h("button", { type: "button", class: "btn btn-small btn-danger", onclick: () => guard(async () => {
        if (!confirm(t("admin.wh_delete_confirm", { name: w.hook_id }))) return;
        await api("DELETE", `/webhooks/${encodeURIComponent(w.hook_id)}`);
        await reload();
      }) }, t("admin.wh_delete"))))));
}

function renderEventPicker(types) {
  const box = $("#w-events");
  if (box.childElementCount) return;
  fill(box, types.map((type) => h("label", { class: "check" },
    h("input", { type: "checkbox", name: "w-event", value: type, checked: type.startsWith("conference.") }),
    " ", eventName(type))));
}

async function loadLog() {
  const { deliveries } = await get("/webhooks/deliveries?limit=100");
  const body = $("#webhook-log tbody");
  if (!deliveries.length) {
    fill(body, h("tr", null, h("td", { colspan: 6, class: "muted" }, t("admin.wh_no_deliveries"))));
    return;
  }
  fill(body, deliveries.map((d) => {
    const last = d.attempts[d.attempts.length - 1];
    const answer = last ? (last.status_code ? `HTTP ${last.status_code}` : t("admin.wh_no_answer")) : "";
    const next = d.status === "pending" && d.next_at ? t("admin.wh_next", { time: dayTime(d.next_at, TZ) }) : "";
    return h("tr", { dataset: { delivery: d.delivery_id, status: d.status } },
      h("td", null, dayTime(d.queued_at, TZ)), h("td", null, d.hook_id), h("td", null, eventName(d.event)),
      h("td", null, t(STATUS_LABEL[d.status]), next ? h("div", { class: "hint" }, next) : null),
      h("td", { class: "num" }, String(d.attempts.length)),
      h("td", { class: "break", title: last?.error || "" }, [answer, last?.error].filter(Boolean).join(" · ")));
  }));
}

function submit(e) {
  e.preventDefault();
  const form = e.currentTarget;
  if (!form.reportValidity()) return;
  const events = Array.from(form.querySelectorAll('input[name="w-event"]:checked')).map((i) => i.value);
  if (!events.length) {
    toast(t("admin.wh_pick_event"), "error");
    return;
  }
  guard(async () => {
    await api("POST", "/webhooks", {
      hook_id: $("#w-id").value.trim(), url: $("#w-url").value.trim(), secret: $("#w-secret").value, events,
    });
    toast(t("admin.wh_created"), "ok");
    form.reset();
    await reload();
  });
}
