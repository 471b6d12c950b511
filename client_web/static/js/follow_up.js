// Follow-up across a series, in the secretary desk: when the conference's series has an
// earlier conference with open action items (GET …/follow-up), they are listed under the
// agenda with a button that adds the agenda item reviewing them (POST …/follow-up). The
// minutes of this conference then record the status of each (docs/documents.md).

import { api, get } from "./api.js";
import { $, debounce, fill, h, setText, toast, toggle } from "./dom.js";
import { CONFIG, day, errorText, t } from "./i18n.js";

const CONF = CONFIG.conference;
const PATH = `/conferences/${encodeURIComponent(CONF)}/follow-up`;
const OPEN_PHASES = new Set(["draft", "scheduled", "rehearsal", "live"]);
const AGENDA_EVENTS = new Set(["welcome", "agenda_item_added", "agenda_item_removed", "phase_changed"]);

export function followUpBox({ store, canWrite }) {
  let offer = null;
  let loaded = false;

  async function load() {
    try {
      offer = await get(PATH);
    } catch (err) {
      offer = null;
      console.warn("bridgeconf: follow-up", err && err.code);
    }
    render();
  }
  const reload = debounce(load, 500);

  function render() {
    const s = store.state;
    const box = $("#follow-up");
    const show = !!(s && offer && offer.previous && OPEN_PHASES.has(s.phase) && (offer.actions.length || offer.added_as));
    box.hidden = !show;
    if (!show) return;
    const added = offer.added_as ? s.agenda.find((i) => i.item_id === offer.added_as) : null;
    setText($("#follow-up-intro"), t("followup.intro", {
      title: offer.previous.title, date: day(offer.previous.starts_at, CONFIG.tz), n: offer.actions.length,
    }));
    const list = $("#follow-up-list");
    const key = offer.actions.map((a) => `${a.ref}:${a.status}`).join("|");
    if (list.dataset.key !== key) {
      list.dataset.key = key;
      fill(list, offer.actions.map((a) => h("li", { class: a.overdue ? "overdue" : null, "data-ref": a.ref },
        h("strong", null, a.title),
        h("span", { class: "meta" }, [
          a.assignee_names.join(", "),
          t(a.overdue ? "actions.overdue" : "actions.due", { date: day(a.due) }),
          t(`action.${a.status}`),
        ].filter(Boolean).join(" · ")))));
    }
    const btn = $("#follow-up-add");
    btn.hidden = !!offer.added_as || !canWrite();
    const done = $("#follow-up-added");
    done.hidden = !offer.added_as;
    setText(done, offer.added_as ? t("followup.added", { title: added ? added.title : offer.item.title }) : "");
    toggle(box, "added", !!offer.added_as);
  }

  async function add() {
    const btn = $("#follow-up-add");
    btn.disabled = true;
    try {
      await api("POST", PATH, {});
      toast(t("followup.added_toast"), "ok");
      await load();
    } catch (err) {
      toast(errorText(err), "error");
    } finally {
      btn.disabled = false;
    }
  }

  $("#follow-up-add").addEventListener("click", add);

  return {
    onEvent(ev, s) {
      if (!OPEN_PHASES.has(s.phase) && !offer) return;
      if (!loaded || AGENDA_EVENTS.has(ev.type)) {
        loaded = true;
        reload();
      } else {
        render();
      }
    },
  };
}
