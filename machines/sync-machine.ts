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
import { assertEvent, assign, enqueueActions, fromCallback, not, sendTo, setup, type SnapshotFrom } from "xstate";
import { CLOSE_OUTCOMES, type CloseOutcome, closeReasonOf } from "../protocol/close-codes.js";
import { backoffDelayMs } from "./backoff.js";

/** No socket `open` within this long after starting to connect: give up and back off. */
export const CONNECT_TIMEOUT_MS = 15_000;
/** No `welcome` within this long after sending `hello`. */
export const HANDSHAKE_TIMEOUT_MS = 15_000;
/** No pull page, or no verdicts for any batch in flight, within this long. */
export const REQUEST_TIMEOUT_MS = 60_000;
/**
 * Push batches sent and not yet fully answered, at most. With one, device and server take turns:
 * the server idles while the device applies verdicts and prepares the next batch, and the device
 * idles while the server commits. A few in flight let each side work while the other does; order
 * is kept by the socket (the server handles a connection's frames one at a time, in arrival order,
 * and answers in the order of the requests: docs/protocol/wire.md). Four batches of 200 events keep
 * both sides busy on a round trip of a few ms; more would only hold more unanswered work on a link
 * that may drop.
 */
export const MAX_BATCHES_IN_FLIGHT = 4;
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
  /** At most this many batches in flight (default MAX_BATCHES_IN_FLIGHT; 1 = one push at a time). */
  maxBatchesInFlight?: number;
}

/** A batch sent on this connection whose verdicts are not all in yet. */
export interface BatchInFlight {
  batchId: string;
  /** Rejections counted so far, summed over its verdict messages. */
  rejected: number;
  /**
   * Sent in chunks (or resuming an upload with `upload_query`): nothing is sent behind it until it is
   * answered. A batch behind it could reach the server first (a resumed upload's remaining chunks
   * only go out when `upload_state` comes back), and the server keeps at most two open uploads per
   * device (MAX_OPEN_UPLOADS_PER_DEVICE), abandoning the oldest; a batch that needs chunks fills a
   * frame on its own, so there is little to gain from overlapping it anyway.
   */
  chunked: boolean;
}

export interface SyncContext {
  /** Failed connection attempts since the last successful handshake (or TOKEN_UPDATED). */
  attempt: number;
  needsBootstrap: boolean;
  /** A live change did not continue the cursor while we were busy: pull before going live. */
  needsPull: boolean;
  /**
   * Batches sent on this connection and not fully answered, oldest first; empty outside `pushing` and
   * `awaitingVerdicts`. Told to the session with each PUSH_NEXT, so it sends what comes after them.
   */
  inFlight: readonly BatchInFlight[];
  /**
   * Batches that came back complete with rejections since the last pull. While there is one, nothing
   * more is sent: the batches already in flight are answered (the server decides their events against
   * its truth, dependents of a rejected event included, `depends_on_rejected`), then the UI is told
   * and the machine pulls before pushing again (I7).
   */
  rejectedBatches: readonly ConflictsRaised[];
  /** The window: input.maxBatchesInFlight, else MAX_BATCHES_IN_FLIGHT (at least 1). */
  maxBatchesInFlight: number;
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

type VerdictsEvent = Extract<SyncMachineEvent, { type: "SESSION.VERDICTS_APPLIED" }>;

/** The window and conflicts once `event` is counted; unchanged for verdicts of a batch not in flight. */
function withVerdicts(context: SyncContext, event: VerdictsEvent): Pick<SyncContext, "inFlight" | "rejectedBatches"> {
  const { inFlight, rejectedBatches } = context;
  const batch = inFlight.find((b) => b.batchId === event.batchId);
  if (!batch) return { inFlight, rejectedBatches };
  const rejected = batch.rejected + event.rejected;
  if (!event.complete) return { inFlight: inFlight.map((b) => (b === batch ? { ...b, rejected } : b)), rejectedBatches };
  return {
    // Complete: out of the window, whichever batch it is (verdicts come in the order of the pushes,
    // but a push answered by an error instead gets none, and must not hold the others back).
    inFlight: inFlight.filter((b) => b !== batch),
    rejectedBatches: rejected > 0 ? [...rejectedBatches, { batchId: batch.batchId, rejected }] : rejectedBatches,
  };
}

function windowOpen(context: Pick<SyncContext, "inFlight" | "rejectedBatches" | "maxBatchesInFlight">): boolean {
  const { inFlight, rejectedBatches, maxBatchesInFlight } = context;
  return inFlight.length < maxBatchesInFlight && !inFlight.some((b) => b.chunked) && rejectedBatches.length === 0;
}

/**
 * Where verdicts lead from `awaitingVerdicts`: nowhere (`ignore`) when they are not for a batch in
 * flight; `conflict` once the last batch in flight is answered and one came back with rejections;
 * `push` when a batch completed and another may go out; else `wait` (part of a batch, or the window
 * is still closed), re-entering so the timeout measures silence, not size.
 */
type AfterVerdicts = "ignore" | "conflict" | "push" | "wait";

function afterVerdicts(context: SyncContext, event: VerdictsEvent): AfterVerdicts {
  if (!context.inFlight.some((b) => b.batchId === event.batchId)) return "ignore";
  const next = { ...context, ...withVerdicts(context, event) };
  if (next.inFlight.length === 0 && next.rejectedBatches.length > 0) return "conflict";
  if (event.complete && windowOpen(next)) return "push";
  return "wait";
}

export const syncMachine = setup({
  types: {} as { context: SyncContext; events: SyncMachineEvent; input: SyncInput },
  actors: { session: idleSession },
  actions: {
    /** Tell the session to do something. */
    command: sendTo("session", (_, command: SessionCommand) => command),
    /** The app's lease request, handed to the session as it is (it answers it; see ExternalEvent). */
    forwardLease: sendTo("session", ({ event }): SessionCommand => {
      assertEvent(event, "LEASE");
      return { type: "LEASE", request: event.request };
    }),
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
    /** A batch went out: it is in flight until its last verdict. */
    batchSent: assign({
      inFlight: ({ context, event }) => {
        assertEvent(event, "SESSION.BATCH_SENT");
        // Never twice: PUSH_NEXT names the batches in flight, so the session does not send one again.
        if (context.inFlight.some((b) => b.batchId === event.batchId)) return context.inFlight;
        return [...context.inFlight, { batchId: event.batchId, rejected: 0, chunked: event.chunked }];
      },
    }),
    /** Verdicts of a batch in flight: count its rejections; once complete, it leaves the window. */
    verdictsApplied: assign(({ context, event }) => {
      assertEvent(event, "SESSION.VERDICTS_APPLIED");
      return withVerdicts(context, event);
    }),
    clearConflicts: assign({ rejectedBatches: [] }),
    /** Leaving `online` ends the session: nothing is in flight any more, and the next one pulls anyway. */
    clearSessionState: assign({ needsPull: false, inFlight: [], rejectedBatches: [] }),
  },
  guards: {
    startsOnline: ({ event }) => inputOfInitEvent(event)?.online === true,
    closedWith: ({ event }, params: { outcome: CloseOutcome }) => {
      assertEvent(event, "SESSION.CLOSED");
      return closeOutcome(event.code) === params.outcome;
    },
    needsBootstrap: ({ context }) => context.needsBootstrap,
    /** The branch compacted its log past this device's cursor (v9): it must bootstrap again to catch up. */
    historyCompacted: ({ event }) => {
      assertEvent(event, "SESSION.WELCOME");
      return event.historyCompacted === true;
    },
    needsPull: ({ context }) => context.needsPull,
    moreToPull: ({ event }) => {
      assertEvent(event, "SESSION.PAGE_APPLIED");
      return event.more;
    },
    /** Verdicts of a batch in flight (others are not ours: answered already, or an earlier connection's). */
    ours: ({ context, event }) => {
      assertEvent(event, "SESSION.VERDICTS_APPLIED");
      return context.inFlight.some((b) => b.batchId === event.batchId);
    },
    /** Nothing is in flight. */
    nothingInFlight: ({ context }) => context.inFlight.length === 0,
    /** A batch came back with rejections: pull before pushing more (I7). */
    mustPullFirst: ({ context }) => context.rejectedBatches.length > 0,
    /** Another batch may go out now. */
    windowOpen: ({ context }) => windowOpen(context),
    /**
     * The batch just sent leaves room for another behind it. Not when it was in flight already: a
     * session that sent it again would be asked again and again, all at once.
     */
    roomBehind: ({ context, event }) => {
      assertEvent(event, "SESSION.BATCH_SENT");
      if (event.chunked || context.inFlight.some((b) => b.batchId === event.batchId)) return false;
      return windowOpen({ ...context, inFlight: [...context.inFlight, { batchId: event.batchId, rejected: 0, chunked: false }] });
    },
    /**
     * What these verdicts lead to, judged on the context they leave (guards run before the
     * transition's actions, so it is computed here the same way `verdictsApplied` computes it).
     */
    afterVerdicts: ({ context, event }, params: { next: AfterVerdicts }) => {
      assertEvent(event, "SESSION.VERDICTS_APPLIED");
      return afterVerdicts(context, event) === params.next;
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
    inFlight: [],
    rejectedBatches: [],
    maxBatchesInFlight: Math.max(1, input.maxBatchesInFlight ?? MAX_BATCHES_IN_FLIGHT),
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
        // Outside `online` a LEASE is dropped: the engine answers "offline" before sending it.
        LEASE: { actions: "forwardLease" },
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
              // Re-bootstrap (compaction, v9): the same path as the first, the queue kept; a failure backs off.
              { guard: "historyCompacted", target: "bootstrapping", actions: "welcomed" },
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
            // v9: the branch compacted its log past the cursor meanwhile: bootstrap again (queue kept).
            // Only a pull is answered so, and pulls go out only here.
            "SESSION.HISTORY_COMPACTED": "bootstrapping",
          },
          after: {
            requestTimeout: {
              actions: { type: "abandonSession", params: { reason: "request_timeout", message: "pull timed out" } },
            },
          },
        },

        /**
         * A PUSH_NEXT is out: the session reads the local queue and sends the next batch (or finds
         * none) at once, so no timeout. Earlier batches may be in flight; their verdicts are counted
         * here and the session's answer decides what comes next.
         */
        pushing: {
          entry: { type: "command", params: ({ context }) => ({ type: "PUSH_NEXT", inFlight: context.inFlight.map((b) => b.batchId) }) },
          on: {
            "SESSION.BATCH_SENT": [
              // Re-enter: the next PUSH_NEXT, while the server commits what is in flight.
              { guard: "roomBehind", target: "pushing", reenter: true, actions: "batchSent" },
              { target: "awaitingVerdicts", actions: "batchSent" },
            ],
            "SESSION.QUEUE_EMPTY": [
              { guard: not("nothingInFlight"), target: "awaitingVerdicts" },
              { guard: "mustPullFirst", target: "conflict" },
              { guard: "needsPull", target: "pulling" },
              { target: "live" },
            ],
            "SESSION.VERDICTS_APPLIED": { guard: "ours", actions: "verdictsApplied" },
          },
        },

        /**
         * Batches in flight, and no more go out for now: the window is full, a chunked batch is out,
         * a rejection waits for its pull, or the queue was found empty.
         */
        awaitingVerdicts: {
          on: {
            "SESSION.VERDICTS_APPLIED": [
              { guard: { type: "afterVerdicts", params: { next: "conflict" } }, target: "conflict", actions: "verdictsApplied" },
              { guard: { type: "afterVerdicts", params: { next: "push" } }, target: "pushing", actions: "verdictsApplied" },
              { guard: { type: "afterVerdicts", params: { next: "wait" } }, target: "awaitingVerdicts", reenter: true, actions: "verdictsApplied" },
              // Verdicts of another batch: ignored (answered already, or never ours).
            ],
            "LOCAL_WRITE": { guard: "windowOpen", target: "pushing" },
          },
          after: {
            requestTimeout: {
              actions: { type: "abandonSession", params: { reason: "request_timeout", message: "verdicts timed out" } },
            },
          },
        },

        /** Transient: tell the UI, then refresh server truth before pushing more (I7). Nothing is in flight. */
        conflict: {
          // The UI hears of every batch that came back with rejections, oldest first.
          entry: enqueueActions(({ context, enqueue }) => {
            for (const conflict of context.rejectedBatches) enqueue({ type: "conflictsRaised", params: conflict });
          }),
          always: { target: "pulling", actions: "clearConflicts" },
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
