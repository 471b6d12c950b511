// The media of a bridge site's page (and of the main bridge's): what the stage shows and plays.
//
// A site's page shows the program (stream `program`) full-size and, while another site holds
// the floor, that site's camera (`speaker-0`) full-size with the program in a corner; its own
// camera shows in the floor panel while it speaks. The main bridge's page shows its own camera
// (the program every site sees) and the floor holder the same way. Sound plays through <audio>
// elements; when the browser refuses to play it without a click, "turn on sound" appears.

import { $, setText, toggle } from "./dom.js";
import { t } from "./i18n.js";
import { createMedia } from "./media.js";

export function siteMedia({ conn, site, onChange = () => {} }) {
  const box = $("#program-box");
  let speakers = [];
  let phase = null;
  const media = createMedia({
    conn, publish: true, speakerSlots: 1,
    onChange: () => { render(); onChange(); },
  });
  media.show(site.main ? "local" : "program", $("#program-video"));
  media.show("speaker-0", $("#speaker-video"));
  media.show("local", $("#self-video"));
  $("#sound-on").addEventListener("click", () => media.setSound(true));

  function render() {
    const chip = $("#media-state");
    chip.dataset.state = media.state;
    setText(chip, t(`media.${media.state}`));
    chip.title = media.state === "failed" && media.error ? media.error : "";
    $("#sound-on").hidden = !media.soundBlocked;
    // The server forwards nothing before the rehearsal or after the end (docs/media.md): the
    // main bridge's page says so instead of "on air".
    const onAir = $("#on-air");
    const idle = site.main && (phase === "ended" || phase === "cancelled" ? "media.ended"
      : phase === "draft" || phase === "scheduled" ? "media.before_start" : null);
    onAir.hidden = !idle && !(media.onAir && media.state === "connected");
    toggle(onAir, "off-air", !!idle);
    setText(onAir, idle ? t(idle) : site.main ? t("media.on_air_program") : media.hint.audio ? t("media.on_air") : t("media.on_air_muted"));
    toggle(onAir, "muted", !idle && !site.main && !media.hint.audio);
    const audioOnly = media.audioOnly || media.poorLink;
    toggle(box, "has-speaker", speakers.some((c) => c !== site.code) && !audioOnly);
    toggle(box, "audio-only", audioOnly);
  }

  return {
    media,
    render,
    /** The conference's phase: what the server forwards follows it. */
    setPhase(p) {
      if (p === phase) return;
      phase = p;
      render();
    },
    /** The floor holders of the conference (the stage shows another site's camera big). */
    setSpeakers(codes) {
      const key = codes.join(",");
      if (key === speakers.join(",")) return;
      speakers = codes.slice();
      render();
    },
  };
}
