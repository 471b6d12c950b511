// This page's microphone and camera (media.js): opened once, kept while live, and asked for
// again (only what is missing) after audio-only mode or a device that went away.

const CAMERA = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 25 } };
const live = (t) => !!t && t.readyState === "live";

/**
 * This page's microphone and camera: the live tracks of `current` kept, the missing ones asked
 * for (both at once, then each alone when that fails). Returns {stream, devices, error};
 * devices: "ok" | "no-camera" | "no-mic" | "none".
 */
export async function openDevices(current, { camera = true } = {}) {
  const mic = current ? current.getAudioTracks().find(live) : null;
  const cam = current ? current.getVideoTracks().find(live) : null;
  const got = [];
  let error = null;
  const first = { audio: !mic, video: camera && !cam ? CAMERA : false };
  const tries = first.audio && first.video ? [first, { audio: true, video: false }, { audio: false, video: CAMERA }] : [first];
  if ((first.audio || first.video) && navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    for (const constraints of tries) {
      try {
        got.push(...(await navigator.mediaDevices.getUserMedia(constraints)).getTracks());
        if (constraints === first) break;
      } catch (err) {
        error = err && err.name;
      }
    }
  }
  const stream = new MediaStream([mic, cam, ...got].filter(live)
    .filter((t, i, all) => all.findIndex((x) => x.kind === t.kind) === i));
  const hasMic = stream.getAudioTracks().length > 0;
  const hasCam = stream.getVideoTracks().length > 0;
  const devices = hasMic && (hasCam || !camera) ? "ok" : hasMic ? "no-camera" : hasCam ? "no-mic" : "none";
  return { stream, devices, error };
}
