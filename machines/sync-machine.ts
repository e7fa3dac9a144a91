/**
 * The desktop sync lifecycle: control flow only, and pure.
 *
 * All I/O lives in ONE injected callback actor, the session (invoke id "session"). The real session
 * (desktop/) opens the WebSocket, speaks the protocol, applies data to the local SQLite store in
 * order and reports summaries (`SessionEvent`). The machine decides what happens next and tells
 * the session what to do (`SessionCommand`). The session is invoked by `online`, so every way out
 * of `online` stops it and its cleanup closes the socket.
 *
 *   syncMachine.provide({
 *     actors: { session: fromCallback<SessionCommand>(({ sendBack, receive }) => …) },
 *     actions: { conflictsRaised: (_, { batchId, rejected }) => ui.notify(…) },
 *   })
 *
 * Timers are XState delays (`after`), so tests drive them with `SimulatedClock`; backoff jitter
 * comes from `input.random`. Nothing here reads the wall clock, the network or the disk.
 */
import { assertEvent, assign, enqueueActions, fromCallback, sendTo, setup, type SnapshotFrom } from "xstate";
import { CLOSE_OUTCOMES, type CloseOutcome, closeReasonOf } from "../protocol/close-codes.js";
import { assert } from "../lib/result.js";
import { backoffDelayMs } from "./backoff.js";

/** No socket `open` within this long after starting to connect: give up and back off. */
export const CONNECT_TIMEOUT_MS = 15_000;
/** No `welcome` within this long after sending `hello`. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;
/** No pull page, or no progress on a batch's verdicts, within this long. */
export const REQUEST_TIMEOUT_MS = 60_000;
/**
 * Ping interval while live. Well under the 60 s idle timeouts common in proxies and load balancers,
 * so an idle but healthy socket is never cut. A dead one is noticed by the session: no frame within
 * PONG_TIMEOUT_MS (desktop/sync/session.ts) of a ping, and it closes the socket.
 */
export const HEARTBEAT_MS = 25_000;

export interface SyncInput {
  /** The OS reports network connectivity: start by connecting instead of waiting. */
  online: boolean;
  /** The local store was never bootstrapped nor pulled (the bootstrap itself arrives later). */
  needsBootstrap: boolean;
  /** Source of backoff jitter in [0, 1]; defaults to Math.random. Tests pass a constant. */
  random?: () => number;
  /**
   * The clock the next retry is told in (ms since the epoch): the engine passes the store's injected
   * clock, the one the app shows time from. Only read to stamp `retryAtMs`; without it (machine
   * tests) `retryAtMs` stays null. XState's own clock cannot serve: it schedules, it does not tell time.
   */
  now?: () => number;
}

export interface SyncContext {
  /** Failed connection attempts since the last successful handshake (or TOKEN_UPDATED). */
  attempt: number;
  needsBootstrap: boolean;
  /** A live change did not continue the cursor while we were busy: pull before going live. */
  needsPull: boolean;
  /** The batch whose verdicts we await; non-null only in `awaitingVerdicts` and `conflict`. */
  batchId: string | null;
  /** Rejections counted so far for `batchId`, summed over its verdict messages. */
  batchRejected: number;
  /** The last close the session reported (socket closed or connect refused). */
  lastClose: { code: number; reason: string } | null;
  lastError: string | null;
  /** Injected randomness (input.random), kept here because delays only see context and event. */
  random: () => number;
  /** Injected clock (input.now), or null: only to stamp `retryAtMs`. */
  now: (() => number) | null;
  /** The wait chosen on entering `backoff` (jitter included): the `backoff` delay reads it. */
  retryDelayMs: number;
  /**
   * When the retry of the current `backoff` is due, on `now`'s clock; null outside `backoff` or
   * without `now`. Shown as a countdown ("retrying in 12 s") against the same clock.
   */
  retryAtMs: number | null;
}

import type {
  AbandonReason,
  ConflictsRaised,
  SessionCommand,
  SyncMachineEvent,
} from "./events.js";

/**
 * Placeholder session: does nothing. The engine always provides the real one with
 * `syncMachine.provide({ actors: { session } })`; tests provide a fake.
 */
const idleSession = fromCallback<SessionCommand>(() => undefined);

export type { CloseOutcome };

/**
 * Where a close sends the machine: read from schema's CLOSE_OUTCOMES, the one table that also
 * gives TERMINAL_CLOSE_REASONS. A code that is no protocol close (1000, 1006 abnormal, 1011 server
 * error, a failed connect…) backs off.
 */
export function closeOutcome(code: number): CloseOutcome {
  const reason = closeReasonOf(code);
  return reason === null ? "backoff" : CLOSE_OUTCOMES[reason];
}

/**
 * XState v5 starts every machine with the event `{ type: "xstate.init", input }`, and the
 * eventless transitions of that first macrostep see it. Only `start` reads it, because an
 * initial state cannot depend on input otherwise.
 */
function inputOfInitEvent(event: { type: string }): SyncInput | undefined {
  return event.type === "xstate.init" ? (event as unknown as { input?: SyncInput }).input : undefined;
}

export const syncMachine = setup({
  types: {} as { context: SyncContext; events: SyncMachineEvent; input: SyncInput },
  actors: { session: idleSession },
  actions: {
    /** Tell the session to do something. */
    command: sendTo("session", (_, command: SessionCommand) => command),
    /**
     * Close the session with a reason, record it, and leave `online` (via a raised event; see
     * InternalEvent). Used by every timeout and by a failed bootstrap.
     */
    abandonSession: enqueueActions(({ enqueue }, params: { reason: AbandonReason; message: string }) => {
      enqueue.sendTo("session", { type: "CLOSE", reason: params.reason } satisfies SessionCommand);
      enqueue.assign({ lastError: params.message });
      enqueue.raise({ type: "INTERNAL.SESSION_ABANDONED" });
    }),
    /** Notify the UI that the server rejected events of a batch. Default no-op; the engine provides it. */
    conflictsRaised: (_, _params: ConflictsRaised) => undefined,
    recordClose: assign({
      lastClose: ({ event }) => {
        assertEvent(event, "SESSION.CLOSED");
        return { code: event.code, reason: event.reason };
      },
    }),
    recordError: assign({
      lastError: ({ event }) => {
        assertEvent(event, "SESSION.ERROR");
        const answering = event.answering ? ` (answering ${event.answering.request} ${event.answering.id})` : "";
        return `${event.code}${answering}: ${event.message}`;
      },
    }),
    recordCrash: assign({
      lastError: ({ event }) => {
        const error = (event as { error?: unknown }).error; // xstate.error.actor.session
        return `session failed: ${error instanceof Error ? error.message : String(error)}`;
      },
    }),
    /** A handshake succeeded: the connection is healthy again. */
    welcomed: assign({ attempt: 0, lastClose: null, lastError: null }),
    /** Entering `backoff`: count the attempt, draw its wait once, and stamp when it is due. */
    countAttempt: assign(({ context }) => {
      const attempt = context.attempt + 1;
      const retryDelayMs = backoffDelayMs(attempt, context.random);
      return { attempt, retryDelayMs, retryAtMs: context.now ? context.now() + retryDelayMs : null };
    }),
    clearRetryAt: assign({ retryAtMs: null }),
    resetAttempt: assign({ attempt: 0 }),
    bootstrapped: assign({ needsBootstrap: false }),
    markNeedsPull: assign({ needsPull: true }),
    clearNeedsPull: assign({ needsPull: false }),
    startBatch: assign(({ event }) => {
      assertEvent(event, "SESSION.BATCH_SENT");
      return { batchId: event.batchId, batchRejected: 0 };
    }),
    countRejected: assign({
      batchRejected: ({ context, event }) => {
        assertEvent(event, "SESSION.VERDICTS_APPLIED");
        return context.batchRejected + event.rejected;
      },
    }),
    clearBatch: assign({ batchId: null, batchRejected: 0 }),
    /** Leaving `online` ends the session: no batch is in flight any more, and the next one pulls anyway. */
    clearSessionState: assign({ needsPull: false, batchId: null, batchRejected: 0 }),
  },
  guards: {
    startsOnline: ({ event }) => inputOfInitEvent(event)?.online === true,
    closedWith: ({ event }, params: { outcome: CloseOutcome }) => {
      assertEvent(event, "SESSION.CLOSED");
      return closeOutcome(event.code) === params.outcome;
    },
    needsBootstrap: ({ context }) => context.needsBootstrap,
    needsPull: ({ context }) => context.needsPull,
    moreToPull: ({ event }) => {
      assertEvent(event, "SESSION.PAGE_APPLIED");
      return event.more;
    },
    /** Verdicts for the batch in flight; `complete` and `rejections` narrow further. */
    verdicts: ({ context, event }, params: { complete: boolean; rejections?: boolean }) => {
      assertEvent(event, "SESSION.VERDICTS_APPLIED");
      if (event.batchId !== context.batchId || event.complete !== params.complete) return false;
      return params.rejections === undefined || context.batchRejected + event.rejected > 0 === params.rejections;
    },
  },
  delays: {
    connectTimeout: CONNECT_TIMEOUT_MS,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    heartbeat: HEARTBEAT_MS,
    // Evaluated when `backoff` is entered, after its entry action drew the wait.
    backoff: ({ context }) => context.retryDelayMs,
  },
}).createMachine({
  id: "sync",
  context: ({ input }) => ({
    attempt: 0,
    needsBootstrap: input.needsBootstrap,
    needsPull: false,
    batchId: null,
    batchRejected: 0,
    lastClose: null,
    lastError: null,
    random: input.random ?? Math.random,
    now: input.now ?? null,
    retryDelayMs: 0,
    retryAtMs: null,
  }),
  initial: "start",
  states: {
    /** Transient: picks `online` or `offline` from the input. Never observed at rest. */
    start: {
      always: [{ guard: "startsOnline", target: "online" }, { target: "offline" }],
    },

    /** No network. RETRY_NOW does nothing here: there is nothing to retry over. */
    offline: {
      on: { "CONNECTIVITY.ONLINE": "online" },
    },

    online: {
      invoke: {
        id: "session",
        src: "session",
        // A session that throws is a bug in it, not a reason to stop syncing forever.
        onError: { target: "backoff", actions: "recordCrash" },
      },
      exit: "clearSessionState",
      initial: "connecting",
      on: {
        "CONNECTIVITY.OFFLINE": "offline",
        "SESSION.CLOSED": [
          { guard: { type: "closedWith", params: { outcome: "authFailed" } }, target: "authFailed", actions: "recordClose" },
          { guard: { type: "closedWith", params: { outcome: "updateRequired" } }, target: "updateRequired", actions: "recordClose" },
          { guard: { type: "closedWith", params: { outcome: "replaced" } }, target: "replaced", actions: "recordClose" },
          { target: "backoff", actions: "recordClose" },
        ],
        "SESSION.ERROR": { actions: "recordError" },
        // Outside `live` and `pulling`, remember it and pull once the queue is drained.
        "SESSION.GAP": { actions: "markNeedsPull" },
        "INTERNAL.SESSION_ABANDONED": "backoff",
      },
      states: {
        connecting: {
          on: { "SESSION.OPEN": "handshaking" },
          after: {
            connectTimeout: {
              actions: { type: "abandonSession", params: { reason: "connect_timeout", message: "connect timed out" } },
            },
          },
        },

        handshaking: {
          entry: { type: "command", params: { type: "HELLO" } },
          on: {
            "SESSION.WELCOME": [
              { guard: "needsBootstrap", target: "bootstrapping", actions: "welcomed" },
              { target: "pulling", actions: "welcomed" },
            ],
          },
          after: {
            handshakeTimeout: {
              actions: { type: "abandonSession", params: { reason: "handshake_timeout", message: "handshake timed out" } },
            },
          },
        },

        // No timeout: a bootstrap streams a whole snapshot, and the session reports its failures.
        bootstrapping: {
          entry: { type: "command", params: { type: "BOOTSTRAP" } },
          on: {
            "SESSION.BOOTSTRAPPED": { target: "pulling", actions: "bootstrapped" },
            "SESSION.BOOTSTRAP_FAILED": {
              actions: {
                type: "abandonSession",
                params: ({ event }) => ({ reason: "bootstrap_failed", message: event.message }),
              },
            },
          },
        },

        pulling: {
          entry: ["clearNeedsPull", { type: "command", params: { type: "PULL" } }],
          on: {
            "SESSION.PAGE_APPLIED": [
              // Re-enter: sends the next PULL and restarts the request timeout.
              { guard: "moreToPull", target: "pulling", reenter: true },
              { target: "pushing" },
            ],
            // The pull in flight already covers it: the session reports in socket order, so a
            // change committed after the server built the last page is reported after that page.
            "SESSION.GAP": {},
          },
          after: {
            requestTimeout: {
              actions: { type: "abandonSession", params: { reason: "request_timeout", message: "pull timed out" } },
            },
          },
        },

        // No timeout: PUSH_NEXT reads the local queue and sends; the session answers at once.
        pushing: {
          entry: { type: "command", params: { type: "PUSH_NEXT" } },
          on: {
            "SESSION.BATCH_SENT": { target: "awaitingVerdicts", actions: "startBatch" },
            "SESSION.QUEUE_EMPTY": [{ guard: "needsPull", target: "pulling" }, { target: "live" }],
          },
        },

        awaitingVerdicts: {
          on: {
            "SESSION.VERDICTS_APPLIED": [
              // Part of the batch: count, and re-enter so the timeout measures silence, not size.
              {
                guard: { type: "verdicts", params: { complete: false } },
                target: "awaitingVerdicts",
                reenter: true,
                actions: "countRejected",
              },
              {
                guard: { type: "verdicts", params: { complete: true, rejections: true } },
                target: "conflict",
                actions: "countRejected",
              },
              { guard: { type: "verdicts", params: { complete: true } }, target: "pushing", actions: "clearBatch" },
              // Verdicts of another batch: ignored (none is in flight but ours).
            ],
          },
          after: {
            requestTimeout: {
              actions: { type: "abandonSession", params: { reason: "request_timeout", message: "verdicts timed out" } },
            },
          },
        },

        /** Transient: tell the UI, then refresh server truth before pushing more (I7). */
        conflict: {
          entry: {
            type: "conflictsRaised",
            params: ({ context }) => {
              assert(context.batchId !== null, "conflict without a batch");
              return { batchId: context.batchId, rejected: context.batchRejected };
            },
          },
          always: { target: "pulling", actions: "clearBatch" },
        },

        live: {
          on: {
            "LOCAL_WRITE": "pushing",
            "SESSION.GAP": "pulling",
            // Stay without re-entering: the heartbeat timer keeps running.
            "SESSION.LIVE_APPLIED": {},
          },
          after: {
            heartbeat: { target: "live", reenter: true, actions: { type: "command", params: { type: "PING" } } },
          },
        },
      },
    },

    backoff: {
      entry: "countAttempt",
      exit: "clearRetryAt",
      after: { backoff: "online" },
      on: {
        RETRY_NOW: "online",
        "CONNECTIVITY.OFFLINE": "offline",
      },
    },

    /** Stops retrying until the user provides a new token. Connectivity changes do not leave it. */
    authFailed: {
      on: { TOKEN_UPDATED: { target: "online", actions: "resetAttempt" } },
    },

    /**
     * The app is too old for the server: nothing leaves this state, the app must be updated.
     * Deliberately not `type: "final"`: a final state would end the actor, and the engine and UI
     * keep reading its snapshot (status, lastClose).
     */
    updateRequired: {},

    /** Another instance of this device took over. RETRY_NOW = the user takes over again. */
    replaced: {
      on: { RETRY_NOW: "online" },
    },
  },
});

export type SyncMachine = typeof syncMachine;
export type SyncSnapshot = SnapshotFrom<typeof syncMachine>;
