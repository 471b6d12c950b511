// The REST API (/api/v1) from a signed-in page: the session cookie goes by itself; writes
// carry the CSRF token the server put in the page. Errors reject with {code, message}.

import { newKey } from "./conn.js";
import { CONFIG } from "./i18n.js";

export async function api(method, path, body, { raw = null, contentType = "application/json", token = null } = {}) {
  const headers = {};
  if (method !== "GET" && CONFIG.csrf) headers["X-CSRF-Token"] = CONFIG.csrf;
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, credentials: "same-origin" };
  if (raw !== null) {
    headers["Content-Type"] = contentType;
    init.body = raw;
  } else if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(`/api/v1${path}`, init);
  const type = resp.headers.get("Content-Type") || "";
  const data = type.includes("application/json") ? await resp.json() : await resp.text();
  if (!resp.ok) {
    const err = (data && data.error) || { code: String(resp.status), message: String(data).slice(0, 300) };
    throw err;
  }
  return data;
}

export const get = (path) => api("GET", path);
export const post = (path, body) => api("POST", path, body);

/** Run a conference command over REST (admin pages; live pages use the WebSocket). */
export function command(conf, type, fields = {}) {
  return api("POST", `/conferences/${encodeURIComponent(conf)}/commands`, { type, key: newKey(type.slice(0, 12)), ...fields });
}
