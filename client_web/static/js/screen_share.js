// The page side of screen share (issue 12): capturing a screen, window or tab on the presenter's
// page, and showing a share as the big picture of a stage. Forwarding the share (a second video
// stream on the lean path, keyframe on start and on join) is the media plane's; media.js wires
// the two ends by handing the captured track to its sender and the received share track to
// `shareStage(...).show`. Nothing here talks to the server.
//
// In headless Chromium started with --use-fake-ui-for-media-stream (tests/e2e/conftest.py)
// getDisplayMedia answers at once with a fake 1280×720 "monitor" surface: the tests need no
// other flag (tests/e2e/test_screen_capture.py).

import { h, setText, toggle } from "./dom.js";
import { t } from "./i18n.js";

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
  button.addEventListener("click", async () => {
    if (capture) {
      capture.stop();
      return;
    }
    button.disabled = true;
    try {
      capture = await start();
      set(true);
      capture.track.addEventListener("ended", () => { capture = null; set(false); stopped(); });
    } catch (err) {
      setText(status, err && err.name === "NotAllowedError" ? t("share.cancelled") : t("share.failed"));
    } finally {
      button.disabled = false;
    }
  });
  return { get capture() { return capture; } };
}

/** A share shown on the stage `box` (a .video-box) as the big picture, the other pictures in a
 * corner (the same layout as slides: .presenting). */
export function shareStage({ box }) {
  const video = h("video", { class: "share-video", autoplay: true, playsinline: true, muted: true });
  const caption = h("p", { class: "slide-caption share-caption", "aria-live": "polite" });
  const layer = h("div", { class: "share-layer", hidden: true }, video, caption);
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
      layer.hidden = true;
      video.srcObject = null;
      toggle(box, "sharing", false);
      if (!box.querySelector(".slide-layer:not([hidden])")) toggle(box, "presenting", false);
    },
  };
}
