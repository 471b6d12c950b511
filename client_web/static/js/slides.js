// Slides on a conference page (scheduling/presentation.py, docs/client.md "Slides").
//
// While a deck is presented the slide is the big picture of the stage and the program (or the
// floor holder's camera) shrinks to picture-in-picture; a click on "⇄" swaps them. Each page is
// an image fetched over HTTP at the width that fits (640, 1280 or 1920 px, immutable URLs, so
// the browser caches them) and the next pages are fetched ahead; the old page stays on screen
// until the new one is decoded. Slides do not travel in the video: a site on audio only still
// sees them. `slideStage` draws the slide; `presenterControls` are the presenter's buttons (the
// main bridge, or a floor holder the chair allows); `chairControls` let the chair allow and stop;
// `decksPanel` lets the staff (or the presenter) attach a PDF.

import { api } from "./api.js";
import { $, fill, h, setText, toast, toggle } from "./dom.js";
import { siteName } from "./derive.js";
import { CONFIG, errorText, num, t } from "./i18n.js";

export const WIDTHS = [640, 1280, 1920];
const PREFETCH = 2;
const RUNNING = ["rehearsal", "live"];

/** What is presented now: {presenter, deck, page}, or null. */
export function presenting(s) {
  const p = s && s.presentation;
  if (!p || !p.presenter || !p.deck_id || !RUNNING.includes(s.phase)) return null;
  const deck = p.decks[p.deck_id];
  return deck ? { presenter: p.presenter, deck, page: p.page } : null;
}

/** Whether `code` may present now (the main bridge; a floor holder the chair allows). */
export function mayPresent(s, code) {
  if (!s || !RUNNING.includes(s.phase)) return false;
  return code === s.main_site || (!!s.floor.speakers[code] && s.presentation.allowed.includes(code));
}

export function pageUrl(deck, page, width) {
  return `/api/v1/decks/${deck.sha256}/${width}/${page}.webp`;
}

/** The smallest width that fills `px` CSS pixels on this screen (640 on a data-saving link). */
export function fitWidth(px) {
  if (navigator.connection && navigator.connection.saveData) return WIDTHS[0];
  const need = px * (window.devicePixelRatio || 1);
  return WIDTHS.find((w) => w >= need) || WIDTHS[WIDTHS.length - 1];
}

/** The "⇄" button of a presented layer (a slide, a share): swaps the big picture and the
 * picture-in-picture on the stage `box` (.swapped); every such button of the box says so. */
export function swapButton(box, label) {
  const button = h("button", { type: "button", class: "slide-swap btn btn-small", "aria-pressed": String(box.classList.contains("swapped")),
    title: label, "aria-label": label }, "⇄");
  button.addEventListener("click", () => setSwapped(box, !box.classList.contains("swapped")));
  return button;
}

function setSwapped(box, on) {
  toggle(box, "swapped", on);
  for (const b of box.querySelectorAll(".slide-swap")) b.setAttribute("aria-pressed", String(on));
}

/** Once nothing is presented any more, the next presentation starts big again. */
export function unswapWhenIdle(box) {
  if (!box.querySelector(".slide-layer:not([hidden]), .share-layer:not([hidden])")) setSwapped(box, false);
}

/** The slide on the stage `box` (a .video-box), following `store`. */
export function slideStage({ box, store }) {
  const img = h("img", { class: "slide-img", alt: "" });
  const caption = h("p", { class: "slide-caption", "aria-live": "polite" });
  const layer = h("div", { class: "slide-layer", hidden: true }, img, caption, swapButton(box, t("slides.swap")));
  box.append(layer);
  let wanted = "";
  let retry = 0;
  window.addEventListener("resize", () => render(store.state));

  function show(deck, page) {
    const width = fitWidth(layer.clientWidth || box.clientWidth || 960);
    const url = pageUrl(deck, page, width);
    if (url === wanted) return;
    wanted = url;
    const next = new Image();
    next.decoding = "async";
    next.onload = () => {
      if (wanted !== url) return;
      img.src = url;
      img.dataset.deck = deck.deck_id;
      img.dataset.page = String(page);
      img.alt = t("slides.page_of", { page, pages: deck.pages }) + " — " + deck.name;
      for (let i = 1; i <= PREFETCH && page + i <= deck.pages; i++) new Image().src = pageUrl(deck, page + i, width);
    };
    next.onerror = () => {   // the network failed: try again while this page is still wanted
      if (wanted !== url) return;
      clearTimeout(retry);
      retry = setTimeout(() => { if (wanted === url) { wanted = ""; show(deck, page); } }, 2000);
    };
    next.src = url;
  }

  function render(s) {
    const now = presenting(s);
    layer.hidden = !now;
    toggle(box, "presenting", !!now || box.classList.contains("sharing"));   // a share keeps it (screen_share.js)
    if (!now) {
      wanted = "";
      unswapWhenIdle(box);
      return;
    }
    setText(caption, t("slides.caption", { who: siteName(s, now.presenter), page: num(now.page), pages: num(now.deck.pages) }));
    show(now.deck, now.page);
  }

  store.on((_ev, s) => render(s));
  render(store.state);
  return { render };
}

/** The presenter's controls for `site` ({code, main}), in `mount`: deck, start, pages, stop. */
export function presenterControls({ mount, store, run, site, token }) {
  const select = h("select", { id: "slides-deck", "aria-label": t("slides.deck") });
  const start = h("button", { type: "button", id: "slides-start", class: "btn btn-primary" }, t("slides.start"));
  const prev = h("button", { type: "button", id: "slides-prev", class: "btn btn-big", "aria-label": t("slides.prev") }, "◀");
  const next = h("button", { type: "button", id: "slides-next", class: "btn btn-big btn-primary", "aria-label": t("slides.next") }, "▶");
  const pageInput = h("input", { id: "slides-page", type: "number", min: 1, inputmode: "numeric", class: "short",
    "aria-label": t("slides.goto") });
  const go = h("button", { type: "button", class: "btn", id: "slides-go" }, t("slides.goto"));
  const stop = h("button", { type: "button", id: "slides-stop", class: "btn btn-danger" }, t("slides.stop"));
  const where = h("span", { class: "slides-where", id: "slides-where" });
  const upload = uploadForm({ store, token, compact: true });
  const panel = h("section", { class: "panel slides-panel", id: "slides-panel", hidden: true, "aria-labelledby": "slides-title" },
    h("h2", { id: "slides-title" }, t("slides.title")),
    h("div", { class: "row slides-choose" }, select, start),
    h("div", { class: "row slides-turn" }, prev, where, next, pageInput, go, stop),
    h("p", { class: "hint" }, t("slides.hint_keys")),
    upload.form);
  mount.append(panel);

  const mine = () => { const now = presenting(store.state); return now && now.presenter === site.code ? now : null; };
  const turn = (page) => {
    const now = mine();
    if (!now || page < 1 || page > now.deck.pages || page === now.page) return;
    run("show_slide", { site: site.code, page }).catch(() => {});
  };
  start.addEventListener("click", () => {
    if (select.value) run("start_presentation", { site: site.code, deck_id: select.value, page: 1 }).catch(() => {});
  });
  prev.addEventListener("click", () => { const now = mine(); if (now) turn(now.page - 1); });
  next.addEventListener("click", () => { const now = mine(); if (now) turn(now.page + 1); });
  go.addEventListener("click", () => turn(parseInt(pageInput.value, 10)));
  stop.addEventListener("click", () => run("stop_presentation", {}).catch(() => {}));
  document.addEventListener("keydown", (e) => {
    if (!mine() || e.target.closest("input, textarea, select, [contenteditable]")) return;
    const now = mine();
    if (["ArrowRight", "PageDown", " "].includes(e.key)) { e.preventDefault(); turn(now.page + 1); }
    if (["ArrowLeft", "PageUp"].includes(e.key)) { e.preventDefault(); turn(now.page - 1); }
  });

  function render(s) {
    const may = mayPresent(s, site.code);
    panel.hidden = !may;
    if (!may) return;
    const decks = Object.values(s.presentation.decks);
    const chosen = select.value;
    fill(select, decks.length ? decks.map((d) => h("option", { value: d.deck_id }, `${d.name} (${t("slides.pages", { pages: num(d.pages) })})`))
      : h("option", { value: "" }, t("slides.no_decks")));
    if (decks.some((d) => d.deck_id === chosen)) select.value = chosen;
    const now = mine();
    const busy = !!presenting(s) && !now;
    start.disabled = !decks.length || busy;
    for (const el of [prev, next, pageInput, go, stop]) el.disabled = !now;
    if (now) {
      prev.disabled = now.page <= 1;
      next.disabled = now.page >= now.deck.pages;
      pageInput.max = now.deck.pages;
      setText(where, t("slides.page_of", { page: num(now.page), pages: num(now.deck.pages) }));
      if (document.activeElement !== pageInput) pageInput.value = now.page;
    } else {
      setText(where, "");
    }
  }
  store.on((ev, s) => {
    if (ev.type === "presenting_allowed" && ev.site === site.code) toast(t("slides.allowed_toast"), "ok");
    render(s);
  });
  render(store.state);
}

/** The chair's controls under the program box: allow/stop a floor holder presenting, stop any presentation. */
export function chairControls({ mount, store, run }) {
  const line = h("p", { class: "slides-chair-line" });
  const stop = h("button", { type: "button", id: "chair-slides-stop", class: "btn btn-small btn-danger" }, t("slides.stop"));
  const allowRow = h("div", { class: "btn-row slides-allow" });
  const box = h("div", { class: "slides-chair", id: "chair-slides" }, h("div", { class: "row" }, line, stop), allowRow);
  mount.append(box);
  stop.addEventListener("click", () => run("stop_presentation", {}).catch(() => {}));

  function render(s) {
    if (!s) return;
    const now = presenting(s);
    setText(line, now ? t("slides.caption", { who: siteName(s, now.presenter), page: num(now.page), pages: num(now.deck.pages) }) : "");
    stop.hidden = !now;
    const running = RUNNING.includes(s.phase);
    fill(allowRow, running ? Object.keys(s.floor.speakers).map((code) => {
      const allowed = s.presentation.allowed.includes(code);
      const name = siteName(s, code);
      return h("button", { type: "button", class: "btn btn-small", dataset: { site: code },
        onclick: () => run(allowed ? "disallow_presenting" : "allow_presenting", { site: code }).catch(() => {}) },
      t(allowed ? "slides.disallow" : "slides.allow", { name }));
    }) : []);
    box.hidden = !now && !allowRow.children.length;
  }
  store.on((_ev, s) => render(s));
  render(store.state);
}

/** The decks of the conference and a form to attach a PDF (staff, or the presenter with `token`). */
export function decksPanel({ mount, store, token = null }) {
  const list = h("ul", { class: "decks-list", id: "decks-list" });
  const upload = uploadForm({ store, token, compact: false });
  const panel = h("section", { class: "decks-panel", "aria-labelledby": "decks-title" },
    h("h3", { id: "decks-title" }, t("slides.decks_title")), list, upload.form);
  mount.append(panel);
  function render(s) {
    if (!s) return;
    const decks = Object.values(s.presentation.decks);
    fill(list, decks.length ? decks.map((d) => h("li", null, h("strong", null, d.name), " · ",
      t("slides.pages", { pages: num(d.pages) }),
      d.item_id ? " · " + ((s.agenda.find((i) => i.item_id === d.item_id) || {}).title || d.item_id) : ""))
      : h("li", { class: "empty" }, t("slides.no_decks")));
    upload.render(s);
  }
  store.on((_ev, s) => render(s));
  render(store.state);
}

function uploadForm({ store, token, compact }) {
  const file = h("input", { type: "file", accept: "application/pdf,.pdf", id: compact ? "slides-file" : "decks-file" });
  const item = h("select", { "aria-label": t("slides.item"), hidden: compact });
  const status = h("span", { class: "hint", role: "status" });
  const send = h("button", { type: "submit", class: "btn btn-small" }, t("slides.upload"));
  const form = h("form", { class: "row slides-upload" },
    h("label", { for: file.id }, t("slides.upload")), file, item, send, status);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const pdf = file.files && file.files[0];
    if (!pdf) return file.focus();
    send.disabled = true;
    setText(status, t("slides.uploading", { name: pdf.name }));
    const q = new URLSearchParams({ name: pdf.name });
    if (item.value) q.set("item_id", item.value);
    try {
      const deck = await api("POST", `/conferences/${encodeURIComponent(CONFIG.conference)}/decks?${q}`, undefined,
        { raw: pdf, contentType: "application/pdf", token });
      setText(status, t("slides.uploaded", { name: deck.name, pages: num(deck.pages) }));
      form.reset();
    } catch (err) {
      setText(status, "");
      toast(errorText(err), "error");
    } finally {
      send.disabled = false;
    }
  });
  return {
    form,
    render(s) {
      if (compact || !s) return;
      const chosen = item.value;
      fill(item, h("option", { value: "" }, t("slides.item_none")),
        s.agenda.map((i) => h("option", { value: i.item_id }, i.title)));
      item.value = chosen;
    },
  };
}

/** For tests and a curious operator: the slide shown on this page. */
export function shownSlide() {
  const img = $(".slide-img");
  return img && img.dataset.page ? { deck: img.dataset.deck, page: +img.dataset.page, width: img.naturalWidth } : null;
}
