// What a page shows and plays of its media (media.js): one video and one audio track per slot
// ("program", "speaker-0", "preview-N", and "local" for the page's own camera), put into the
// <video> elements the page gave for that slot. Videos are muted; sound plays through <audio>
// elements, which autoplay rules allow without a click when the browser agrees and otherwise
// after one ("turn on sound": setSound(true) from a click handler).

export class Player {
  constructor({ sound = true, onChange = () => {} } = {}) {
    this.tracks = new Map();        // slot -> {audio, video}
    this.views = new Map();         // slot -> [<video>]
    this.sounds = new Map();        // slot -> <audio>
    this.soundOn = sound;
    this.soundBlocked = false;
    this.audioOnly = false;
    this.onChange = onChange;
  }

  /** Show a slot in a <video> (several elements may show one slot). */
  show(slot, video) {
    const list = this.views.get(slot) || [];
    if (!list.includes(video)) list.push(video);
    this.views.set(slot, list);
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    for (const ev of ["playing", "loadeddata", "resize", "emptied"]) video.addEventListener(ev, () => this._mark(video));
    this._attachVideo(slot);
  }

  /** The track of a slot (null: none any more). */
  set(slot, kind, track) {
    const t = this.tracks.get(slot) || { audio: null, video: null };
    const fresh = t[kind] !== track;
    t[kind] = track;
    this.tracks.set(slot, t);
    if (kind === "video") {
      if (track && fresh) {
        track.addEventListener("mute", () => this._markSlot(slot));
        track.addEventListener("unmute", () => this._markSlot(slot));
      }
      this._attachVideo(slot);
    } else {
      this._attachSound(slot);
    }
  }

  /** The connection is gone: every received track with it. */
  clearRemote() {
    for (const slot of [...this.tracks.keys()]) {
      if (slot === "local") continue;
      this.set(slot, "audio", null);
      this.set(slot, "video", null);
    }
  }

  setSound(on) {
    this.soundOn = !!on;
    this.soundBlocked = false;
    for (const el of this.sounds.values()) this._play(el);
  }

  setAudioOnly(on) {
    this.audioOnly = !!on;
    for (const list of this.views.values()) for (const v of list) this._mark(v);
  }

  _attachVideo(slot) {
    const track = this.tracks.get(slot)?.video || null;
    for (const v of this.views.get(slot) || []) {
      const current = v.srcObject ? v.srcObject.getVideoTracks()[0] : null;
      if (current !== track) {
        v.srcObject = track ? new MediaStream([track]) : null;
        if (track) v.play().catch(() => {});
      }
      this._mark(v);
    }
  }

  _attachSound(slot) {
    const track = this.tracks.get(slot)?.audio || null;
    let el = this.sounds.get(slot);
    if (!track) {
      if (el) el.srcObject = null;
      return;
    }
    if (!el) {
      el = new Audio();
      this.sounds.set(slot, el);
    }
    el.srcObject = new MediaStream([track]);
    this._play(el);
  }

  _play(el) {
    el.muted = !this.soundOn;
    if (!el.srcObject) return;
    el.play().catch((err) => {
      if (err && err.name === "NotAllowedError" && this.soundOn && !this.soundBlocked) {
        this.soundBlocked = true;     // the page shows "turn on sound"; its click plays
        this.onChange();
      }
    });
  }

  _markSlot(slot) {
    for (const v of this.views.get(slot) || []) this._mark(v);
  }

  /** `playing` on a <video> that shows moving pictures (the placeholder behind it hides). */
  _mark(video) {
    const track = video.srcObject ? video.srcObject.getVideoTracks()[0] : null;
    const on = !!track && track.readyState === "live" && !track.muted && video.readyState >= 2 && !this.audioOnly;
    video.classList.toggle("playing", on);
  }
}
