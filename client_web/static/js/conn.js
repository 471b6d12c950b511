// The page's one WebSocket to /ws (docs/protocol.md): hello, welcome, events in seq order,
// commands with idempotency keys, and reconnection from the last seq after any drop.
//
// status: "connecting" -> "online" -> "reconnecting" (-> "offline" after OFFLINE_AFTER_MS
// without a link, or when the browser says it is offline) -> "online" again. Commands sent
// while the link is down wait and go out, with their original keys, after the next welcome:
// a command the server had already taken is answered with the same ack, never done twice.
//
// The events of one command (an `event` message with `more`, then the last one without) are
// held and handed to `onEvent` together, in one task: a page never draws the state between
// them (the floor neither empty nor doubled during a handover).

const OFFLINE_AFTER_MS = 12000;
// closes after which the same hello cannot succeed: the page says why and stops (4410: the
// session ended while the page was open, e.g. signed out, password changed, link revoked,
// role in the conference lost; server/errors.py WS_CLOSE_MEANINGS)
const SESSION_ENDED = 4410;
const FATAL = new Set([4401, 4403, 4404, SESSION_ENDED]);
const PAGE = Math.random().toString(36).slice(2, 10);
let counter = 0;

export function newKey(prefix = "k") {
  counter += 1;
  return `${prefix}-${PAGE}-${Date.now().toString(36)}-${counter}`;
}

export class Conn {
  /**
   * @param {object} o
   * @param {string} o.conference
   * @param {string|null} o.token   a join-link token, or null to use the session cookie
   * @param {() => number} o.lastSeq  the seq of the last event the page holds
   * @param {(welcome) => void} o.onWelcome
   * @param {(seq, event) => void} o.onEvent
   * @param {(msg) => void} [o.onMessage]  other server messages (levels, answer, error without ref…)
   * @param {(sites) => void} [o.onPresence]  sites' live connections {code: "online"|"reconnecting"|"offline"}
   *   (the welcome's, once the events up to its seq are in, then each `presence` message)
   * @param {(status, detail) => void} [o.onStatus]
   */
  constructor(o) {
    Object.assign(this, { onMessage: () => {}, onStatus: () => {}, onPresence: () => {} }, o);
    this.livePending = null;       // the welcome's presence, held until the replay reaches its seq
    this.status = "connecting";
    this.pending = new Map();      // key -> {cmd, resolve, reject, sentAt}
    this.held = [];                // [seq, event] of a command whose last event has not come yet
    this.ws = null;
    this.retry = 0;
    this.lostAt = null;
    this.lastHeard = 0;
    this.heartbeat = 3;
    this.skew = 0;                 // server clock - page clock, ms
    this.fatal = null;
    this.wantSnapshot = false;
    this._timer = null;
    window.addEventListener("online", () => this._now());
    window.addEventListener("offline", () => {   // the browser knows: do not wait for the heartbeat
      if (this.lostAt === null) this.lostAt = Date.now();
      this.drop();
      this._setStatus("offline");
    });
    setInterval(() => this._tick(), 1000);
  }

  start() {
    this._open();
    return this;
  }

  now() {
    return Date.now() + this.skew;
  }

  /** Send a conference command; resolves with the ack, rejects with {code, message}. */
  send(type, fields = {}, key = newKey(type.slice(0, 12))) {
    const cmd = { type, key, ...fields };
    return new Promise((resolve, reject) => {
      this.pending.set(key, { cmd, resolve, reject, sentAt: Date.now() });
      if (this.status === "online") this._raw(cmd);
    });
  }

  /** A control message (media_prefs, offer, candidate): sent now or dropped. */
  control(msg) {
    if (this.status === "online") this._raw(msg);
    return this.status === "online";
  }

  /** Cut the link as a network failure would (tests, and the "reconnect" button). */
  drop() {
    if (this.ws) this.ws.close();
  }

  _raw(msg) {
    try {
      this.ws.send(JSON.stringify(msg));
    } catch (e) {
      /* the close handler reconnects */
    }
  }

  _url() {
    return `${location.protocol === "https:" ? "wss:" : "ws:"}//${location.host}/ws`;
  }

  _open() {
    if (this.fatal) return;
    clearTimeout(this._timer);
    const ws = new WebSocket(this._url());
    this.ws = ws;
    this.welcomed = false;
    this.held = [];
    ws.onopen = () => {
      const hello = { type: "hello", conference: this.conference, last_seq: this.wantSnapshot ? 0 : this.lastSeq(), snapshot: true };
      if (this.token) hello.token = this.token;
      ws.send(JSON.stringify(hello));
      this.lastHeard = Date.now();
    };
    ws.onmessage = (m) => this._message(m.data);
    ws.onclose = (e) => this._closed(ws, e);
    ws.onerror = () => {};
  }

  _closed(ws, e) {
    if (ws !== this.ws) return;
    this.ws = null;
    if (FATAL.has(e.code)) {
      const code = this.fatalCode || (e.code === SESSION_ENDED ? "session_ended" : e.reason || String(e.code));
      this.fatal = { code, message: this.fatalMessage || e.reason, close: e.code };
      this._setStatus("refused", this.fatal);
      for (const p of this.pending.values()) p.reject(this.fatal);
      this.pending.clear();
      return;
    }
    if (this.lostAt === null) this.lostAt = Date.now();
    this._setStatus(navigator.onLine === false ? "offline" : "reconnecting");
    const delay = Math.min(5000, 300 * 2 ** this.retry) * (0.75 + Math.random() * 0.5);
    this.retry = Math.min(this.retry + 1, 6);
    this._timer = setTimeout(() => this._open(), delay);
  }

  _now() {
    if (this.status === "online" || this.fatal) return;
    this.retry = 0;
    if (this.ws) return;
    clearTimeout(this._timer);
    this._open();
  }

  _message(data) {
    this.lastHeard = Date.now();
    let msg;
    try {
      msg = JSON.parse(data);
    } catch {
      return;
    }
    switch (msg.type) {
      case "welcome":
        this.welcomed = true;
        this.retry = 0;
        this.lostAt = null;
        this.wantSnapshot = false;
        this.heartbeat = msg.heartbeat_s || 3;
        this.skew = Date.parse(msg.server_time) - Date.now();
        this.onWelcome(msg);
        this.livePending = { seq: msg.seq, sites: { ...(msg.presence || {}) } };
        this._livePresence();
        this._setStatus("online");
        for (const p of this.pending.values()) {
          p.sentAt = Date.now();
          this._raw(p.cmd);
        }
        break;
      case "event": {
        const last = this.lastSeq() + this.held.length;
        if (msg.seq <= last) return;
        if (msg.seq !== last + 1) {   // a gap: start again from a snapshot
          this.held = [];
          this.wantSnapshot = true;
          this.drop();
          return;
        }
        this.held.push([msg.seq, msg.event]);
        if (msg.more) return;         // the rest of the command's events are on their way
        const batch = this.held;
        this.held = [];
        for (const [seq, event] of batch) this.onEvent(seq, event);
        if (this.livePending) this._livePresence();
        break;
      }
      case "presence":   // live, not in the log: a reload or a short drop is told only here
        if (this.livePending) Object.assign(this.livePending.sites, msg.sites);
        else this.onPresence(msg.sites);
        break;
      case "ack": {
        const p = this.pending.get(msg.key);
        if (p) {
          this.pending.delete(msg.key);
          p.resolve(msg);
        }
        break;
      }
      case "error": {
        if (msg.ref === "hello") {
          this.fatalCode = msg.code;
          this.fatalMessage = msg.message;
          return;
        }
        const p = msg.ref ? this.pending.get(msg.ref) : null;
        if (p) {
          this.pending.delete(msg.ref);
          p.reject({ code: msg.code, message: msg.message });
        } else {
          this.onMessage(msg);
        }
        break;
      }
      case "pong":
        break;
      default:
        this.onMessage(msg);
    }
  }

  _livePresence() {
    const p = this.livePending;
    if (!p || this.lastSeq() < p.seq) return;   // older recorded states would cover the live ones
    this.livePending = null;
    if (Object.keys(p.sites).length) this.onPresence(p.sites);
  }

  _tick() {
    if (this.status === "online" && this.ws) {
      const quiet = Date.now() - this.lastHeard;
      if (quiet > this.heartbeat * 1000 * 3 + 2000) {   // the link is dead but no one told us
        this.ws.onclose = null;
        this.ws.close();
        const ws = this.ws;
        this._closed(ws, { code: 1006 });
        return;
      }
      if (quiet > this.heartbeat * 1000) this._raw({ type: "ping", t: Date.now() / 1000 });
      for (const [key, p] of this.pending) {
        if (Date.now() - p.sentAt > 20000) {
          this.pending.delete(key);
          p.reject({ code: "timeout", message: "no answer from the server" });
        }
      }
    }
    if (this.status === "reconnecting" && this.lostAt !== null && Date.now() - this.lostAt > OFFLINE_AFTER_MS) {
      this._setStatus("offline");
    }
  }

  _setStatus(status, detail) {
    if (status === this.status) return;
    this.status = status;
    this.onStatus(status, detail);
  }
}
