// The sign-in form: POST /api/v1/session, then on to where the person was going.

import { $ } from "./dom.js";
import { CONFIG, errorText } from "./i18n.js";
import { setupSettings } from "./app.js";

/** Only a path of this site may follow sign-in (the server checks it too: pages.safe_next). */
export function sameOrigin(next) {
  if (typeof next !== "string" || !next.startsWith("/") || /[\\\s]/.test(next) || next.startsWith("//")) return "/";
  try {
    const url = new URL(next, location.origin);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : "/";
  } catch {
    return "/";
  }
}

setupSettings();
$("#login-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const error = $("#login-error");
  error.hidden = true;
  const account = $("#login-account").value.trim();
  const password = $("#login-password").value;
  const button = e.currentTarget.querySelector("button[type=submit]");
  button.disabled = true;
  try {
    const resp = await fetch("/api/v1/session", {
      method: "POST", headers: { "Content-Type": "application/json" }, credentials: "same-origin",
      body: JSON.stringify({ account, password }),
    });
    const data = await resp.json();
    if (!resp.ok) throw data.error || { code: String(resp.status) };
    location.href = sameOrigin(CONFIG.next);
  } catch (err) {
    error.textContent = errorText(err);
    error.hidden = false;
    $("#login-password").select();
  } finally {
    button.disabled = false;
  }
});
