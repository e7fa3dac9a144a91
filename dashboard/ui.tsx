/**
 * Small parts the views share: tabs (WAI-ARIA tabs pattern: arrow keys, Home/End, one tab stop), a
 * pager ("1–50 of 1,234" with Newer/Older), a loading/error line and a modal dialog that asks for a
 * reason.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Loaded } from "./hooks.js";

export interface Tab<K extends string> {
  key: K;
  label: string;
}

export function Tabs<K extends string>({ label, tabs, selected, onSelect, idPrefix }: { label: string; tabs: readonly Tab<K>[]; selected: K; onSelect: (k: K) => void; idPrefix: string }) {
  const refs = useRef<Array<HTMLButtonElement | null>>([]);
  /** Selects and focuses the tab at `to`, wrapping around at either end. */
  const move = (to: number) => {
    const i = (to + tabs.length) % tabs.length;
    onSelect(tabs[i]!.key);
    refs.current[i]?.focus();
  };
  return (
    <div role="tablist" aria-label={label} class="tabs">
      {tabs.map((t, i) => (
        <button
          key={t.key}
          ref={(el) => {
            refs.current[i] = el;
          }}
          role="tab"
          id={`${idPrefix}-tab-${t.key}`}
          aria-selected={t.key === selected}
          aria-controls={`${idPrefix}-panel`}
          tabIndex={t.key === selected ? 0 : -1}
          onClick={() => onSelect(t.key)}
          onKeyDown={(e) => {
            if (e.key === "ArrowRight") move(i + 1);
            else if (e.key === "ArrowLeft") move(i - 1);
            else if (e.key === "Home") move(0);
            else if (e.key === "End") move(tabs.length - 1);
            else return;
            e.preventDefault();
          }}
        >
          {t.label}
        </button>
      ))}
    </div>
  );
}

export function TabPanel({ idPrefix, selected, children }: { idPrefix: string; selected: string; children: ComponentChildren }) {
  return (
    <div role="tabpanel" id={`${idPrefix}-panel`} aria-labelledby={`${idPrefix}-tab-${selected}`} class="tabpanel" tabIndex={0}>
      {children}
    </div>
  );
}

/** What a read shows while it is not ready: "Loading…" or the failure, said once. */
export function LoadState({ data, what }: { data: Loaded<unknown>; what: string }) {
  if (data.kind === "loading") return <p class="muted" aria-live="polite">Loading {what}…</p>;
  if (data.kind === "failed") return <p class="notice bad" role="alert">Could not load {what}: {data.message}</p>;
  return null;
}

export function Pager({ range, newer, older, label }: { range: string; newer: (() => void) | null; older: (() => void) | null; label: string }) {
  return (
    <nav class="pager" aria-label={label}>
      <p data-testid="page-range">{range}</p>
      <button type="button" class="secondary" disabled={!newer} onClick={() => newer?.()}>
        ← Newer
      </button>
      <button type="button" class="secondary" disabled={!older} onClick={() => older?.()}>
        Older →
      </button>
    </nav>
  );
}

/**
 * A modal asking for a reason before an action (a FormDialog with one field): the safe choice
 * (Cancel) has the focus, Escape cancels, the action stays disabled until a reason is typed, and a
 * refusal is said inside the dialog.
 */
export function ReasonDialog({ title, detail, label, action, onCancel, onSubmit }: { title: string; detail: string; label: string; action: string; onCancel: () => void; onSubmit: (reason: string) => Promise<string | null> }) {
  const [reason, setReason] = useState("");
  return (
    <FormDialog id="reason" title={title} detail={detail} action={action} tone="danger" canSubmit={reason.trim() !== ""} onCancel={onCancel} onSubmit={() => onSubmit(reason.trim())}>
      <label>
        {label}
        <input value={reason} maxLength={500} required onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
      </label>
    </FormDialog>
  );
}

/** A labelled select: the label names it alone (`for`), so its name is not mixed with the chosen option's text. */
export function SelectField({ id, label, value, onChange, children }: { id: string; label: string; value: string; onChange: (value: string) => void; children: ComponentChildren }) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {children}
      </select>
    </div>
  );
}

/**
 * A modal form for an action whose fields the caller gives (a close's optional note, a counted
 * amount): the safe choice (Cancel) has the focus, Escape cancels, the action is enabled when
 * `canSubmit`, and what went wrong (a refusal, no answer) is said inside the dialog, the fields kept
 * as typed. `onSubmit` answers the problem in words, or null when done (the caller then closes it).
 */
export function FormDialog({ id, title, detail, action, tone = "primary", canSubmit, onCancel, onSubmit, children }: { id: string; title: string; detail: ComponentChildren; action: string; tone?: "primary" | "danger"; canSubmit: boolean; onCancel: () => void; onSubmit: () => Promise<string | null>; children?: ComponentChildren }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const cancel = useRef<HTMLButtonElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    dialog.current?.showModal();
    cancel.current?.focus();
    return () => before?.focus();
  }, []);
  return (
    <dialog
      ref={dialog}
      class="ask"
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-detail`}
      data-testid={id}
      onCancel={(e) => {
        e.preventDefault();
        onCancel();
      }}
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (!canSubmit || busy) return;
          setBusy(true);
          void onSubmit().then((problem) => {
            setBusy(false);
            setError(problem);
          });
        }}
      >
        <h2 id={`${id}-title`} class="ask-title">{title}</h2>
        <div id={`${id}-detail`} class="ask-detail">{detail}</div>
        {children}
        {error && (
          <p id={`${id}-error`} class="notice bad" role="alert">
            {error}
          </p>
        )}
        <div class="row dialog-actions">
          <button type="button" class="secondary" ref={cancel} onClick={onCancel}>
            Cancel
          </button>
          <button type="submit" class={tone} disabled={busy || !canSubmit}>
            {action}
          </button>
        </div>
      </form>
    </dialog>
  );
}
