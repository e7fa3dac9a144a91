/**
 * The sync machine's vocabulary: events from the engine/UI, the session's reports, and the
 * commands the machine sends to the session. The session (desktop/sync/session.ts) is typed
 * against these, so the two cannot drift apart.
 */
import type { LeaseRequest } from "../protocol/messages.js";

/** Events from the engine / UI. */
export type ExternalEvent =
  | { type: "CONNECTIVITY.ONLINE" }
  | { type: "CONNECTIVITY.OFFLINE" }
  | { type: "LOCAL_WRITE" }
  | { type: "TOKEN_UPDATED" }
  | { type: "RETRY_NOW" }
  /**
   * v7: the app asks the branch for a lease (desktop/sync/leases.ts). Forwarded to the session while
   * online, whatever the lifecycle is doing; it changes nothing here. The session answers it itself
   * (the engine holds the promise): before `welcome` and after a close it says "offline".
   */
  | { type: "LEASE"; request: LeaseRequest };

/** Events the session reports with `sendBack`. */
export type SessionEvent =
  | { type: "SESSION.OPEN" }
  /**
   * The socket closed, or never opened. A refused upgrade (HTTP 401, 403) is reported as the
   * protocol's close for the same refusal (CLOSE_CODES.unauthorized, .forbidden), see
   * desktop/sync/transport.ts.
   */
  | { type: "SESSION.CLOSED"; code: number; reason: string }
  /**
   * `historyCompacted` (protocol v9): the branch compacted its log past this device's cursor
   * (`welcome.compacted_through` > cursor), so it cannot pull what it missed: it bootstraps again
   * from the newest snapshot, keeping its queue, then pulls and pushes as usual.
   */
  | { type: "SESSION.WELCOME"; head: number; historyCompacted?: boolean }
  | { type: "SESSION.BOOTSTRAPPED" }
  | { type: "SESSION.BOOTSTRAP_FAILED"; message: string }
  | { type: "SESSION.PAGE_APPLIED"; cursor: number; more: boolean }
  | { type: "SESSION.LIVE_APPLIED"; cursor: number }
  | { type: "SESSION.GAP" }
  /**
   * v9: a pull was answered `history_compacted` (the branch compacted its log past the pull's
   * `since` during the session): bootstrap again, as for SESSION.WELCOME's `historyCompacted`.
   */
  | { type: "SESSION.HISTORY_COMPACTED" }
  /** `chunked`: it went out in chunks, or as an `upload_query` resuming an upload (see BatchInFlight). */
  | { type: "SESSION.BATCH_SENT"; batchId: string; events: number; chunked: boolean }
  | { type: "SESSION.QUEUE_EMPTY" }
  /** `complete`: every event of the batch now has a verdict (a batch may take several messages). */
  | { type: "SESSION.VERDICTS_APPLIED"; batchId: string; confirmed: number; rejected: number; complete: boolean }
  /** `answering`: the request the error answers, when the server named it (`in_reply_to`, protocol v4). */
  | { type: "SESSION.ERROR"; code: string; message: string; answering?: AnsweredRequest };

/** A request of this session that an `error` answered, by its id on the wire. */
export interface AnsweredRequest {
  /** A `pull` (id: its request_id) or a `push` (id: its batch_id, also the transfer_id of its chunks). */
  request: "pull" | "push";
  id: string;
}

/** Commands the machine sends to the session. */
export type SessionCommand =
  | { type: "HELLO" }
  | { type: "BOOTSTRAP" }
  | { type: "PULL" }
  /**
   * Send the next batch after the ones `inFlight` (sent on this connection, not fully answered):
   * the oldest unanswered batch not among them, else new events. Answered with BATCH_SENT or QUEUE_EMPTY.
   */
  | { type: "PUSH_NEXT"; inFlight: readonly string[] }
  | { type: "PING" }
  /** v7: send this `lease` request, unless the session is not welcomed (then it answers "offline" itself). */
  | { type: "LEASE"; request: LeaseRequest }
  /** Close the socket. The machine has already moved on: a SESSION.CLOSED after it is ignored. */
  | { type: "CLOSE"; reason: string };

/**
 * Raised by the machine right after it sent CLOSE (never sent from outside). It exists because a
 * transition that leaves `online` stops the session before its own actions run, so CLOSE must be
 * sent from a transition that stays, and the move to `backoff` is a second, raised step.
 */
export type InternalEvent = { type: "INTERNAL.SESSION_ABANDONED" };

/** Every event the sync machine handles. (Not to be confused with schema's SyncEvent, a queued change.) */
export type SyncMachineEvent = ExternalEvent | SessionEvent | InternalEvent;

/** Params of the `conflictsRaised` action: a batch finished with `rejected` rejections. */
export interface ConflictsRaised {
  batchId: string;
  rejected: number;
}

/** Why the client closes a session itself (the reason of the CLOSE command). */
export type AbandonReason = "connect_timeout" | "handshake_timeout" | "request_timeout" | "bootstrap_failed";

/** The sendBack the session should use: typed so a session cannot report an unknown event. */
export type SessionSendBack = (event: SessionEvent) => void;

