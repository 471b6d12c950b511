// The program's recordings for the staff (GET /api/v1/conferences/{id}/recordings): each part
// (a new one after a server restart during the conference) with its chapters — the opening,
// each agenda item, each speaker — played in the page; a chapter seeks the player to it. A part
// during which a screen was shared has the share's own file (same clock as the part): played
// from where the part's player is, or downloaded.

import { get } from "./api.js";
import { setupSettings } from "./app.js";
import { $, fill, h, setText, toast } from "./dom.js";
import { CONFIG, errorText, num, t } from "./i18n.js";

const player = $("#player");
let playing = null;   // the file in the player

setupSettings();

/** "00:01:02.500" -> 62.5 */
export function seconds(stamp) {
  const parts = String(stamp).split(":").map(Number);
  return parts.reduce((acc, v) => acc * 60 + v, 0);
}

function play(file, at, title) {
  if (playing !== file.file) {
    playing = file.file;
    player.src = file.url;
  }
  const seek = () => {
    player.currentTime = at;
    player.play().catch(() => {});   // the browser may want a click first: the controls are there
  };
  if (player.readyState >= 1) seek();
  else player.addEventListener("loadedmetadata", seek, { once: true });
  setText($("#player-now"), t("rec.now", { file: file.file, title }));
  for (const b of document.querySelectorAll(".chapter[aria-current]")) b.removeAttribute("aria-current");
  const current = document.querySelector(`.chapter[data-file="${CSS.escape(file.file)}"][data-at="${at}"]`);
  if (current) current.setAttribute("aria-current", "true");
}

async function load() {
  const conf = encodeURIComponent(CONFIG.conference);
  let out;
  try {
    out = await get(`/conferences/${conf}/recordings`);
  } catch (err) {
    setText($("#recording-state"), errorText(err));
    return;
  }
  setText($("#recording-state"), out.recording ? t("rec.recording") : out.files.length ? "" : t("rec.none"));
  fill($("#recordings"), out.files.map((f, i) => h("li", { class: "card recording", dataset: { file: f.file } },
    h("h3", null, t("rec.part", { n: i + 1 }), " ", h("span", { class: "muted" }, `${f.file} · ${num(f.bytes / 1048576, 1)} MB`)),
    h("div", { class: "btn-row" },
      h("button", { type: "button", class: "btn btn-small btn-primary play", onclick: () => play(f, 0, t("rec.start")) }, t("rec.play")),
      h("a", { class: "btn btn-small", href: f.url, download: f.file }, t("rec.download")),
      f.share ? h("button", { type: "button", class: "btn btn-small play-share",
        onclick: () => play(f.share, playing === f.file ? player.currentTime : 0, t("rec.share")) }, t("rec.play_share")) : null,
      f.share ? h("a", { class: "btn btn-small", href: f.share.url, download: f.share.file }, t("rec.download_share")) : null),
    f.chapters.length ? h("ol", { class: "chapters" }, f.chapters.map((c) => {
      const at = seconds(c.start);
      return h("li", null, h("button", { type: "button", class: "chapter btn-link", dataset: { file: f.file, at },
        onclick: () => play(f, at, c.title) }, h("span", { class: "chapter-at" }, c.start.split(".")[0]), " ", c.title));
    })) : h("p", { class: "hint" }, t("rec.no_chapters")))));
}

load().catch((err) => toast(errorText(err), "error"));
