// The conference's settings in the admin's detail view: title, kind, date and times, series,
// description, how many sites speak at once — sent as one `edit_conference` with only what
// changed (the domain refuses an edit after the conference ended) — and "uninvite" for a site.

import { command } from "./api.js";
import { $, fill, h, toast } from "./dom.js";
import { clock, errorText, isoDay, t } from "./i18n.js";

const EDITABLE = new Set(["draft", "scheduled", "rehearsal", "live"]);
const UNINVITE = new Set(["draft", "scheduled", "rehearsal"]);

/**
 * @param {object} o
 * @param {() => object} o.current          the conference view shown
 * @param {() => object[]} o.conferences    every conference's summary (for the series already in use)
 * @param {() => Promise<void>} o.refresh   reload the detail view after a change
 * @param {(date: string, time: string, tz: string) => string} o.zonedIso
 */
export function setupEditForm({ current, conferences, refresh, zonedIso }) {
  /** The series already in use, offered by the series fields of both forms. */
  const fillSeries = () => {
    const series = [...new Set(conferences().map((x) => x.series).filter(Boolean))].sort();
    fill($("#e-series-list"), series.map((s) => h("option", { value: s })));
  };
  $("#new-conference").addEventListener("click", fillSeries);

  $("#edit-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const err = $("#edit-error");
    err.hidden = true;
    if (!form.reportValidity()) return;
    const c = current();
    const starts = zonedIso($("#e-date").value, $("#e-start").value, c.timezone);
    const ends = zonedIso($("#e-date").value, $("#e-end").value, c.timezone);
    const wanted = {
      title: $("#e-title").value.trim(), kind: $("#e-kind").value, series: $("#e-series").value.trim(),
      description: $("#e-description").value.trim(), max_speakers: parseInt($("#e-speakers").value, 10),
    };
    const fields = Object.fromEntries(Object.entries(wanted).filter(([k, v]) => v !== c[k]));
    if (Date.parse(starts) !== Date.parse(c.starts_at)) fields.starts_at = starts;
    if (Date.parse(ends) !== Date.parse(c.ends_at)) fields.ends_at = ends;
    if (!Object.keys(fields).length) return toast(t("edit.nothing"), "info");
    const button = $("#edit-save");
    button.disabled = true;
    try {
      await command(c.conference_id, "edit_conference", fields);
      toast(t("edit.saved"), "ok");
      await refresh();
    } catch (error) {
      err.textContent = errorText(error);
      err.hidden = false;
    } finally {
      button.disabled = false;
    }
  });

  return {
    /** Fill the form from the conference shown (after every refresh). */
    render() {
      const c = current();
      $("#e-title").value = c.title;
      $("#e-kind").value = c.kind;
      $("#e-series").value = c.series;
      $("#e-description").value = c.description;
      $("#e-speakers").value = c.max_speakers;
      $("#e-date").value = isoDay(c.starts_at, c.timezone);
      $("#e-start").value = clock(c.starts_at, c.timezone);
      $("#e-end").value = clock(c.ends_at, c.timezone);
      fillSeries();
      const open = EDITABLE.has(c.phase);
      for (const el of $("#edit-form").querySelectorAll("input, select, textarea, button")) el.disabled = !open;
      $("#edit-note").textContent = open ? "" : t("edit.closed");
    },

    /** A button that uninvites one site (none for the main bridge or once the conference opened). */
    uninviteButton(site, name) {
      const c = current();
      if (site === c.main_site || !UNINVITE.has(c.phase)) return null;
      return h("button", { type: "button", class: "btn btn-small uninvite", onclick: async () => {
        if (!confirm(t("edit.uninvite_confirm", { name }))) return;
        try {
          await command(c.conference_id, "uninvite_sites", { codes: [site] });
          toast(t("edit.uninvited", { name }), "ok");
          await refresh();
        } catch (error) {
          toast(errorText(error), "error");
        }
      } }, t("edit.uninvite"));
    },
  };
}
