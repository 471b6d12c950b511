// The page's audio and video: one RTCPeerConnection to the server's forwarder, negotiated
// over the page's /ws exactly as docs/media.md says.
//
//   m0 audio, m1 video   sendrecv with this page's microphone and camera (recvonly without them):
//                        what the page publishes, and the program it receives
//   m2 video             the share slot, marked `a=content:slides` in the offer sent: sendrecv on a
//                        publishing page (its screen share up while it shares, the presenter's
//                        share down), recvonly on a staff page
//   m3.. pairs           recvonly: speaker slot i (floor holder i), audio + video
//   last P               recvonly video: preview slots (the chair's wall)
//
// The page is the offerer; the server answers with every slot named by its msid stream
// (`program`, `speaker-0`, `preview-0`, …) and never renegotiates: who is in a slot changes on
// the server. What the page sends follows the server's `publish` hints, applied with
// RTCRtpSender.setParameters (nothing is sent until a hint says so). A new connection (new
// RTCPeerConnection, new offer) is made after every welcome (a new /ws means a new peer on the
// server), when ICE fails, and when the page needs another layout (camera back after audio-only).
//
// state: "idle" -> "connecting" -> "connected"; "reconnecting" while a lost connection is
// being replaced; "failed" (retrying by itself with a backoff); "unavailable" when the server
// runs without a media plane.
//
// Beside it: media_signal.js (the /ws messages), media_player.js (what is shown and played),
// media_devices.js (camera and microphone); site_media.js and chair_media.js put it on the pages.

import { openDevices } from "./media_devices.js";
import { Player } from "./media_player.js";
import { MediaSignal } from "./media_signal.js";

const VP8 = "video/vp8";
const OPUS = "audio/opus";
const FULL = { maxBitrate: 1_500_000, maxFramerate: 30, scaleResolutionDownBy: 1 };
const PREVIEW = { maxBitrate: 150_000, maxFramerate: 5, height: 180 };
// the connectivity check's camera: enough to measure the link, light enough not to crowd the
// page's own downlink (a full-rate upload on a busy PC made Chromium's receive estimate drop)
const PROBE = { maxBitrate: 600_000, maxFramerate: 15, scaleResolutionDownBy: 1 };
const RETRY_MS = [1000, 2000, 4000, 8000, 15000];
const DISCONNECTED_GRACE_MS = 4000;
// a shared screen: sharp text over motion (contentHint "detail" on the track, see screen_share.js)
const SHARE = { maxBitrate: 1_200_000, maxFramerate: 15, scaleResolutionDownBy: 1 };
const SHARE_MARK = "a=content:slides";
const MEDIA_STATE = { connected: "flowing", connecting: "renegotiating", reconnecting: "renegotiating", failed: "stalled" };

/**
 * @param {object} o
 * @param {object} o.conn          the page's Conn (conn.js)
 * @param {boolean} [o.publish]    offer this page's camera and microphone (site and main-bridge pages)
 * @param {number} [o.speakerSlots]
 * @param {number} [o.previewSlots]
 * @param {boolean} [o.sound]      play received audio from the start (the chair's console starts silent)
 * @param {(media) => void} [o.onChange]  anything shown changed (state, hint, sound, devices)
 */
export function createMedia(o) {
  return new Media(o);
}

export class Media {
  constructor({ conn, publish = false, speakerSlots = 1, previewSlots = 0, sound = true, onChange = () => {} }) {
    Object.assign(this, { conn, publish, speakerSlots, previewSlots, onChange });
    this.state = "idle";
    this.error = null;
    this.devices = publish ? "pending" : "none";   // "ok" | "no-camera" | "no-mic" | "none" | "pending"
    this.hint = { audio: false, video: "off" };
    this.audioOnly = false;         // this page's own choice
    this.poorLink = false;          // the server's: this page's link loses too much for video
    this.you = null;
    this.previews = [];
    this.floor = false;
    this.probing = false;           // the connectivity check is sending (probe)
    this.player = new Player({ sound, onChange: () => this._changed() });
    this.iceServers = [];
    this.pc = null;
    this.generation = 0;            // one per RTCPeerConnection made
    this.failures = 0;
    this.local = null;              // this page's camera + microphone
    this.shareTrack = null;         // this page's captured screen while it shares
    this._retry = null;
    this._grace = null;
    this._params = Promise.resolve();
    this._opening = null;
    this.signal = new MediaSignal(conn, {
      welcome: (m) => {
        this.iceServers = Array.isArray(m.ice_servers) ? m.ice_servers : [];
        this.hint = { audio: false, video: "off" };   // a new peer on the server: its hints come anew
        this.you = m.you || null;
        this._setPoorLink(false);
      },
      linkQuality: (m) => {
        // about this page (a site's own page, or a staff page's own link), not another site on the wall
        const own = this.you && this.you.kind === "site" ? m.site === this.you.id : m.site == null;
        if (own) this._setPoorLink(!!m.audio_only);
      },
      publish: (m) => {
        this.hint = { audio: !!m.audio, video: m.video || "off" };
        this._applyHint();
        this._changed();
      },
      status: (s) => {
        if (s === "online") return;
        // The server lets go of a page's media when its /ws closes: say so until the next welcome.
        if (s === "refused") this.close();   // this page may not join (link revoked): release the devices
        else if (this.state === "connected" || this.state === "connecting") this._setState("reconnecting");
      },
    });
    if (window.bc) window.bc.media = this;   // the browser tests read stats() through it
  }

  // -- what the pages call -----------------------------------------------------------------

  /** After every welcome: the server made a new peer for this /ws, so make a new connection. */
  attach() {
    this.restart("welcome");
  }

  /** Show a slot ("program", "speaker-0", "preview-2", or "local" for this page's camera) in a <video>. */
  show(slot, video) {
    if (video) this.player.show(slot, video);
  }

  /** Send `track` (a captured screen, screen_share.js) on the share slot; the server forwards
   * it while the log says this site shares (`share_started`). No renegotiation. */
  async startShare(track) {
    this.shareTrack = track;
    const t = this._transceiver(2);
    if (t && t.sender) await t.sender.replaceTrack(track).catch(() => {});
    this._applyHint();
    this._changed();
  }

  /** Stop sending the screen (the capture itself is stopped by its owner). */
  async stopShare() {
    this.shareTrack = null;
    const t = this._transceiver(2);
    if (t && t.sender && t.sender.track) await t.sender.replaceTrack(null).catch(() => {});
    this._changed();
  }

  /** Receive audio only (poor link): the server stops sending video; this page stops sending its camera. */
  async setAudioOnly(on) {
    on = !!on;
    const changed = on !== this.audioOnly;
    this.audioOnly = on;
    this._send({ type: "media_prefs", audio_only: on });
    this.player.setAudioOnly(on || this.poorLink);
    if (!changed || !this.publish) return this._changed();
    if (on) {
      this._stopVideo();
      const t = this._transceiver(1);
      if (t && t.sender.track) await t.sender.replaceTrack(null).catch(() => {});
      this._applyHint();
    } else if (this.pc && this._transceiver(1)?.currentDirection === "sendrecv") {
      await this._ensureLocal();
      if (!this._localVideo()) await this._ensureLocal();   // a request made before the switch had no camera
      const track = this._localVideo();
      const t = this._transceiver(1);
      if (track && t && t.sender) await t.sender.replaceTrack(track).catch(() => {});
      this._setLocalTracks();
      this._applyHint();
    } else if (this.pc) {
      this.restart("camera");        // m1 was offered recvonly: a new offer brings the camera
    }
    this._changed();
  }

  /** The server stopped (or resumed) sending video to this page because its link loses too much. */
  _setPoorLink(on) {
    if (on === this.poorLink) return;
    this.poorLink = on;
    this.player.setAudioOnly(this.audioOnly || on);
    this._changed();
  }

  /** The chair's wall: which sites' cameras fill the preview slots, in order. */
  setPreviews(codes) {
    this.previews = codes.slice(0, this.previewSlots);
    this._send({ type: "media_prefs", previews: this.previews });
  }

  /** This site holds the floor (the page shows its own camera then); the hints decide what is sent. */
  setFloor(on) {
    if (on === this.floor) return;
    this.floor = on;
    this._changed();
  }

  /** True while the server says this page is on air (program or floor holder). */
  get onAir() {
    return this.hint.audio || this.hint.video === "full";
  }

  /** Play received audio (a click on "turn on sound" also satisfies the browser's autoplay rule). */
  setSound(on) {
    this.player.setSound(on);
    this._changed();
  }

  get soundOn() {
    return this.player.soundOn;
  }

  /** The browser refused to play sound before a click: the page shows "turn on sound". */
  get soundBlocked() {
    return this.player.soundBlocked;
  }

  close() {
    this.generation += 1;
    clearTimeout(this._retry);
    clearTimeout(this._grace);
    this._closePc();
    if (this.local) for (const t of this.local.getTracks()) t.stop();
    this.local = null;
    this._setState("idle");
  }

  /** The connectivity check (readiness_check.js): open the devices if they are not open yet, and
   * while `on`, send the camera and microphone whatever the hints say, so that the link is measured
   * with media flowing (the server forwards nothing of it: the site is not on air). Returns the devices. */
  async probe(on) {
    if (this.publish) await this._ensureLocal();
    this.probing = !!on;
    this._applyHint();
    await this._params;
    return this.local;
  }

  /** Figures per slot for the operator and the tests: inbound per "slot/kind", outbound per kind
   * ("audio", "video" for the camera, "share" for the screen). */
  async stats() {
    const pc = this.pc;
    const out = {
      generation: this.generation, state: this.state, hint: { ...this.hint }, audioOnly: this.audioOnly, poorLink: this.poorLink,
      devices: this.devices, sound: this.soundOn && !this.soundBlocked, in: {}, out: {}, connection: pc ? pc.connectionState : null,
    };
    if (!pc) return out;
    const slotOfMid = new Map();
    pc.getTransceivers().forEach((t, i) => { if (t.mid !== null) slotOfMid.set(t.mid, this._slotOf(i)); });
    (await pc.getStats()).forEach((s) => {
      if (s.type === "inbound-rtp") {
        const slot = slotOfMid.get(s.mid);
        if (!slot) return;
        out.in[`${slot.id}/${s.kind}`] = {
          packets: s.packetsReceived || 0, bytes: s.bytesReceived || 0, frames: s.framesDecoded || 0,
          width: s.frameWidth || 0, height: s.frameHeight || 0, energy: s.totalAudioEnergy || 0, level: s.audioLevel || 0,
        };
      } else if (s.type === "outbound-rtp") {
        const slot = slotOfMid.get(s.mid);
        out.out[slot && slot.id === "share" ? "share" : s.kind] = {   // the camera is "video", the screen "share"
          packets: s.packetsSent || 0, bytes: s.bytesSent || 0, frames: s.framesEncoded || 0,
          width: s.frameWidth || 0, height: s.frameHeight || 0, active: s.active,
        };
      }
    });
    return out;
  }

  // -- the connection ------------------------------------------------------------------------

  /** Replace the connection: new RTCPeerConnection, new offer (docs/media.md, "Reconnecting"). */
  async restart(reason) {
    clearTimeout(this._retry);
    clearTimeout(this._grace);
    const gen = ++this.generation;
    const wasUp = this.state === "connected" || this.state === "reconnecting";
    this._closePc();
    this._setState(wasUp || reason !== "welcome" ? "reconnecting" : "connecting");
    try {
      if (this.publish) await this._ensureLocal();
      if (gen !== this.generation) return;
      const pc = this._newPc(gen);
      await pc.setLocalDescription(await pc.createOffer());
      if (gen !== this.generation) return;
      if (this.audioOnly || this.previews.length) {
        this._send({ type: "media_prefs", audio_only: this.audioOnly, ...(this.previewSlots ? { previews: this.previews } : {}) });
      }
      const sdp = await this.signal.ask(markShare(pc.localDescription.sdp));
      if (gen !== this.generation) return;
      await pc.setRemoteDescription({ type: "answer", sdp });
      if (gen !== this.generation) return;
      pc._answered = true;
      for (const c of pc._early.splice(0)) this._send(c);
      this._applyHint();
    } catch (err) {
      if (gen !== this.generation) return;
      const code = err && err.code;
      if (code === "media_unavailable") {   // a server without a media plane: stay quiet, release the devices
        this._closePc();
        if (this.local) for (const t of this.local.getTracks()) t.stop();
        this.local = null;
        this._setLocalTracks();
        return this._setState("unavailable");
      }
      this.error = code || String(err && (err.message || err.name) || err);
      if (code === "disconnected") return this._setState("reconnecting");   // the next welcome starts again
      console.warn("bridgeconf media: the connection could not be made:", this.error);
      this._setState("failed");
      this._retryLater();
    }
  }

  _newPc(gen) {
    const pc = new RTCPeerConnection({ bundlePolicy: "max-bundle", rtcpMuxPolicy: "require", iceServers: this.iceServers });
    this.pc = pc;
    pc._early = [];
    pc._answered = false;
    pc._ended = false;
    const mic = this.local ? this.local.getAudioTracks()[0] : null;
    const cam = this._localVideo();
    const own = (track, kind) => (track
      ? pc.addTransceiver(track, { direction: "sendrecv", streams: [this.local], sendEncodings: [{ active: false }] })
      : pc.addTransceiver(kind, { direction: "recvonly" }));
    own(mic, "audio");                                             // m0
    own(cam, "video");                                             // m1
    const share = this.shareTrack && this.shareTrack.readyState === "live" ? this.shareTrack : null;
    if (share) pc.addTransceiver(share, { direction: "sendrecv", streams: [new MediaStream([share])] });   // m2: share slot
    else pc.addTransceiver("video", { direction: this.publish ? "sendrecv" : "recvonly" });
    for (let i = 0; i < this.speakerSlots; i++) {                  // speaker slots
      pc.addTransceiver("audio", { direction: "recvonly" });
      pc.addTransceiver("video", { direction: "recvonly" });
    }
    for (let i = 0; i < this.previewSlots; i++) pc.addTransceiver("video", { direction: "recvonly" });
    const codecs = (kind, mime) => (RTCRtpReceiver.getCapabilities(kind)?.codecs || []).filter((c) => c.mimeType.toLowerCase() === mime);
    const vp8 = codecs("video", VP8);
    const opus = codecs("audio", OPUS);
    for (const t of pc.getTransceivers()) {
      const list = t.receiver.track.kind === "video" ? vp8 : opus;
      if (list.length && t.setCodecPreferences) t.setCodecPreferences(list);
    }
    pc.ontrack = (e) => {
      if (gen !== this.generation) return;
      const index = pc.getTransceivers().indexOf(e.transceiver);
      const named = e.streams[0] ? e.streams[0].id : "";
      const slot = /^(program|share|speaker-\d+|preview-\d+)$/.test(named) ? named : this._slotOf(index)?.id;
      if (slot) this.player.set(slot, e.track.kind, e.track);
    };
    pc.onicecandidate = (e) => {
      if (gen !== this.generation || pc._ended) return;
      const c = e.candidate && e.candidate.candidate
        ? { type: "candidate", candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid, sdpMLineIndex: e.candidate.sdpMLineIndex }
        : { type: "candidate", candidate: "" };
      if (!c.candidate) pc._ended = true;
      if (pc._answered) this._send(c);
      else pc._early.push(c);
    };
    pc.onconnectionstatechange = () => {
      if (gen !== this.generation) return;
      switch (pc.connectionState) {
        case "connected":
          clearTimeout(this._grace);
          this.failures = 0;
          this.error = null;
          this._setState("connected");
          this._applyHint();
          break;
        case "disconnected":      // often comes back by itself; if not, replace the connection
          this._setState("reconnecting");
          clearTimeout(this._grace);
          this._grace = setTimeout(() => {
            if (gen === this.generation && pc.connectionState !== "connected") this.restart("disconnected");
          }, DISCONNECTED_GRACE_MS);
          break;
        case "failed":
          this.error = "ice_failed";
          this._setState("failed");
          this._retryLater();
          break;
        default:
          break;
      }
    };
    return pc;
  }

  _closePc() {
    const pc = this.pc;
    this.pc = null;
    if (pc) {
      pc.ontrack = pc.onicecandidate = pc.onconnectionstatechange = null;
      pc.close();
    }
    this.player.clearRemote();
  }

  _retryLater() {
    clearTimeout(this._retry);
    if (!this.signal.online) return;     // the next welcome makes a new one
    const delay = RETRY_MS[Math.min(this.failures, RETRY_MS.length - 1)];
    this.failures += 1;
    const gen = this.generation;
    this._retry = setTimeout(() => { if (gen === this.generation) this.restart("retry"); }, delay);
  }

  _send(msg) {
    return this.signal.send(msg);
  }

  /** Apply the hint with setParameters (no renegotiation), one change at a time. */
  _applyHint() {
    this._params = this._params.then(() => this._setParameters()).catch((e) => console.warn("bridgeconf media: setParameters", e));
  }

  async _setParameters() {
    const pc = this.pc;
    if (!pc || pc.signalingState === "closed") return;
    const mic = this._transceiver(0);
    const cam = this._transceiver(1);
    const hint = this.probing ? { audio: true, video: "probe" } : this.hint;
    if (mic && mic.sender.track) await encode(mic.sender, { active: hint.audio });
    if (cam && cam.sender.track) {
      const want = this.audioOnly ? "off" : hint.video;
      if (want === "full") await encode(cam.sender, { active: true, ...FULL });
      else if (want === "probe") await encode(cam.sender, { active: true, ...PROBE });
      else if (want === "preview") {
        const height = cam.sender.track.getSettings().height || 480;
        await encode(cam.sender, {
          active: true, maxBitrate: PREVIEW.maxBitrate, maxFramerate: PREVIEW.maxFramerate,
          scaleResolutionDownBy: Math.max(1, height / PREVIEW.height),
        });
      } else await encode(cam.sender, { active: false });
    }
    const share = this._transceiver(2);
    if (share && share.sender.track) await encode(share.sender, { active: true, ...SHARE });
  }

  // -- local devices ---------------------------------------------------------------------------

  /** Open the camera and microphone once (one request at a time, whatever asks). */
  _ensureLocal() {
    this._opening ||= this._openLocal().finally(() => { this._opening = null; });
    return this._opening;
  }

  async _openLocal() {
    const { stream, devices, error } = await openDevices(this.local, { camera: !this.audioOnly });
    this.local = stream;
    this.devices = devices;
    if (error) this.error = error;
    this._setLocalTracks();
    this._changed();
  }

  _localVideo() {
    if (this.audioOnly || !this.local) return null;
    return this.local.getVideoTracks().find((t) => t.readyState === "live") || null;
  }

  _stopVideo() {
    if (!this.local) return;
    for (const t of this.local.getVideoTracks()) {
      t.stop();
      this.local.removeTrack(t);
    }
    this._setLocalTracks();
  }

  _setLocalTracks() {
    this.player.set("local", "video", this._localVideo());
  }

  // -- small things ------------------------------------------------------------------------------

  _transceiver(i) {
    return this.pc ? this.pc.getTransceivers()[i] || null : null;
  }

  /** The slot of the i-th m-line of the layout. */
  _slotOf(i) {
    if (i < 2) return { id: "program", kind: i === 0 ? "audio" : "video" };
    if (i === 2) return { id: "share", kind: "video" };
    const j = i - 3;
    if (j < 2 * this.speakerSlots) return { id: `speaker-${j >> 1}`, kind: j % 2 ? "video" : "audio" };
    const k = j - 2 * this.speakerSlots;
    return k < this.previewSlots ? { id: `preview-${k}`, kind: "video" } : null;
  }

  _setState(state) {
    if (state === this.state) return;
    this.state = state;
    // how this page's media fares, apart from its /ws: the chair's wall marks a site's (docs/protocol.md)
    const reported = MEDIA_STATE[state];
    if (reported) this._send({ type: "media_state", state: reported });
    this._changed();
  }

  _changed() {
    try {
      this.onChange(this);
    } catch (e) {
      console.warn(e);
    }
  }
}

/** The offer as sent to the server: m-line 2 marked as the share slot (RFC 4796; browsers do
 * not write it themselves, media/layout.py `mark_share` does the same for Python peers). */
export function markShare(sdp) {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const parts = sdp.split(`${eol}m=`);
  if (parts.length < 4 || parts[3].includes(SHARE_MARK)) return sdp;
  const section = parts[3];
  const ends = section.endsWith(eol);
  parts[3] = (ends ? section.slice(0, -eol.length) : section) + eol + SHARE_MARK + (ends ? eol : "");
  return parts.join(`${eol}m=`);
}

async function encode(sender, values) {
  const params = sender.getParameters();
  if (!params.encodings || !params.encodings.length) return;
  const enc = params.encodings[0];
  if (Object.entries(values).every(([k, v]) => enc[k] === v)) return;
  Object.assign(enc, values);
  await sender.setParameters(params);
}
