// The connectivity check of a site's page (kiểm tra kết nối), before the conference opens.
//
// 1. The camera and the microphone: found, live, and how loud the microphone hears (an
//    AnalyserNode over 1.5 s: the peak, 0..100 % of full scale).
// 2. The link to the media server, measured on the page's own WebRTC connection for five
//    seconds while the page sends its microphone and its camera, capped at 600 kbps
//    (media.probe): the round trip of the selected ICE candidate pair, the loss both ways (the server's receiver reports and
//    the packets the page received), the bitrate the browser's estimator allows (or what was
//    actually sent, whichever is higher), and whether the pair goes through a TURN relay.
//
// The figures go to the server as `report_readiness`; the domain judges them
// (scheduling/readiness.py) and the verdict comes back in the `readiness_reported` event,
// from which the page says in plain words what to fix. The check can be run again at will.

import { $, fill, h, setText, toast, toggle } from "./dom.js";
import { dayTime, num, t } from "./i18n.js";

const LEVEL_MS = 1500;
const PROBE_MS = 5000;
const CONNECT_WAIT_MS = 8000;
const CHECK_PHASES = new Set(["scheduled", "rehearsal"]);
const ADVICE = {   // problem -> what the page tells the site to do
  no_microphone: "check.fix.no_microphone",
  silent_microphone: "check.fix.silent_microphone",
  no_camera: "check.fix.no_camera",
  no_media_path: "check.fix.no_media_path",
  high_rtt: "check.fix.weak_link",
  high_loss: "check.fix.weak_link",
  low_bitrate: "check.fix.weak_link",
};

/** Put the check on a site's page: `#readiness` shows while the conference is scheduled or in rehearsal. */
export function readinessCheck({ store, conn, run, media, site, tz }) {
  const panel = $("#readiness");
  const button = $("#readiness-run");
  let running = false;

  function render() {
    const s = store.state;
    if (!s) return;
    panel.hidden = !CHECK_PHASES.has(s.phase);
    button.disabled = running || conn.status !== "online";
    if (running) return;
    const last = s.readiness ? s.readiness[site.code] : null;
    const status = $("#readiness-status");
    toggle(status, "ok-text", !!last && last.status === "ready");
    toggle(status, "warn-text", !!last && last.status === "needs_check");
    setText(status, !last ? t("check.never")
      : last.status === "ready" ? t("check.ready", { time: dayTime(last.at, tz) })
      : t("check.needs_check", { time: dayTime(last.at, tz) }));
    const advice = last ? [...new Set(last.problems.map((p) => ADVICE[p]).filter(Boolean))] : [];
    fill($("#readiness-advice"), advice.map((key) => h("li", null, t(key),
      key === "check.fix.weak_link" && !media.audioOnly ? [" ", audioOnlyButton()] : null)));
    setText(button, last ? t("check.run_again") : t("check.run"));
    fill($("#readiness-figures"), last ? figures(last) : []);
  }

  /** "Use audio only" at once: the page's own switch (site.js keeps the choice). */
  function audioOnlyButton() {
    return h("button", { type: "button", class: "btn btn-small use-audio-only", onclick: () => {
      const box = $("#audio-only");
      if (box && !box.checked) {
        box.checked = true;
        box.dispatchEvent(new Event("change"));
      }
      render();
    } }, t("check.use_audio_only"));
  }

  function figures(r) {
    const row = (label, value) => [h("div", { class: "figure" }, h("dt", null, label), h("dd", null, value))];
    const none = t("check.not_measured");
    return [
      ...row(t("check.microphone"), r.microphone ? (r.mic_level !== null ? `${t("check.found")} · ${num(r.mic_level)}%` : t("check.found")) : t("check.missing")),
      ...row(t("check.camera"), r.camera ? t("check.found") : t("check.missing")),
      ...row(t("check.rtt"), r.rtt_ms !== null ? `${num(r.rtt_ms)} ms` : none),
      ...row(t("check.loss"), r.loss_pct !== null ? `${num(r.loss_pct, 1)}%` : none),
      ...row(t("check.bitrate"), r.bitrate_kbps !== null ? `${num(r.bitrate_kbps)} kbps` : none),
      ...row(t("check.turn"), r.relay ? t("check.turn_yes") : t("check.turn_no")),
    ];
  }

  async function check() {
    running = true;
    button.disabled = true;
    setText($("#readiness-status"), t("check.running_devices"));
    fill($("#readiness-advice"));
    try {
      const local = await media.probe(true);
      const mic = local ? local.getAudioTracks().find((x) => x.readyState === "live") : null;
      const cam = local ? local.getVideoTracks().find((x) => x.readyState === "live") : null;
      const micLevel = mic ? await peakLevel(mic, LEVEL_MS) : null;
      setText($("#readiness-status"), t("check.running_link"));
      const link = await measureLink(media);
      const fields = {
        site: site.code, camera: !!cam && (cam.getSettings().width || 0) > 0, microphone: !!mic, mic_level: micLevel,
        ...link, via: "browser", agent: agentName(),
      };
      await run("report_readiness", fields);
    } catch (err) {
      console.warn("bridgeconf: the check failed", err);
    } finally {
      await media.probe(false).catch(() => {});
      running = false;
      render();
    }
  }

  button.addEventListener("click", () => { if (!running) check().catch(() => {}); });
  store.on((ev) => {
    if (ev.type === "readiness_reported" && ev.site === site.code) {
      toast(ev.status === "ready" ? t("check.ready_toast") : t("check.needs_check_toast"), ev.status === "ready" ? "ok" : "info");
    }
    render();
  });
  return { render };
}

/** The loudest the microphone heard over `ms`, 0..100 % of full scale. */
async function peakLevel(track, ms) {
  const Ctx = window.AudioContext || window.webkitAudioContext;
  if (!Ctx) return null;
  const ctx = new Ctx();
  try {
    if (ctx.state === "suspended") await ctx.resume().catch(() => {});
    const source = ctx.createMediaStreamSource(new MediaStream([track]));
    const analyser = ctx.createAnalyser();
    analyser.fftSize = 1024;
    source.connect(analyser);
    const buf = new Float32Array(analyser.fftSize);
    let peak = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) {
      await new Promise((r) => setTimeout(r, 50));
      analyser.getFloatTimeDomainData(buf);
      for (const v of buf) peak = Math.max(peak, Math.abs(v));
    }
    return Math.min(100, Math.round(peak * 100));
  } finally {
    ctx.close().catch(() => {});
  }
}

/** {rtt_ms, loss_pct, bitrate_kbps, relay} of the page's connection to the media server; the
 * figures are null when there is no connection to measure them on. */
async function measureLink(media) {
  const none = { rtt_ms: null, loss_pct: null, bitrate_kbps: null, relay: false };
  const until = performance.now() + CONNECT_WAIT_MS;
  while (media.state !== "connected" && performance.now() < until) await new Promise((r) => setTimeout(r, 200));
  if (media.state !== "connected" || !media.pc) return none;
  const pc = media.pc;
  const a = await sample(pc);
  await new Promise((r) => setTimeout(r, PROBE_MS));
  if (media.pc !== pc) return none;   // the connection was replaced meanwhile: run the check again
  const b = await sample(pc);
  const seconds = Math.max(0.001, (b.at - a.at) / 1000);
  const rtt = b.rtt !== null ? b.rtt : b.remoteRtt;
  const lost = b.inLost - a.inLost;
  const got = b.inReceived - a.inReceived;
  const losses = [];
  if (lost + got >= 20) losses.push((100 * lost) / (lost + got));
  if (b.remoteLoss !== null) losses.push(100 * b.remoteLoss);
  const sentKbps = ((b.sent - a.sent) * 8) / seconds / 1000;
  const allowedKbps = b.available !== null ? b.available / 1000 : 0;
  return {
    rtt_ms: rtt !== null ? Math.round(rtt * 1000) : null,
    loss_pct: losses.length ? Math.round(Math.max(...losses) * 10) / 10 : null,
    bitrate_kbps: Math.round(Math.max(sentKbps, allowedKbps)),
    relay: b.relay,
  };
}

async function sample(pc) {
  const report = await pc.getStats();
  const out = { at: performance.now(), rtt: null, remoteRtt: null, available: null, relay: false, sent: 0,
    remoteLoss: null, inLost: 0, inReceived: 0 };
  let pairId = null;
  report.forEach((s) => { if (s.type === "transport" && s.selectedCandidatePairId) pairId = s.selectedCandidatePairId; });
  report.forEach((s) => {
    if (s.type === "candidate-pair" && (pairId ? s.id === pairId : s.nominated && s.state === "succeeded")) {
      if (typeof s.currentRoundTripTime === "number") out.rtt = s.currentRoundTripTime;
      if (typeof s.availableOutgoingBitrate === "number") out.available = s.availableOutgoingBitrate;
      const local = report.get(s.localCandidateId);
      out.relay = !!local && local.candidateType === "relay";
    } else if (s.type === "outbound-rtp") {
      out.sent += s.bytesSent || 0;
    } else if (s.type === "remote-inbound-rtp") {
      if (typeof s.fractionLost === "number") out.remoteLoss = Math.max(out.remoteLoss || 0, s.fractionLost);
      if (typeof s.roundTripTime === "number") out.remoteRtt = s.roundTripTime;
    } else if (s.type === "inbound-rtp") {
      out.inLost += Math.max(0, s.packetsLost || 0);
      out.inReceived += s.packetsReceived || 0;
    }
  });
  return out;
}

function agentName() {
  const ua = navigator.userAgent || "";
  const m = /(Edg|OPR|Chrome|Chromium|Firefox|Version)\/(\d+)/.exec(ua);
  const name = m ? (m[1] === "Version" ? "Safari" : m[1] === "Edg" ? "Edge" : m[1] === "OPR" ? "Opera" : m[1]) : "browser";
  return `${name}${m ? " " + m[2] : ""}`.slice(0, 200);
}
