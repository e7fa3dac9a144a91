/**
 * Leases from the desktop's side (protocol v7, domain/leases.ts): the app asks its branch for a short
 * lease on one entity's high-risk field group before editing it, and shows the leases in force.
 *
 * A lease is advice the branch enforces (`entity_locked`), not a lock this device can rely on
 * offline: without a connection nobody can say who else is editing, so every question gets an
 * answer a person can read, never an exception and never a wait without end. `LeaseBook` keeps the
 * questions asked (by request id) until the session answers them or LEASE_ANSWER_TIMEOUT_MS passes,
 * and the leases the branch last sent, which are forgotten the moment the connection ends: leases
 * seen before going offline may have ended, or been taken, since.
 */
import type { EntityId, LeaseGroup } from "../../domain/index.js";
import { type Lease, type LeaseAction, LeaseRequest, type LeaseResult, type Leases } from "../../protocol/index.js";

/**
 * A lease question not answered within this long is answered "timed out". The branch answers a
 * lease in one round trip; a connection that stays silent for 10 s is dead anyway (the session's
 * PONG_TIMEOUT_MS is the same), and a person at the till should not wait longer to hear it.
 */
export const LEASE_ANSWER_TIMEOUT_MS = 10_000;

/** The words for answers the branch did not give. They say what it means for the person: take care. */
export const LEASE_WORDS = {
  offline: "You are offline: someone may be editing this too",
  connectionLost: "The connection dropped before the branch answered: you are offline, and someone may be editing this too",
  timedOut: `The branch did not answer within ${LEASE_ANSWER_TIMEOUT_MS / 1000} s: someone may be editing this too; try again`,
  stopped: "Sync was stopped before the branch answered: someone may be editing this too",
} as const;

/**
 * A lease question the branch did not answer with `lease_result`:
 *  - `offline`: not connected (or not yet welcomed), or the connection ended before the answer;
 *    whether a request that went out was granted is unknown: it ends by itself at its TTL.
 *  - `timed_out`: connected, but no answer within LEASE_ANSWER_TIMEOUT_MS.
 *  - `error`: the server answered the request with a non-fatal `error` (`code`, e.g. malformed_message).
 *  - `invalid`: the request was not sent: it breaks the protocol's schema (a TTL out of bounds…).
 */
export interface LeaseUnanswered {
  outcome: "offline" | "timed_out" | "error" | "invalid";
  action: LeaseAction;
  request_id: string;
  /** `error`: the server's error code; `invalid`: "invalid_request"; otherwise null. */
  code: string | null;
  message: string;
}

/** What `SyncEngine.lease` resolves to: the branch's answer, or why there is none. */
export type LeaseAnswer = LeaseResult | LeaseUnanswered;

/** Options of one lease question: `ttlMs` for acquire (renew by acquiring again), `reason` for break. */
export interface LeaseOptions {
  ttlMs?: number;
  reason?: string;
}

/**
 * The leases the branch last sent on the current connection, with the server's clock when it sent
 * them and the local monotonic clock when they arrived: a lease ends after
 * `expires_at_ms - serverTimeMs` ms counted from `receivedAtMs` (leaseRemainingMs), whatever the
 * wall clocks of either side say.
 */
export interface LeasesSeen {
  leases: readonly Lease[];
  serverTimeMs: number;
  receivedAtMs: number;
}

/** How long `lease` has left, by the monotonic clock `nowMs` (the one `receivedAtMs` was read on); 0 once over. */
export function leaseRemainingMs(seen: LeasesSeen, lease: Lease, nowMs: number): number {
  return Math.max(0, lease.expires_at_ms - seen.serverTimeMs - (nowMs - seen.receivedAtMs));
}

/** The timers a question's deadline runs on (the engine's; SessionTimers has the same shape, without an import cycle). */
export interface LeaseTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface LeaseBookDeps {
  timers: LeaseTimers;
  /** A monotonic clock in ms (default in the engine: performance.now). */
  monotonicMs: () => number;
  newRequestId: () => string;
}

interface Waiting {
  action: LeaseAction;
  resolve: (answer: LeaseAnswer) => void;
  timer: unknown;
}

export class LeaseBook {
  readonly #waiting = new Map<string, Waiting>();
  readonly #listeners = new Set<(seen: LeasesSeen | null) => void>();
  #seen: LeasesSeen | null = null;

  constructor(private readonly deps: LeaseBookDeps) {}

  /**
   * Asks once: `send` hands the request to the session and says whether it could (false: not
   * connected, answered "offline" at once). Resolves with the first answer for its request id;
   * never rejects.
   */
  ask(action: LeaseAction, entityId: EntityId | string, group: LeaseGroup | string, opts: LeaseOptions, send: (request: LeaseRequest) => boolean): Promise<LeaseAnswer> {
    const requestId = this.deps.newRequestId();
    const candidate = {
      type: "lease",
      request_id: requestId,
      action,
      entity_id: entityId,
      group,
      ...(opts.ttlMs === undefined ? {} : { ttl_ms: opts.ttlMs }),
      ...(opts.reason === undefined ? {} : { reason: opts.reason }),
    };
    // The server's own schema: a request it would refuse as malformed is not sent at all.
    const checked = LeaseRequest.safeParse(candidate);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const where = issue?.path.join(".") || "request";
      return Promise.resolve({ outcome: "invalid", action, request_id: requestId, code: "invalid_request", message: `not sent: ${where}: ${issue?.message ?? "invalid"}` });
    }
    return new Promise<LeaseAnswer>((resolve) => {
      const timer = this.deps.timers.setTimeout(() => this.answered({ outcome: "timed_out", action, request_id: requestId, code: null, message: LEASE_WORDS.timedOut }), LEASE_ANSWER_TIMEOUT_MS);
      this.#waiting.set(requestId, { action, resolve, timer });
      if (!send(checked.data)) this.answered({ outcome: "offline", action, request_id: requestId, code: null, message: LEASE_WORDS.offline });
    });
  }

  /** An answer for a question asked here (a later answer for the same id, or one never asked here, is ignored). */
  answered(answer: LeaseAnswer): void {
    const waiting = this.#waiting.get(answer.request_id);
    if (!waiting) return;
    this.#waiting.delete(answer.request_id);
    this.deps.timers.clearTimeout(waiting.timer);
    waiting.resolve(answer);
  }

  /** The branch sent the leases in force (after welcome, and whenever they change). */
  seen(message: Pick<Leases, "leases" | "server_time_ms">): void {
    this.#set({ leases: message.leases, serverTimeMs: message.server_time_ms, receivedAtMs: this.deps.monotonicMs() });
  }

  /** The connection ended: what it said about leases is stale. */
  disconnected(): void {
    if (this.#seen !== null) this.#set(null);
  }

  /** Sync stops: every question still open is answered, and nothing is known any more. */
  stop(): void {
    for (const [requestId, waiting] of [...this.#waiting]) {
      this.#waiting.delete(requestId);
      this.deps.timers.clearTimeout(waiting.timer);
      waiting.resolve({ outcome: "offline", action: waiting.action, request_id: requestId, code: null, message: LEASE_WORDS.stopped });
    }
    this.disconnected();
  }

  current(): LeasesSeen | null {
    return this.#seen;
  }

  /** Called with the leases (or null: not connected) whenever they change. */
  subscribe(listener: (seen: LeasesSeen | null) => void): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  #set(seen: LeasesSeen | null): void {
    this.#seen = seen;
    for (const listener of this.#listeners) listener(seen);
  }
}
