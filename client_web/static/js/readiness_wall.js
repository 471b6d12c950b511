// The sites' connectivity checks on the chair's console (scheduling/readiness.py): before the
// conference opens, a table above the wall says which sites are ready (sẵn sàng), which need a
// look (cần kiểm tra) and which have not checked yet (chưa kiểm tra), with each site's figures.
// Sites that need a look come first, then those not checked, then the ready ones.

import { $, fill, h, setText } from "./dom.js";
import { siteName } from "./derive.js";
import { clock, num, t } from "./i18n.js";

const CHECK_PHASES = new Set(["scheduled", "rehearsal"]);
const ORDER = { needs_check: 0, unchecked: 1, ready: 2 };

/** Counts of the invited remote sites (and the main bridge) by the status of their last check. */
export function readinessCounts(s) {
  const counts = { ready: 0, needs_check: 0, unchecked: 0 };
  for (const code of Object.keys(s.sites)) counts[statusOf(s, code)] += 1;
  return counts;
}

function statusOf(s, code) {
  const r = s.readiness && s.readiness[code];
  return r ? r.status : "unchecked";
}

export function renderReadiness(s, tz) {
  const box = $("#readiness-wall");
  if (!box) return;
  box.hidden = !CHECK_PHASES.has(s.phase);
  if (box.hidden) return;
  const c = readinessCounts(s);
  setText($("#readiness-counts"), t("readiness.counts", {
    ready: num(c.ready), needs: num(c.needs_check), unchecked: num(c.unchecked),
  }));
  const codes = Object.keys(s.sites).sort((a, b) =>
    ORDER[statusOf(s, a)] - ORDER[statusOf(s, b)] || siteName(s, a).localeCompare(siteName(s, b), "vi"));
  const dash = "—";
  fill($("#readiness-rows"), codes.map((code) => {
    const r = s.readiness && s.readiness[code];
    const status = statusOf(s, code);
    const problems = r ? r.problems.map((p) => t(`readiness.problem.${p}`)).join(", ") : "";
    return h("tr", { class: `readiness-${status}`, dataset: { site: code } },
      h("th", { scope: "row" }, siteName(s, code)),
      h("td", null, h("span", { class: `chip readiness-chip ${status}` }, t(`readiness.${status}`)),
        problems ? h("div", { class: "muted small" }, problems) : null),
      h("td", null, !r ? dash : r.microphone ? (r.mic_level !== null ? `${num(r.mic_level)}%` : t("readiness.yes")) : t("readiness.none")),
      h("td", null, !r ? dash : r.camera ? t("readiness.yes") : t("readiness.none")),
      h("td", null, r && r.rtt_ms !== null ? `${num(r.rtt_ms)} ms` : dash),
      h("td", null, r && r.loss_pct !== null ? `${num(r.loss_pct, 1)}%` : dash),
      h("td", null, r && r.bitrate_kbps !== null ? `${num(r.bitrate_kbps)} kbps` : dash),
      h("td", null, !r ? dash : r.relay ? t("readiness.yes") : t("readiness.no")),
      h("td", null, r ? `${clock(r.at, tz)}${r.runs > 1 ? ` (${t("readiness.runs", { n: num(r.runs) })})` : ""}` : dash));
  }));
}
