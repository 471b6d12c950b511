// The media of the chair console: the program and the floor holder (received, silent until
// "turn on sound": the console usually sits in the main bridge's hall), site pictures on
// demand in a few preview slots, and audio levels with the active speaker on the wall.
//
// Pictures: the chair picks sites ("show its picture" in the selected-site panel); the page
// asks `media_prefs {previews: [codes]}` and slot i shows the i-th. The server fills slots with
// the sites that publish, in order, and resolves codes to connections when asked, so the page
// asks only for sites that are online and asks again every few seconds and whenever one of
// them reconnects (a reconnected site is a new connection on the server).

import { $, h, setText, toggle } from "./dom.js";
import { siteName } from "./derive.js";
import { t } from "./i18n.js";
import { createMedia } from "./media.js";

const REFRESH_MS = 3000;

export function chairMedia({ conn, store, wall, previewSlots = 4, onChange = () => {} }) {
  const media = createMedia({ conn, publish: false, speakerSlots: 1, previewSlots, sound: false, onChange: () => render() });
  media.show("program", $("#program-video"));
  media.show("speaker-0", $("#speaker-video"));
  let wanted = [];          // the sites the chair asked to see, in the order asked
  let shown = [];           // what slot i shows (the online ones among `wanted`)
  let asked = "";
  let active = null;
  let levelCodes = new Set();

  const figures = [];
  for (let i = 0; i < previewSlots; i++) {
    const video = h("video", { autoplay: true, playsinline: true, muted: true });
    const name = h("span", { class: "picture-name" });
    const close = h("button", { type: "button", class: "btn btn-ghost btn-small picture-close" }, "×");
    const li = h("li", { class: "picture", hidden: true, dataset: { slot: String(i) } },
      h("div", { class: "video-box" }, video, h("div", { class: "video-placeholder" }, h("p", null, t("media.picture_waiting")))),
      h("div", { class: "picture-bar" }, name, close));
    close.addEventListener("click", () => toggle_(li.dataset.code));
    figures.push({ li, video, name, close });
    media.show(`preview-${i}`, video);
  }
  $("#pictures").replaceChildren(...figures.map((f) => f.li));
  $("#sound-toggle").addEventListener("click", () => media.setSound(!media.soundOn));
  setInterval(() => { if (wanted.length) ask(true); }, REFRESH_MS);

  function toggle_(code) {
    if (!code) return;
    if (wanted.includes(code)) wanted = wanted.filter((c) => c !== code);
    else if (wanted.length < previewSlots) wanted = [...wanted, code];
    else return; // the button says the slots are full
    for (const tile of wall.tiles.values()) toggle(tile, "previewing", wanted.includes(tile.dataset.code));
    ask(false);
    render();
    onChange();
  }

  function ask(again) {
    const s = store.state;
    if (!s) return;
    shown = wanted.filter((c) => s.attendance[c] && s.attendance[c].connection === "online");
    const key = shown.join(",");
    if (key === asked && !again) return;
    asked = key;
    media.setPreviews(shown);
    render();
  }

  function render() {
    const s = store.state;
    const chip = $("#media-state");
    chip.dataset.state = media.state;
    setText(chip, t(`media.${media.state}`));
    const btn = $("#sound-toggle");
    const playing = media.soundOn && !media.soundBlocked;
    setText(btn, playing ? t("media.sound_off") : t("media.sound_on"));
    btn.setAttribute("aria-pressed", String(playing));
    if (!s) return;
    $("#speaker-video-box").hidden = Object.keys(s.floor.speakers).length === 0;
    figures.forEach((f, i) => {
      const code = shown[i];
      f.li.hidden = !code;
      f.li.dataset.code = code || "";
      if (code) {
        setText(f.name, siteName(s, code));
        f.close.setAttribute("aria-label", t("media.picture_hide_named", { name: siteName(s, code) }));
      }
    });
    for (const code of wanted) {   // the wall makes its tiles again after a welcome
      const tile = wall.tiles.get(code);
      if (tile) toggle(tile, "previewing", true);
    }
    $("#pictures-empty").hidden = wanted.length > 0;
    const away = wanted.filter((c) => !shown.includes(c));
    setText($("#pictures-off"), away.length ? t("media.pictures_offline", { names: away.map((c) => siteName(s, c)).join(", ") }) : "");
  }

  return {
    media,
    render,
    /** An event was folded: a watched site that reconnected is asked for again. */
    event(ev) {
      if (ev.type === "connection_changed" && wanted.includes(ev.site)) ask(true);
      if (ev.type === "welcome") ask(true);
      render();
    },
    /** The "show its picture" button of the selected-site panel. */
    pictureButton(code) {
      const on = wanted.includes(code);
      const full = !on && wanted.length >= previewSlots;
      return h("button", {
        type: "button", class: "btn btn-small picture-toggle", disabled: full,
        title: full ? t("media.pictures_full", { n: previewSlots }) : "",
        onclick: () => toggle_(code),
      }, on ? t("media.picture_hide") : t("media.picture_show"));
    },
    /** `levels` from the server: bars on the tiles (on-air sites only) and the active speaker. */
    levels(m) {
      const s = store.state;
      if (!s) return;
      // The server keeps a site's last level after it stops sending: only on-air sites count.
      const onAir = new Set([s.main_site, ...Object.keys(s.floor.speakers)].filter((c) => !s.floor.muted.includes(c)));
      const levels = {};
      for (const code of new Set([...levelCodes, ...Object.keys(m.levels || {})])) {
        levels[code] = onAir.has(code) && code in m.levels ? m.levels[code] : 127;
      }
      levelCodes = new Set(Object.keys(levels));
      wall.levels(levels);
      const bar = $("#program-level span");
      if (bar) bar.style.height = `${Math.round(((127 - (levels[s.main_site] ?? 127)) / 127) * 100)}%`;
      const now = m.active && onAir.has(m.active) ? m.active : null;
      if (now !== active) {
        if (active) toggle(wall.tiles.get(active) || document.createElement("i"), "active-speaker", false);
        active = now;
        if (active && wall.tiles.get(active)) toggle(wall.tiles.get(active), "active-speaker", true);
      }
      for (const el of document.querySelectorAll(".speaker-box[data-site]")) toggle(el, "active-speaker", el.dataset.site === active);
      toggle($("#program-video").closest(".video-box"), "active-speaker", active === s.main_site);
    },
  };
}
