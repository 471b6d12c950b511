// ============================================================================================
// STUB — the media plane of the pages is not wired yet.
//
// The media plane (media/, docs/media.md) will define the transceivers a page offers (m0
// audio + m1 video of its own and the program, speaker slots, preview slots; see
// media/layout.py) and the `offer` / `answer` / `candidate` messages on /ws. Until that
// layout is final this module only:
//   - keeps the interface the pages call (attach, setAudioOnly, setFloor, setPreviews, close),
//   - sends the `media_prefs` control message (the server answers `media_unavailable` while
//     it runs without a media plane; the pages ignore that answer),
//   - shows the site's own camera while it holds the floor (getUserMedia), so the operator
//     sees that the camera and microphone are live.
// It opens no RTCPeerConnection: no program video or audio is received yet.
// ============================================================================================

export const STUB = true;

export function createMedia({ conn, programVideo = null, selfVideo = null, onState = () => {} }) {
  let local = null;
  let audioOnly = false;
  let wantFloor = false;

  async function startLocal() {
    if (local || !selfVideo || !navigator.mediaDevices?.getUserMedia) return;
    try {
      local = await navigator.mediaDevices.getUserMedia({ audio: true, video: audioOnly ? false : { width: 640, height: 360 } });
      if (!wantFloor) return stopLocal();
      selfVideo.srcObject = local;
      onState("live");
    } catch (err) {
      onState("no-device", err);
    }
  }

  function stopLocal() {
    if (local) for (const track of local.getTracks()) track.stop();
    local = null;
    if (selfVideo) selfVideo.srcObject = null;
    onState("idle");
  }

  return {
    stub: STUB,
    programVideo,
    /** Called after every welcome (a new connection): tell the server what this page wants. */
    attach() {
      if (audioOnly) conn.control({ type: "media_prefs", audio_only: true });
    },
    setAudioOnly(on) {
      audioOnly = !!on;
      conn.control({ type: "media_prefs", audio_only: audioOnly });
      if (programVideo) programVideo.classList.toggle("audio-only", audioOnly);
    },
    /** The site got (true) or lost (false) the floor: its camera and microphone go live or stop. */
    setFloor(on) {
      if (on === wantFloor) return;
      wantFloor = on;
      if (on) startLocal();
      else stopLocal();
    },
    /** The chair's wall: which sites' previews to receive (low rate, on demand). */
    setPreviews(codes) {
      conn.control({ type: "media_prefs", previews: codes.slice(0, 16) });
    },
    close() {
      wantFloor = false;
      stopLocal();
    },
  };
}
