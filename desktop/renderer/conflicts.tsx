/**
 * The conflict inbox: every rejected change, for people. Per entry: what happened, the entity's
 * name, who changed the server's version, when and why, the two versions side by side with the fields
 * that differ marked (in words and weight, not by colour alone), and plain actions, each confirmed.
 * Everything shown is computed by the core (desktop/app/conflict-view.ts): this file formats nothing
 * and reads no clock. Codes, ids and the raw data are only under "Details for support".
 */
import { useEffect, useState } from "preact/hooks";
import type { ApiResults, ConflictAction, ConflictView } from "../app/api.js";
import { useApi, useRevision } from "./hooks.js";
import { type Confirmation, useConfirm } from "./ask.js";
import { TextField } from "./sign-in-words.js";

type ManagerAnswer = ApiResults["managerResolveConflict"];

/** The entity types in words (the domain's ENTITY_LABEL lives with zod; the renderer stays zod-free). */
const KIND: Record<ConflictView["entity_type"], string> = { project: "Project", invoice: "Invoice", pos_order: "POS sale" };

const BUTTON: Record<ConflictAction, string> = {
  dismiss: "Keep the server's version",
  reapply: "Re-apply my change",
  restore: "Restore as a new project",
  reenter: "Enter it again",
};

/** What each action asks before it acts: what will happen, the safe choice focused. */
function confirmation(c: ConflictView, action: ConflictAction): Confirmation {
  const name = c.entity_name ? `“${c.entity_name}”` : `this ${KIND[c.entity_type].toLowerCase()}`;
  const cancel = "Keep it in the inbox";
  switch (action) {
    case "dismiss":
      return {
        title: `Keep the server's version of ${name}?`,
        detail: "Your change is dropped for good and the entry leaves the inbox; the server's version stays as it is.",
        confirm: BUTTON.dismiss,
        cancel,
      };
    case "reapply": {
      const preview = c.reapply_preview;
      const fields = preview ? preview.fields.map((f) => `${f.label}: ${f.value}`).join("; ") : "";
      return {
        title: `Re-apply your change to ${name}?`,
        detail: `This is sent as a new change on top of the server's current version (version ${preview?.base_version ?? "?"}), replacing what it has for these fields: ${fields}.`,
        confirm: BUTTON.reapply,
        cancel,
      };
    }
    case "restore":
      return {
        title: `Restore ${name} as a new project?`,
        detail: "A new project is created with your version of every field shown here. The deleted project stays deleted.",
        confirm: BUTTON.restore,
        cancel,
      };
    case "reenter":
      return {
        title: `Enter ${name} again?`,
        detail: `A new ${KIND[c.entity_type].toLowerCase()} is created with the fields you entered, as a new record; the refused one stays refused.`,
        confirm: BUTTON.reenter,
        cancel,
      };
  }
}

export function ConflictInbox() {
  const api = useApi();
  const revision = useRevision();
  const [items, setItems] = useState<ConflictView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const confirm = useConfirm();
  const load = () => void api.call({ method: "conflicts", open: true }).then(setItems);
  useEffect(load, [api, revision]);
  const act = async (c: ConflictView, action: ConflictAction) => {
    if (!(await confirm(confirmation(c, action)))) return;
    const r = await api.call({ method: "resolveConflict", id: c.id, action });
    setError(r.ok ? null : r.error);
    load();
  };
  /** Its errors are said beside its fields (ManagerResolution), not at the top of the inbox. */
  const resolveAsManager = async (c: ConflictView, note: string, code?: string): Promise<ManagerAnswer> => {
    const r = await api.call({ method: "managerResolveConflict", id: c.id, note, ...(code === undefined ? {} : { code }) });
    setError(null);
    load();
    return r;
  };
  return (
    <section class="card" aria-labelledby="conflicts-title">
      <h2 id="conflicts-title">Conflict inbox</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {items.length === 0 && <p class="muted">Nothing to review. Every change has been confirmed by the server.</p>}
      {items.map((c) => (
        <ConflictEntry key={c.id} c={c} onAct={(action) => void act(c, action)} onManagerResolve={(note, code) => resolveAsManager(c, note, code)} />
      ))}
    </section>
  );
}

function ConflictEntry({ c, onAct, onManagerResolve }: { c: ConflictView; onAct: (action: ConflictAction) => void; onManagerResolve: (note: string, code?: string) => Promise<ManagerAnswer> }) {
  const titleId = `conflict-${c.id}-title`;
  const differing = c.fields.filter((f) => f.differs).length;
  return (
    <article class="conflict" data-testid="conflict" aria-labelledby={titleId}>
      <h3 id={titleId} class="conflict-title">
        {c.message} {c.needs_manager && <span class="badge rejected">needs a manager</span>}
      </h3>
      <p class="conflict-name" data-testid="conflict-name">
        {KIND[c.entity_type]}: <strong>{c.entity_name ?? "(no name)"}</strong>
      </p>
      <p>{c.what}</p>
      {c.last_change && (
        <p class="conflict-who" data-testid="conflict-who">
          {c.last_change.words}
        </p>
      )}
      {c.fields.length > 0 && (
        <table class="compare" data-testid="conflict-fields">
          <caption>
            Your version beside the server's{differing > 0 ? ` — ${differing} ${differing === 1 ? "field differs" : "fields differ"}, marked “Differs”` : ""}
          </caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Your version</th>
              <th scope="col">Server's version</th>
            </tr>
          </thead>
          <tbody>
            {c.fields.map((f) => (
              <tr key={f.label} class={f.differs ? "differs" : undefined}>
                <th scope="row">
                  {f.label}
                  {f.differs && <span class="differs-mark"> Differs</span>}
                </th>
                <td>{f.mine}</td>
                <td>{f.server}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {c.manager && <ManagerResolution c={c} onResolve={onManagerResolve} />}
      {c.actions.length > 0 && (
        <div class="row conflict-actions">
          {c.actions.map((action) => (
            <button key={action} class="secondary" onClick={() => onAct(action)}>
              {BUTTON[action]}
            </button>
          ))}
        </div>
      )}
      <details class="support">
        <summary>Details for support</summary>
        <p class="muted">
          code {c.code} · operation {c.operation} · change {c.event_id} · record {c.entity_id}
          {c.last_change ? ` · server seq ${c.last_change.seq} by device ${c.last_change.device_id}` : ""}
        </p>
        <div class="sides">
          <div>
            <h4 class="muted">Your change as queued</h4>
            <pre>{typeof c.local_payload === "string" ? c.local_payload : JSON.stringify(c.local_payload, null, 2)}</pre>
          </div>
          <div>
            <h4 class="muted">Server's entity</h4>
            <pre>{c.server_entity ? JSON.stringify(c.server_entity, null, 2) : "none"}</pre>
          </div>
        </div>
      </details>
    </article>
  );
}

/**
 * A manager's resolution: on a manager's till, the note; on a cashier's, "a manager resolves it here"
 * with the manager's one-time sign-in code too (used by the core for this one request only). Every
 * refusal is said beside its field; what was typed stays.
 */
function ManagerResolution({ c, onResolve }: { c: ConflictView; onResolve: (note: string, code?: string) => Promise<ManagerAnswer> }) {
  const [note, setNote] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [failed, setFailed] = useState<Extract<ManagerAnswer, { ok: false }> | null>(null);
  const manager = c.manager!;
  const noteId = `conflict-${c.id}-note`;
  const noteErrorId = `${noteId}-error`;
  const byCode = manager.by_code;
  return (
    <div class="manager" data-testid="conflict-manager">
      <p>{manager.words}</p>
      {(manager.can_resolve || byCode) && (
        <form
          class="row"
          aria-label={byCode ? "A manager resolves it here" : undefined}
          onSubmit={(e) => {
            e.preventDefault();
            setBusy(true);
            void onResolve(note, byCode ? code : undefined).then((r) => {
              setBusy(false);
              setFailed(r.ok ? null : r);
              if (r.ok) {
                setNote("");
                setCode("");
              }
            });
          }}
        >
          {byCode && (
            <TextField label="Manager's sign-in code" value={code} onInput={setCode} error={failed?.field === "code" ? failed.error : null} placeholder="K7QF-9M2X" testId="conflict-code" />
          )}
          <label for={noteId}>
            What was decided (kept in the server's audit)
            <input
              id={noteId}
              value={note}
              maxLength={500}
              aria-invalid={failed?.field === "note"}
              aria-describedby={failed?.field === "note" ? noteErrorId : undefined}
              onInput={(e) => setNote((e.target as HTMLInputElement).value)}
            />
          </label>
          {failed?.field === "note" && (
            <span id={noteErrorId} class="signin-error" role="alert">
              {failed.error}
            </span>
          )}
          <button type="submit" class="primary" disabled={busy || note.trim() === "" || (byCode && code.trim() === "")}>
            {byCode ? "Resolve with the manager's code" : "Resolve as manager"}
          </button>
          {failed && failed.field === undefined && (
            <p class="notice bad" role="alert">
              {failed.error}
            </p>
          )}
        </form>
      )}
    </div>
  );
}
