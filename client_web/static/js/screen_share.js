// The page side of screen share (issue 12): capturing a screen, window or tab on the presenter's
// page, and showing a share as the big picture of a stage. Forwarding the share (a second video
// stream on the lean path, keyframe on start and on join) is the media plane's, steered by the
// log (`share_started`/`share_stopped`, scheduling/presentation.py); media.js sends the captured
// track on its share slot (m-line 2) and plays the received share in the stage's <video>.
// `presenterShare` (the presenter's button) and `shareOnStage` (what a page shows) wire the
// two to the conference's state.
//
// In headless Chromium started with --use-fake-ui-for-media-stream (tests/e2e/conftest.py)
// getDisplayMedia answers at once with a fake 1280×720 "monitor" surface: the tests need no
// other flag (tests/e2e/test_screen_capture.py).

import { siteName } from "./derive.js";
import { h, setText, toggle } from "./dom.js";
import { t } from "./i18n.js";
import { mayPresent, swapButton, unswapWhenIdle } from "./slides.js";

const RUNNING = ["rehearsal", "live"];

/** The site whose screen is shared now, or null. */
export function sharing(s) {
  return s && s.presentation && s.presentation.sharer && RUNNING.includes(s.phase) ? s.presentation.sharer : null;
}

/** Capture a screen, window or tab for sharing: text and slides stay sharp ("detail": the
 * encoder keeps resolution and drops frames rather than blur), at most `maxWidth` px and
 * `maxFrameRate` fps, no audio. Resolves to {stream, track, stop()}; `onEnded` runs when the
 * person stops sharing from the browser's own bar as well as on stop(). */
export async function captureScreen({ maxWidth = 1920, maxFrameRate = 15, onEnded = () => {} } = {}) {
  const stream = await navigator.mediaDevices.getDisplayMedia({
    video: { width: { max: maxWidth }, frameRate: { max: maxFrameRate } },
    audio: false,
  });
  const track = stream.getVideoTracks()[0];
  track.contentHint = "detail";
  let ended = false;
  const end = () => {
    if (ended) return;
    ended = true;
    for (const tr of stream.getTracks()) tr.stop();
    onEnded();
  };
  track.addEventListener("ended", end);
  return { stream, track, stop: end };
}

/** The presenter's button: "Chia sẻ màn hình" / "Dừng chia sẻ". `start()` resolves to a
 * capture from captureScreen (or throws when the person cancels), `stopped()` is told when the
 * share ends, whichever way. */
export function shareButton({ mount, start, stopped = () => {} }) {
  const button = h("button", { type: "button", class: "btn", id: "share-screen", "aria-pressed": "false" }, t("share.start"));
  const status = h("span", { class: "hint", role: "status" });
  mount.append(h("div", { class: "row share-row" }, button, status));
  let capture = null;
  const set = (on) => {
    button.setAttribute("aria-pressed", String(on));
    setText(button, t(on ? "share.stop" : "share.start"));
    setText(status, on ? t("share.on") : "");
  };
  // one end, however it comes: this button, the browser's own "stop sharing" bar, or stop()
  // from the page (the chair stopped the share)
  const end = () => {
    if (!capture) return;
    const c = capture;
    capture = null;
    c.stop();
    set(false);
    stopped();
  };
  button.addEventListener("click", async () => {
    if (capture) {
      end();
      return;
    }
    button.disabled = true;
    try {
      capture = await start();
      set(true);
      capture.track.addEventListener("ended", end);
    } catch (err) {
      capture = null;
      setText(status, err && err.name === "NotAllowedError" ? t("share.cancelled") : err && err.refused ? t("share.refused") : t("share.failed"));
    } finally {
      button.disabled = false;
    }
  });
  return { button, get capture() { return capture; }, stop: end };
}

/** A share shown on the stage `box` (a .video-box) as the big picture, the other pictures in a
 * corner (the same layout as slides: .presenting); "⇄" swaps them (.swapped: the share in the
 * corner, the program or the floor holder big). */
export function shareStage({ box }) {
  const video = h("video", { class: "share-video", autoplay: true, playsinline: true, muted: true });
  const caption = h("p", { class: "slide-caption share-caption", "aria-live": "polite" });
  const layer = h("div", { class: "share-layer", hidden: true }, video, caption, swapButton(box, t("share.swap")));
  box.append(layer);
  return {
    video,
    /** Show `stream` (a MediaStream with the share's track), shared by `who`. */
    show(stream, who) {
      if (video.srcObject !== stream) video.srcObject = stream;
      video.play().catch(() => {});
      setText(caption, t("share.caption", { who }));
      layer.hidden = false;
      toggle(box, "presenting", true);
      toggle(box, "sharing", true);
    },
    hide() {
      this.conceal();
      video.srcObject = null;
    },
    /** Show the layer as it is (its <video> fed by media.js's player), captioned for `who`. */
    reveal(who) {
      setText(caption, t("share.caption", { who }));
      layer.hidden = false;
      toggle(box, "presenting", true);
      toggle(box, "sharing", true);
    },
    conceal() {
      if (layer.hidden) return;   // not shown: leave the stage's classes to whatever else is on it
      layer.hidden = true;
      toggle(box, "sharing", false);
      if (!box.querySelector(".slide-layer:not([hidden])")) toggle(box, "presenting", false);
      unswapWhenIdle(box);
    },
  };
}

/** A page's stage shows the share while a site (other than this page's own) shares: the share
 * big, the program picture-in-picture (.presenting, as slides); nothing on audio only. */
export function shareOnStage({ box, store, media, own = null }) {
  const stage = shareStage({ box });
  media.show("share", stage.video);
  const render = (s) => {
    const who = sharing(s);
    const audioOnly = media.audioOnly || media.poorLink;
    if (who && who !== own && !audioOnly) stage.reveal(siteName(s, who));
    else stage.conceal();
  };
  store.on((_ev, s) => render(s));
  render(store.state);
  return { stage, render: () => render(store.state) };
}

/** The presenter's "share the screen" button for `site` ({code}): shown while the site may
 * present; a click captures the screen, asks the server (`start_share`) and sends the track on
 * the share slot; a stop (button, browser bar, or the chair's `share_stopped`) ends it all. */
export function presenterShare({ mount, store, run, media, site }) {
  const row = h("div", { class: "share-presenter", id: "share-presenter", hidden: true });
  mount.append(row);
  const control = shareButton({
    mount: row,
    async start() {
      const capture = await captureScreen({});
      try {
        await run("start_share", { site: site.code });
      } catch (err) {
        capture.stop();
        throw Object.assign(new Error("refused"), { refused: true, cause: err });
      }
      await media.startShare(capture.track);
      return capture;
    },
    stopped() {
      media.stopShare();
      if (sharing(store.state) === site.code) run("stop_share", {}).catch(() => {});
    },
  });
  const render = (s) => { row.hidden = !mayPresent(s, site.code) && !control.capture; };
  store.on((ev, s) => {
    // the chair stopped it, its floor or allowance ended, the conference ended: stop capturing
    if (ev.type === "share_stopped" && ev.site === site.code && control.capture) control.stop();
    render(s);
  });
  render(store.state);
  return control;
}

/** The chair's line under the program: who shares, and "stop the share" (the chair stops any). */
export function chairShareControl({ mount, store, run }) {
  const line = h("p", { class: "share-chair-line" });
  const stop = h("button", { type: "button", id: "chair-share-stop", class: "btn btn-small btn-danger" }, t("share.chair_stop"));
  const box = h("div", { class: "share-chair row", id: "chair-share", hidden: true }, line, stop);
  mount.append(box);
  stop.addEventListener("click", () => run("stop_share", {}).catch(() => {}));
  const render = (s) => {
    const who = sharing(s);
    box.hidden = !who;
    setText(line, who ? t("share.caption", { who: siteName(s, who) }) : "");
  };
  store.on((_ev, s) => render(s));
  render(store.state);
}
