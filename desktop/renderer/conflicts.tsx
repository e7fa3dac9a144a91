/** The conflict inbox: every rejected change, in plain words, with the server's version beside it. */
import { useEffect, useState } from "preact/hooks";
import type { ConflictView } from "../app/api.js";
import { useApi, useRevision } from "./hooks.js";
import { useConfirm } from "./ask.js";

/** A queued change this device could no longer read (the store's UNREADABLE; checked against the API's type). */
const UNREADABLE: Extract<ConflictView["code"], "unreadable"> = "unreadable";

export function ConflictInbox() {
  const api = useApi();
  const revision = useRevision();
  const [items, setItems] = useState<ConflictView[]>([]);
  const [error, setError] = useState<string | null>(null);
  const confirm = useConfirm();
  const load = () => void api.call({ method: "conflicts", open: true }).then(setItems);
  useEffect(load, [api, revision]);
  const resolve = async (id: number, action: "dismiss" | "reapply") => {
    const r = await api.call({ method: "resolveConflict", id, action });
    setError(r.ok ? null : r.error);
    load();
  };
  return (
    <section class="card" aria-labelledby="conflicts-title">
      <h2 id="conflicts-title">Conflict inbox</h2>
      {error && <p class="error" role="alert">{error}</p>}
      {items.length === 0 && <p class="muted">Nothing to review. Every change has been confirmed by the server.</p>}
      {items.map((c) => (
        <article class="conflict" key={c.id} data-testid="conflict">
          <p>
            <strong>{c.message}</strong> {c.needs_manager && <span class="badge rejected">needs a manager</span>}
          </p>
          <p class="muted">
            Your {c.operation} of a {c.entity_type.replace("_", " ")} was not applied.
          </p>
          <details class="support">
            <summary>Details for support</summary>
            <p class="muted">
              code {c.code} · change {c.event_id} · record {c.entity_id}
            </p>
          </details>
          <div class="sides">
            <div>
              <h3 class="muted">Your change</h3>
              <pre>{c.code === UNREADABLE && typeof c.local_payload === "string" ? c.local_payload : JSON.stringify(c.local_payload, null, 2)}</pre>
            </div>
            <div>
              <h3 class="muted">Server now</h3>
              <pre>{c.server_entity ? (c.server_entity.deleted ? "deleted" : JSON.stringify(c.server_entity.data, null, 2)) : "does not exist"}</pre>
            </div>
          </div>
          <div class="row">
            <button
              class="secondary"
              onClick={async () => {
                const what = `${c.operation} of a ${c.entity_type.replace("_", " ")}`;
                const sure = await confirm({
                  title: `Dismiss your ${what}?`,
                  detail: `Your ${what} is dropped for good and leaves the inbox; the server's version stays as it is. To keep your change, re-apply it instead${c.operation === "update" ? "" : " or enter it again"}.`,
                  confirm: "Dismiss my change",
                  cancel: "Keep it in the inbox",
                });
                if (sure) void resolve(c.id, "dismiss");
              }}
            >
              Dismiss
            </button>
            {c.operation === "update" && c.code !== UNREADABLE && !c.server_entity?.deleted && (
              <button class="secondary" onClick={() => void resolve(c.id, "reapply")}>Re-apply on the current version</button>
            )}
          </div>
        </article>
      ))}
    </section>
  );
}
