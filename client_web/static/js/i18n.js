// The page's language: the string table the server put in the page (client_web/strings.py,
// translated by the gettext catalog of the chosen language), and Vietnamese formats.

const config = JSON.parse(document.getElementById("bc-config")?.textContent || "{}");
const table = JSON.parse(document.getElementById("bc-strings")?.textContent || "{}");

export const lang = config.lang || "vi";
export const CONFIG = config;
const SEP = lang === "vi" ? "." : ",";
const DEC = lang === "vi" ? "," : ".";

/** The translation of `key`, with `{name}` placeholders filled from `params`. */
export function t(key, params) {
  let text = table[key];
  if (text === undefined) {
    console.warn("bridgeconf: no string", key);
    text = key;
  }
  if (params) text = text.replace(/\{(\w+)\}/g, (m, name) => (params[name] !== undefined ? String(params[name]) : m));
  return text;
}

/** 15234 -> "15.234" (vi) or "15,234" (en). */
export function num(n, decimals = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "";
  const neg = n < 0;
  const [int, frac] = Math.abs(n).toFixed(decimals).split(".");
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, SEP);
  return (neg ? "-" : "") + grouped + (frac ? DEC + frac : "");
}

const parts = new Map();
function zoned(iso, tz) {
  const d = new Date(typeof iso === "number" ? iso : Date.parse(String(iso).replace(/(\.\d{3})\d+/, "$1")));
  if (Number.isNaN(d.getTime())) return null;
  let f = parts.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-GB", {
      timeZone: tz || config.tz || "Asia/Ho_Chi_Minh", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
    parts.set(tz, f);
  }
  const out = {};
  for (const p of f.formatToParts(d)) out[p.type] = p.value;
  return out;
}

/** dd/mm/yyyy of a date ("2025-10-03") or of a date-time in the conference's time zone. */
export function day(value, tz) {
  if (!value) return "";
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) {
    const [y, m, d] = value.split("-");
    return `${d}/${m}/${y}`;
  }
  const p = zoned(value, tz);
  return p ? `${p.day}/${p.month}/${p.year}` : "";
}

/** HH:MM in the conference's time zone. */
export function clock(value, tz) {
  const p = value ? zoned(value, tz) : null;
  return p ? `${p.hour}:${p.minute}` : "";
}

export function clockSeconds(value, tz) {
  const p = value ? zoned(value, tz) : null;
  return p ? `${p.hour}:${p.minute}:${p.second}` : "";
}

export function dayTime(value, tz) {
  return value ? `${clock(value, tz)} ${day(value, tz)}` : "";
}

/** The date (YYYY-MM-DD) of a moment in the conference's time zone. */
export function isoDay(value, tz) {
  const p = zoned(value, tz);
  return p ? `${p.year}-${p.month}-${p.day}` : "";
}

/** 754 -> "12:34"; 3754 -> "1:02:34". */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

/** 155 -> "2 phút 35 giây", 9000 -> "2 giờ 30 phút": a duration in words, which cannot be
 * read as a clock time; `seconds: false` rounds to minutes. */
export function spelled(total, { seconds = true } = {}) {
  let s = Math.max(0, Math.round(total));
  if (!seconds) s = Math.round(s / 60) * 60;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  const out = [];
  if (h) out.push(t("time.hours", { n: h }));
  if (m) out.push(t("time.minutes", { n: m }));
  if ((r && seconds) || !out.length) out.push(seconds ? t("time.seconds", { n: r }) : t("time.minutes", { n: 0 }));
  return out.join(" ");
}

/** A refusal of the server, in words: ours for the codes we know, the server's otherwise. */
export function errorText(err) {
  if (!err) return "";
  const key = `err.${err.code}`;
  return key in table ? t(key) : (err.message || err.code || String(err));
}

export function hasString(key) {
  return key in table;
}
