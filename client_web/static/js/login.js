// The sign-in form: POST /api/v1/session, then on to where the person was going.

import { $ } from "./dom.js";
import { CONFIG, errorText } from "./i18n.js";
import { setupSettings } from "./app.js";

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
    location.href = CONFIG.next || "/";
  } catch (err) {
    error.textContent = errorText(err);
    error.hidden = false;
    $("#login-password").select();
  } finally {
    button.disabled = false;
  }
});
