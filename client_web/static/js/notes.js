// One note of the minutes being written: autosave, no lost text, no silent overwrite.
//
//   base   the server's revision this editor's text started from ({rev, text})
//   draft  what is in the textarea
//
// Typing saves after a pause (and on leaving the field) with `edit_note {rev: base.rev}`;
// one save is in flight at a time. The draft is also kept in localStorage until the server
// has it, so a reload or a dropped link loses nothing (Conn resends unacknowledged commands
// with their keys after a reconnect). When another secretary's edit arrives while this
// editor has unsaved text — or the server answers `edit_conflict` — both versions are shown
// and the person merges them; nothing is overwritten without being seen.

import { debounce, h, setText } from "./dom.js";
import { newKey } from "./conn.js";
import { dayTime, t } from "./i18n.js";

const SAVE_AFTER_MS = 1200;

export class NoteEditor {
  /**
   * @param {object} o
   * @param {string} o.noteId
   * @param {object|null} o.note   the server's note, or null for a new one
   * @param {string|null} o.itemId
   * @param {"note"|"conclusion"} o.kind
   * @param {(type, fields, key) => Promise} o.send
   * @param {() => object} o.state  the current conference state
   * @param {string} o.storageKey
   * @param {boolean} o.readonly
   * @param {(editor) => void} o.onChange  save state changed
   */
  constructor(o) {
    Object.assign(this, o);
    this.isNew = !o.note;
    this.base = o.note ? { rev: o.note.rev, text: o.note.text } : { rev: 0, text: "" };
    this.inflight = null;      // {key, text}
    this.conflict = null;      // {theirs: {rev, text}}
    this.status = "saved";
    this.deleted = false;
    this.el = this._build();
    this.save = debounce(() => this._save(), SAVE_AFTER_MS);
    const kept = this._loadDraft();
    this.setDraft(kept !== null ? kept : this.base.text);
    this._setStatus("saved");
    if (kept !== null && kept !== this.base.text) {
      this._setStatus("typing");
      this.save();
    } else if (kept !== null && !this.isNew) {
      this._clearDraft();   // the server has it already
    }
  }

  /** Called when the editor is put into the page. */
  shown() {
    this._grow();
  }

  get draft() {
    return this.textarea.value;
  }

  get dirty() {
    return this.draft !== this.base.text || this.inflight !== null || this.conflict !== null;
  }

  setDraft(text) {
    if (this.textarea.value !== text) {
      const focused = document.activeElement === this.textarea;
      const { selectionStart, selectionEnd } = this.textarea;
      this.textarea.value = text;
      if (focused) this.textarea.setSelectionRange(selectionStart, selectionEnd);
    }
    this._grow();
  }

  _build() {
    this.textarea = h("textarea", {
      class: "note-text", rows: 3, maxlength: 20000, id: `note-${this.noteId}`,
      "aria-label": this.kind === "conclusion" ? t("notes.conclusion") : t("notes.note"),
      placeholder: this.isNew ? t(this.kind === "conclusion" ? "notes.new_conclusion_ph" : "notes.new_note_ph") : null,
    });
    this.textarea.readOnly = !!this.readonly;
    this.textarea.addEventListener("input", () => {
      this._storeDraft();
      this._grow();
      this._setStatus("typing");
      this.save();
    });
    this.textarea.addEventListener("blur", () => this.save.flush());
    this.stateEl = h("span", { class: "save-state", role: "status" });
    this.metaEl = h("span", { class: "note-meta" });
    this.conflictEl = h("div", { class: "conflict-box", role: "alert", hidden: true });
    const del = h("button", { type: "button", class: "btn btn-ghost btn-small note-delete", "aria-label": t("notes.delete"),
      onclick: () => this._delete() }, t("notes.delete"));
    del.hidden = !!this.readonly;
    return h("div", { class: `note ${this.kind}`, dataset: { note: this.noteId } },
      h("div", { class: "note-head" },
        h("span", null, h("span", { class: "note-kind" }, this.kind === "conclusion" ? t("notes.conclusion") : t("notes.note")), " ", this.metaEl),
        h("span", null, this.stateEl, " ", del)),
      this.textarea, this.conflictEl);
  }

  _grow() {
    if (!this.textarea.isConnected) return;   // measured again once it is in the page
    this.textarea.style.height = "auto";
    this.textarea.style.height = `${Math.min(480, this.textarea.scrollHeight + 4)}px`;
  }

  /** The server's note changed (an event for this note_id). `key` is the event's command key. */
  serverChanged(note, key) {
    if (!note) return this._deletedByServer();
    this.isNew = false;
    const mine = this.inflight && key === this.inflight.key;
    if (mine) {
      this.base = { rev: note.rev, text: note.text };
      this.inflight = null;
      if (this.draft !== this.base.text) this.save();
      else this._clearDraft();
      this._setStatus(this.draft === this.base.text ? "saved" : "typing");
    } else if (this.draft === this.base.text && !this.inflight && !this.conflict) {
      this.base = { rev: note.rev, text: note.text };
      this.setDraft(note.text);
      this._setStatus("saved");
    } else if (note.rev !== this.base.rev) {
      this._showConflict(note);
    }
    this._meta(note);
  }

  _meta(note) {
    setText(this.metaEl, note ? t("notes.meta", { who: note.author.replace(/^account:/, ""), time: dayTime(note.updated) }) : "");
  }

  async _save() {
    if (this.readonly || this.conflict || this.inflight || this.deleted) return;
    const text = this.draft;
    if (text === this.base.text && !this.isNew) return this._setStatus("saved");
    if (!text.trim()) return this._setStatus(this.isNew ? "saved" : "empty");
    const key = newKey(this.isNew ? "addnote" : "note");
    this.inflight = { key, text };
    this._setStatus("saving");
    const fields = this.isNew
      ? ["add_note", { note_id: this.noteId, item_id: this.itemId, kind: this.kind, text }]
      : ["edit_note", { note_id: this.noteId, text, rev: this.base.rev }];
    try {
      const ack = await this.send(fields[0], fields[1], key);
      if (this.inflight && this.inflight.key === key && ack.replayed !== undefined) {
        // the event (seq <= ack.seq) has been folded in before the ack arrives; if it was a
        // no-op (same text), settle here
        const note = this.state().notes[this.noteId];
        if (note && this.inflight && this.inflight.key === key) this.serverChanged(note, key);
      }
    } catch (err) {
      this.inflight = null;
      const note = this.state().notes[this.noteId];
      if ((err.code === "edit_conflict" || err.code === "note_exists") && note) this._showConflict(note);
      else if (err.code === "unknown_note") this._deletedByServer();
      else {
        this._setStatus("error", err);
        setTimeout(() => this.save(), 5000);
      }
    }
  }

  _showConflict(note) {
    this.conflict = { theirs: { rev: note.rev, text: note.text } };
    this._setStatus("conflict");
    const merged = h("textarea", { rows: 4, class: "merge-text", "aria-label": t("notes.merged") });
    merged.value = `${this.draft}\n\n${note.text}`.trim();
    const resolve = (text) => {
      this.base = { rev: this.conflict.theirs.rev, text: this.conflict.theirs.text };
      this.conflict = null;
      this.conflictEl.hidden = true;
      this.conflictEl.replaceChildren();
      this.setDraft(text);
      this._storeDraft();
      this.save();
      this.save.flush();
    };
    this.conflictEl.replaceChildren(
      h("p", null, h("strong", null, t("notes.conflict_title")), " ", t("notes.conflict_help")),
      h("div", { class: "conflict-grid" },
        h("div", null, h("div", { class: "muted" }, t("notes.theirs", { rev: note.rev })), h("pre", { class: "theirs" }, note.text)),
        h("div", null, h("div", { class: "muted" }, t("notes.mine")), h("pre", { class: "mine" }, this.draft))),
      h("label", null, t("notes.merged")), merged,
      h("div", { class: "btn-row" },
        h("button", { type: "button", class: "btn btn-primary btn-small keep-merged", onclick: () => resolve(merged.value) }, t("notes.save_merged")),
        h("button", { type: "button", class: "btn btn-small keep-mine", onclick: () => resolve(this.draft) }, t("notes.keep_mine")),
        h("button", { type: "button", class: "btn btn-small take-theirs", onclick: () => resolve(this.conflict.theirs.text) }, t("notes.take_theirs"))));
    this.conflictEl.hidden = false;
  }

  _deletedByServer() {
    this.deleted = true;
    if (this.draft.trim() && this.draft !== this.base.text) {
      this._setStatus("conflict");
      this.conflictEl.replaceChildren(h("p", null, t("notes.deleted_elsewhere")),
        h("button", { type: "button", class: "btn btn-small", onclick: () => this.onRestore(this) }, t("notes.restore")));
      this.conflictEl.hidden = false;
    } else {
      this._clearDraft();
      this.el.remove();
      this.onRemoved?.(this);
    }
  }

  async _delete() {
    if (this.isNew) {
      this._clearDraft();
      this.el.remove();
      this.onRemoved?.(this);
      return;
    }
    if (!confirm(t("notes.delete_confirm"))) return;
    try {
      await this.send("delete_note", { note_id: this.noteId, rev: this.base.rev });
    } catch (err) {
      const note = this.state().notes[this.noteId];
      if (note) this._showConflict(note);
    }
  }

  _setStatus(status, err) {
    this.status = status;
    this.stateEl.className = `save-state ${status}`;
    setText(this.stateEl, status === "error" ? t("notes.error", { message: err?.message || "" }) : t(`notes.status.${status}`));
    this.onChange?.(this);
  }

  _storeDraft() {
    try {
      localStorage.setItem(this.storageKey, JSON.stringify({ rev: this.base.rev, text: this.draft, item_id: this.itemId, kind: this.kind, isNew: this.isNew }));
    } catch { /* private mode: the server copy is the backup */ }
  }

  _loadDraft() {
    try {
      const kept = JSON.parse(localStorage.getItem(this.storageKey) || "null");
      if (!kept) return null;
      if (!this.isNew && kept.rev !== this.base.rev && kept.text !== this.base.text) {
        queueMicrotask(() => this._showConflict(this.state().notes[this.noteId]));
      }
      return kept.text;
    } catch {
      return null;
    }
  }

  _clearDraft() {
    try {
      localStorage.removeItem(this.storageKey);
    } catch { /* nothing kept */ }
  }
}
