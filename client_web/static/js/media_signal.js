// The /ws side of a page's media (media.js): offers and their answers, candidates and
// media_prefs out; answer, publish, link_quality and media errors in. It hooks into the page's Conn (its
// onWelcome / onMessage / onStatus) so that media messages never reach the page's handlers
// (media errors are not toasted) and the page's handlers keep working as before.

const ANSWER_TIMEOUT_MS = 15000;
const MEDIA_REFS = new Set(["offer", "candidate", "media_prefs", "media_state"]);

export class MediaSignal {
  /**
   * @param {object} conn  the page's Conn
   * @param {object} on    {welcome(msg), publish(msg), linkQuality(msg), status(status)}: called before the
   *                       page's own handlers (link_quality reaches the page's onMessage too: the chair's wall)
   */
  constructor(conn, on) {
    this.conn = conn;
    this.answers = [];          // offers sent on this /ws, answered in order
    const welcome = conn.onWelcome;
    conn.onWelcome = (m) => {
      this._drop();
      on.welcome(m);
      welcome(m);
    };
    const message = conn.onMessage;
    conn.onMessage = (m) => {
      if (m.type === "publish") on.publish(m);
      else if (m.type === "link_quality") {
        on.linkQuality(m);
        message(m);
      } else if (!this._message(m)) message(m);
    };
    const status = conn.onStatus;
    conn.onStatus = (s, detail) => {
      if (s !== "online") this._drop();
      on.status(s);
      status(s, detail);
    };
  }

  get online() {
    return this.conn.status === "online";
  }

  /** Send a control message now; false when the /ws is down (the next welcome starts again). */
  send(msg) {
    return this.conn.control(msg);
  }

  /** Send an offer; resolves with the answer's SDP, rejects with {code, message}. Answers come
   * back in the order of the offers on one /ws (they carry no reference), so the queue is kept
   * even for an offer given up on: its late answer must not be taken for the next one's. */
  ask(sdp) {
    return new Promise((resolve, reject) => {
      if (!this.send({ type: "offer", sdp })) return reject({ code: "disconnected" });
      const entry = { resolve, reject };
      entry.timer = setTimeout(() => {
        entry.resolve = entry.reject = () => {};
        reject({ code: "timeout", message: "no answer to the offer" });
      }, ANSWER_TIMEOUT_MS);
      this.answers.push(entry);
    });
  }

  _drop() {
    for (const e of this.answers.splice(0)) {
      clearTimeout(e.timer);
      e.reject({ code: "disconnected" });
    }
  }

  /** True when the message was the media's. */
  _message(m) {
    const media = m.type === "answer" || (m.type === "error" &&
      (MEDIA_REFS.has(m.ref) || m.code === "media_unavailable" || String(m.code).startsWith("media")));
    if (!media) return false;
    if (m.type === "answer" || m.ref === "offer") {
      const e = this.answers.shift();
      if (e) {
        clearTimeout(e.timer);
        if (m.type === "answer") e.resolve(m.sdp);
        else e.reject({ code: m.code, message: m.message });
      }
    } else if (m.code !== "media_unavailable") {
      console.warn("bridgeconf media:", m.ref, m.code, m.message);
    }
    return true;
  }
}
