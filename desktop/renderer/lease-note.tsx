/**
 * Leases where the guarded fields are edited (protocol v7, issue 17): "Being edited by nimal
 * (manager) on another till, 1 min left", "You are offline: someone may be editing this too", or a
 * quiet "You are editing payments". Everything shown comes from the core's status (app/leases.ts:
 * words and the countdown, on the core's clock); this module only picks which to show.
 *
 * A lease never stops an edit here: the person is told, saves locally, and the branch judges the
 * change when it is pushed (a refusal lands in the conflict inbox in the server's words).
 */
import { useEffect, useRef } from "preact/hooks";
import type { DesktopApi, LeasesView } from "../app/api.js";
import type { LeaseGroup } from "../../domain/lease-groups.js";
import { useApi, useStatus } from "./hooks.js";

export interface LeaseNoteWords {
  /** quiet: this till holds it, or the branch is being asked; warn: someone else may be editing. */
  tone: "quiet" | "warn";
  main: string;
  /** The countdown, apart: it changes every second and is not announced each time. */
  remaining: string | null;
  /** What it means for this edit, when it is a warning. */
  hint: string | null;
}

const HINT_HELD = "You can still save here, but the branch will likely refuse the change.";
const HINT_OFFLINE = "Your change is saved on this till; the branch judges it when it is sent.";

/**
 * What to say about `group` of `entityId`: another till's lease first (it decides what happens at
 * push time), then this till's own, then what this till's question came to; null: nothing to say.
 */
export function leaseNoteWords(leases: LeasesView | null, entityId: string, group: LeaseGroup, opts: { editing: boolean }): LeaseNoteWords | null {
  if (!leases) return null;
  const inForce = leases.in_force.find((l) => l.entity_id === entityId && l.group === group);
  const hold = leases.mine.find((h) => h.entity_id === entityId && h.group === group);
  if (inForce && !inForce.this_till) return { tone: "warn", main: inForce.holder_words, remaining: inForce.remaining_words, hint: HINT_HELD };
  if (inForce?.this_till) return { tone: "quiet", main: inForce.holder_words, remaining: null, hint: null };
  // Offline matters only to someone editing: reading is never blocked, and nobody can say who edits.
  if (!leases.connected) return opts.editing || hold ? { tone: "warn", main: leases.offline_words ?? hold?.words ?? "", remaining: null, hint: HINT_OFFLINE } : null;
  if (!hold) return null;
  switch (hold.state) {
    case "asking":
      return { tone: "quiet", main: "Checking whether anyone else is editing this…", remaining: null, hint: null };
    case "held":
    case "local_only":
      return { tone: "quiet", main: hold.words, remaining: null, hint: null };
    case "offline":
      return { tone: "warn", main: hold.words, remaining: null, hint: HINT_OFFLINE };
    case "held_elsewhere":
      return { tone: "warn", main: hold.words, remaining: null, hint: HINT_HELD };
    case "refused":
    case "unanswered":
    case "ended":
      return { tone: "warn", main: hold.words, remaining: null, hint: null };
  }
}

/**
 * The note itself: a live region that is always in the page (a region that appears with its text is
 * not announced), polite, with the countdown outside what is announced.
 */
export function LeaseNote({ entityId, group, editing = false, compact = false }: { entityId: string; group: LeaseGroup; editing?: boolean; compact?: boolean }) {
  const status = useStatus();
  const words = leaseNoteWords(status?.leases ?? null, entityId, group, { editing });
  return (
    <p role="status" class={words ? `lease-note ${words.tone}${compact ? " compact" : ""}` : "lease-note empty"} data-testid="lease-note" data-group={group}>
      {words && (
        <>
          <span data-testid="lease-main">{words.main}</span>
          {words.remaining && (
            <>
              {", "}
              <span aria-live="off" data-testid="lease-remaining">
                {words.remaining}
              </span>
            </>
          )}
          {words.hint && !compact && <span class="lease-hint">. {words.hint}</span>}
        </>
      )}
    </p>
  );
}

/**
 * Holds the lease on `group` of `entityId` while `run` goes on (a dialog that takes a payment, a void's
 * reason), and lets it go after. `run` starts at once: the question to the branch never holds it up.
 * The release waits for the acquire's answer, so it can never overtake it on the way to the core.
 */
export async function whileLeased<T>(api: DesktopApi, entityId: string, group: LeaseGroup, run: () => Promise<T>): Promise<T> {
  const acquiring = api.call({ method: "leaseAcquire", entity_id: entityId, group }).catch(() => null);
  try {
    return await run();
  } finally {
    void acquiring.then(() => api.call({ method: "leaseRelease", entity_id: entityId, group })).catch(() => null);
  }
}

/**
 * Holds the lease while `editing` is true (the person started changing the guarded fields) and lets
 * it go when it turns false or the screen closes (the core renews it meanwhile, app/leases.ts).
 */
export function useLeaseWhile(entityId: string, group: LeaseGroup, editing: boolean): void {
  const api = useApi();
  const acquiring = useRef<Promise<unknown> | null>(null);
  useEffect(() => {
    if (!editing) return;
    acquiring.current = api.call({ method: "leaseAcquire", entity_id: entityId, group }).catch(() => null);
    return () => {
      const asked = acquiring.current ?? Promise.resolve();
      acquiring.current = null;
      void asked.then(() => api.call({ method: "leaseRelease", entity_id: entityId, group })).catch(() => null);
    };
  }, [api, entityId, group, editing]);
}
