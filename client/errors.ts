/**
 * What can go wrong, as values the caller can switch on. A request on the socket that fails rejects
 * with a `SyncRequestError`; problems with no caller waiting (a frame that does not decode, a server
 * error about a pull) arrive as the client's `error` event, a `ClientProblem`.
 */
import type { CloseReason } from "../protocol/index.js";

/**
 * Why a socket request (`push`) failed:
 *  - `not_open`: the client is not connected (state is not `open`); nothing was sent;
 *  - `connection_lost`: the connection ended before the answer. Re-sending the same events is safe:
 *    the server answers a known event id with its stored verdict;
 *  - `server_error`: the server answered the request with an `error` (`serverCode` says which);
 *  - `frame_too_large`: one event alone is larger than a frame; chunked uploads are not done here;
 *  - `stopped`: `stop()` was called while it waited.
 */
export type SyncRequestErrorCode = "not_open" | "connection_lost" | "server_error" | "frame_too_large" | "stopped";

export class SyncRequestError extends Error {
  constructor(
    readonly code: SyncRequestErrorCode,
    message: string,
    /** For `server_error`: the server's error code (e.g. `malformed_message`). */
    readonly serverCode: string | null = null,
  ) {
    super(message);
    this.name = "SyncRequestError";
  }
}

/**
 * A problem reported on the `error` event:
 *  - `server`: an `error` message from the server (non-fatal ones; a fatal one also closes);
 *  - `frame`: a frame that did not decode as a server message (never trusted, never applied);
 *  - `chunk`: a chunked server message that did not reassemble or verify (the client pulls again);
 *  - `unexpected`: a well-formed message the client did not ask for (an unknown batch's verdicts…);
 *  - `listener`: one of the caller's own event listeners threw.
 */
export interface ClientProblem {
  source: "server" | "frame" | "chunk" | "unexpected" | "listener";
  code: string;
  message: string;
  /** The request it answers (a pull's request_id, a push's batch_id, a watch's request_id), if any. */
  in_reply_to: string | null;
}

/**
 * Why the client stopped for good (state `closed`): the protocol's close reason, `server_behind`
 * when the branch's head is below the client's cursor (a branch restored from an older copy), or
 * `history_compacted` when the commits after its cursor are no longer in the branch's log (protocol
 * v9, docs/protocol/compaction.md): either way the client's view cannot be continued.
 */
export interface ClosedInfo {
  /** The WebSocket close code (4016 for device_revoked…), or the HTTP status of a refused upgrade. */
  code: number;
  reason: CloseReason | "server_behind" | "history_compacted";
  /** The server's own words when it sent them (the fatal `error` before the close), else ours. */
  message: string;
}
