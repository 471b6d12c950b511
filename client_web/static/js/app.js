// What every conference page shares: the state store fed by the connection, the
// connection badge, the page settings (large text), the one-second clock.

import { Conn } from "./conn.js";
import { $, announce, h, toast, fill } from "./dom.js";
import { CONFIG, errorText, t } from "./i18n.js";
import { evolve, fromSnapshot } from "./reducer.js";

export class Store {
  constructor() {
    this.state = null;
    this.you = null;
    this.listeners = new Set();
  }

  get seq() {
    return this.state ? this.state.seq : 0;
  }

  on(fn) {
    this.listeners.add(fn);
  }

  welcome(msg) {
    this.you = msg.you;
    if (msg.snapshot) this.state = fromSnapshot(msg.snapshot);
    this._emit({ type: "welcome", snapshot: !!msg.snapshot });
  }

  event(seq, ev) {
    this.state = evolve(this.state, ev);
    if (this.state.seq !== seq) console.warn("bridgeconf: seq out of step", this.state.seq, seq);
    this._emit(ev);
  }

  /** Sites' live connections (not events: the log records only the transitions that mean
   * something): shown at once, and told to the listeners as a connection_changed marked live. */
  presence(sites) {
    const att = this.state ? this.state.attendance : {};
    for (const [site, connection] of Object.entries(sites)) {
      if (!att[site] || att[site].connection === connection) continue;
      att[site].connection = connection;
      this._emit({ type: "connection_changed", site, connection, live: true });
    }
  }

  _emit(ev) {
    for (const fn of this.listeners) {
      try {
        fn(ev, this.state);
      } catch (e) {
        console.error(e);
      }
    }
  }
}

/**
 * Start a conference page: connect, keep the store, show the connection state.
 * Returns {store, conn, run}; `run(type, fields)` sends a command and shows a refusal.
 */
export function boot({ token = null, onMessage = () => {} } = {}) {
  const store = new Store();
  const conn = new Conn({
    conference: CONFIG.conference,
    token,
    lastSeq: () => store.seq,
    onWelcome: (m) => store.welcome(m),
    onEvent: (seq, ev) => store.event(seq, ev),
    onPresence: (sites) => store.presence(sites),
    onMessage: (m) => {
      if (m.type === "error" && m.code !== "media_unavailable") toast(errorText(m), "error");
      onMessage(m);
    },
    onStatus: (status, detail) => showStatus(status, detail),
  });
  const run = async (type, fields = {}, { quiet = false } = {}) => {
    try {
      return await conn.send(type, fields);
    } catch (err) {
      if (!quiet) toast(errorText(err), "error");
      throw err;
    }
  };
  window.bc = { store, conn, run };   // for the browser tests and for a curious operator
  setupSettings();
  conn.start();
  return { store, conn, run };
}

function showStatus(status, detail) {
  const badge = $("#bc-conn");
  if (badge) {
    badge.dataset.status = status;
    fill($(".conn-text", badge), t(`conn.${status}`));
    badge.title = t(`conn.${status}.hint`);
  }
  document.documentElement.dataset.conn = status;
  if (status === "reconnecting" || status === "offline") announce(t(`conn.${status}`));
  if (status === "refused") {
    const box = $("#bc-fatal");
    if (box) {
      fill(box, h("h2", null, t("conn.refused.title")), h("p", null, errorText(detail)));
      box.hidden = false;
    }
    if (detail && (detail.code === "unauthorized" || detail.code === "token_revoked") && !CONFIG.site) {
      location.href = `/login?next=${encodeURIComponent(location.pathname)}`;
    }
  }
}

/** The large-text switch of meeting-hall screens (kept in a cookie the server reads). */
export function setupSettings() {
  const btn = $("#bc-large");
  if (btn && !btn.dataset.ready) {
    btn.dataset.ready = "1";
    btn.addEventListener("click", () => {
      const on = !document.documentElement.classList.contains("large");
      document.documentElement.classList.toggle("large", on);
      btn.setAttribute("aria-pressed", String(on));
      document.cookie = `bc_large=${on ? 1 : 0}; path=/; max-age=31536000; samesite=lax`;
    });
  }
  const out = $("#bc-logout");
  if (out && !out.dataset.ready) {
    out.dataset.ready = "1";
    out.addEventListener("click", async () => {
      await fetch("/api/v1/session", { method: "DELETE" });
      location.href = "/login";
    });
  }
}

/** Call `fn` every second (countdowns, elapsed time). */
export function everySecond(fn) {
  fn();
  return setInterval(fn, 1000);
}
