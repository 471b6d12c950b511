// The site wall of the chair console: one tile per invited site, usable with hundreds.
//
// Tiles are made once and kept; an event marks only the sites it touches, and one
// animation frame refreshes those tiles and, when the filter's answer changed, the page
// of tiles shown. Filtering (state, area, search without diacritics) and paging work on a
// plain array of a few hundred codes, which costs nothing measurable.

import { batched, h, setText, toggle } from "./dom.js";
import { connectionOf, queuePosition } from "./derive.js";
import { num, t } from "./i18n.js";
import { icon } from "./ui.js";

const SITE_EVENTS = new Set(["connection_changed", "checked_in", "site_muted", "site_unmuted", "roll_call_answered"]);
const QUEUE_EVENTS = new Set(["floor_requested", "floor_request_withdrawn", "floor_granted", "floor_ended"]);
const RESET_EVENTS = new Set(["sites_invited", "sites_uninvited", "conference_created", "conference_edited"]);

export function fold(text) {
  return String(text).normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
}

export class Wall {
  constructor(o) {
    Object.assign(this, o);
    this.s = null;
    this.tiles = new Map();
    this.poorLinks = new Map();    // site -> fraction lost: the media plane put it on audio only
    this.mediaStates = new Map();  // site -> "stalled" | "renegotiating", as its page reported (flowing: absent)
    this.order = [];
    this.shown = [];
    this.page = 0;
    this.dirty = new Set();
    this.selected = null;
    this.focusCode = null;
    this.flush = batched(() => this._flush());
    this.search.addEventListener("input", () => { this.page = 0; this.flush(); });
    this.stateFilter.addEventListener("change", () => { this.page = 0; this.flush(); });
    this.areaFilter.addEventListener("change", () => { this.page = 0; this.flush(); });
    this.size.addEventListener("change", () => { this.page = 0; this.flush(); });
    this.prev.addEventListener("click", () => { this.page -= 1; this.flush(); });
    this.next.addEventListener("click", () => { this.page += 1; this.flush(); });
    this.container.addEventListener("keydown", (e) => this._keys(e));
  }

  /** A new state (welcome): make every tile again. */
  reset(s) {
    this.s = s;
    this.tiles.clear();
    this.order = Object.values(s.sites).filter((x) => x.code !== s.main_site)
      .sort((a, b) => (a.parent || "").localeCompare(b.parent || "", "vi") || a.name.localeCompare(b.name, "vi"))
      .map((x) => x.code);
    for (const code of this.order) this.tiles.set(code, this._tile(code));
    const areas = [...new Set(this.order.map((c) => s.sites[c].parent).filter(Boolean))].sort((a, b) => a.localeCompare(b, "vi"));
    const current = this.areaFilter.value;
    this.areaFilter.replaceChildren(this.areaFilter.options[0]);
    for (const a of areas) this.areaFilter.append(h("option", { value: a }, a));
    this.areaFilter.value = areas.includes(current) ? current : "";
    this.shown = [];
    for (const code of this.order) this.dirty.add(code);
    this.flush();
  }

  /** An event folded into `s`: mark the tiles it touches. */
  apply(ev, s) {
    this.s = s;
    if (RESET_EVENTS.has(ev.type)) return this.reset(s);
    if (SITE_EVENTS.has(ev.type) && ev.site) this.dirty.add(ev.site);
    else if (QUEUE_EVENTS.has(ev.type)) {
      this.dirty.add(ev.site);
      for (const r of s.floor.queue) this.dirty.add(r.site);   // positions moved
    } else if (ev.type === "phase_changed") for (const code of this.order) this.dirty.add(code);
    else return;
    this.flush();
  }

  /** Audio levels from the media plane (0 loudest … 127 silent). */
  levels(levels) {
    this.container.classList.add("levels");
    for (const [code, level] of Object.entries(levels)) {
      const bar = this.tiles.get(code)?.querySelector(".level span");
      if (bar) bar.style.height = `${Math.round(((127 - level) / 127) * 100)}%`;
    }
  }

  /** `link_quality` from the media plane: a site on audio only because its link loses too much. */
  linkQuality(m) {
    if (!m.site) return;
    if (m.audio_only) this.poorLinks.set(m.site, m.loss || 0);
    else this.poorLinks.delete(m.site);
    this.dirty.add(m.site);
    this.flush();
  }

  /** `site_media_state`: how a site's audio and video fare, apart from its signaling state. */
  mediaState(m) {
    if (!m.site) return;
    if (m.state === "stalled" || m.state === "renegotiating") this.mediaStates.set(m.site, m.state);
    else this.mediaStates.delete(m.site);
    this.dirty.add(m.site);
    this.flush();
  }

  setSelected(code) {
    const old = this.selected && this.tiles.get(this.selected);
    if (old) old.setAttribute("aria-pressed", "false");
    this.selected = code;
    const now = code && this.tiles.get(code);
    if (now) now.setAttribute("aria-pressed", "true");
  }

  _tile(code) {
    const site = this.s.sites[code];
    // The tile's accessible name is its text (what a sighted chair reads, and the people count
    // in words for a screen reader), so that a spoken command naming what is seen finds it.
    const sep = () => h("span", { class: "offscreen" }, ", ");
    const el = h("button", { type: "button", class: "tile", "aria-pressed": "false", tabindex: "-1", dataset: { code } },
      h("span", { class: "tile-name", title: site.name }, site.name),
      h("span", { class: "tile-meta" }, icon("people"), h("span", { class: "tile-count", "aria-hidden": "true" }),
        sep(), h("span", { class: "offscreen tile-people" }), sep(), h("span", { class: "tile-state" })),
      h("span", { class: "tile-flags" }),
      h("span", { class: "level", "aria-hidden": "true" }, h("span")));
    el.addEventListener("click", () => {
      this.focusCode = code;
      this.onSelect(code);
    });
    return el;
  }

  _update(code) {
    const el = this.tiles.get(code);
    const s = this.s;
    if (!el || !s.sites[code]) return;
    const att = s.attendance[code];
    const pos = queuePosition(s, code);
    const speaking = !!s.floor.speakers[code];
    const micOpen = !s.floor.muted.includes(code);
    el.dataset.conn = att.connection;
    toggle(el, "hand", pos > 0);
    toggle(el, "speaking", speaking);
    toggle(el, "unchecked", !att.checked_in_at);
    setText(el.querySelector(".tile-count"), att.checked_in_at ? num(att.headcount) : "—");
    setText(el.querySelector(".tile-people"), att.checked_in_at ? t("wall.n_people", { n: num(att.headcount) }) : t("wall.not_checked_in"));
    setText(el.querySelector(".tile-state"), t(`state.${connectionOf(att)}`));   // "not connected yet", not "lost"
    const flags = el.querySelector(".tile-flags");
    const poor = this.poorLinks.has(code);
    toggle(el, "poor-link", poor);
    const media = this.mediaStates.get(code) || "";
    toggle(el, "media-stalled", media === "stalled");
    toggle(el, "media-renegotiating", media === "renegotiating");
    const want = `${pos}|${speaking}|${micOpen}|${poor}|${media}`;
    if (flags.dataset.want !== want) {
      flags.dataset.want = want;
      flags.replaceChildren();
      const flag = (cls, ...content) => flags.append(h("span", { class: "offscreen" }, ", "), h("span", { class: `flag ${cls}` }, ...content));
      if (speaking) flag("flag-speaking", icon("mic"), t("wall.flag_speaking"));
      else if (pos > 0) flag("flag-hand", icon("hand"), t("wall.flag_hand", { n: pos }));
      if (speaking && !micOpen) flag("flag-mic-off", icon("micOff"), t("wall.flag_muted"));   // the chair muted the speaker
      if (!speaking && micOpen) flag("flag-mic", icon("mic"), t("wall.flag_mic_open"));
      if (poor) flag("flag-poor-link", t("wall.flag_poor_link"));
      if (media) flag(`flag-media-${media}`, t(`wall.flag_media_${media}`));
    }
    el.title = poor ? t("wall.poor_link", { pct: Math.round(this.poorLinks.get(code) * 100) }) : "";
  }

  _matches(code) {
    const s = this.s;
    const site = s.sites[code];
    const att = s.attendance[code];
    const area = this.areaFilter.value;
    if (area && site.parent !== area) return false;
    const q = fold(this.search.value.trim());
    if (q && !fold(site.name).includes(q) && !fold(code).includes(q)) return false;
    switch (this.stateFilter.value) {
      case "online": case "reconnecting": case "offline": case "never": return connectionOf(att) === this.stateFilter.value;
      case "hand": return queuePosition(s, code) > 0;
      case "speaking": return !!s.floor.speakers[code];
      case "unchecked": return !att.checked_in_at;
      default: return true;
    }
  }

  _flush() {
    if (!this.s) return;
    for (const code of this.dirty) this._update(code);
    this.dirty.clear();
    const matching = this.order.filter((c) => this._matches(c));
    const size = parseInt(this.size.value, 10) || 96;
    const pages = Math.max(1, Math.ceil(matching.length / size));
    this.page = Math.max(0, Math.min(this.page, pages - 1));
    const shown = matching.slice(this.page * size, (this.page + 1) * size);
    if (shown.length !== this.shown.length || shown.some((c, i) => c !== this.shown[i])) {
      this.shown = shown;
      this.container.replaceChildren(...shown.map((c) => this.tiles.get(c)));
      if (!shown.includes(this.focusCode)) this.focusCode = shown[0] || null;
    }
    for (const c of shown) this.tiles.get(c).tabIndex = c === this.focusCode ? 0 : -1;
    this.empty.hidden = matching.length > 0;
    setText(this.range, matching.length
      ? t("wall.range", { from: num(this.page * size + 1), to: num(this.page * size + shown.length), total: num(matching.length) })
      : "");
    this.prev.disabled = this.page === 0;
    this.next.disabled = this.page >= pages - 1;
  }

  /** Arrow keys move between tiles (one tab stop for the whole wall). */
  _keys(e) {
    const i = this.shown.indexOf(e.target.dataset?.code);
    if (i < 0) return;
    const cols = getComputedStyle(this.container).gridTemplateColumns.split(" ").length || 1;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, Home: -i, End: this.shown.length - 1 - i }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    const j = Math.max(0, Math.min(this.shown.length - 1, i + step));
    this.focusCode = this.shown[j];
    for (const c of this.shown) this.tiles.get(c).tabIndex = c === this.focusCode ? 0 : -1;
    this.tiles.get(this.focusCode).focus();
  }
}
