/** WebSocket close codes: fatal, per connection, and what a client does after each. */
import { z } from "zod";

/**
 * WebSocket close codes for fatal errors (4000-4999 are for applications, RFC 6455 §7.4.2).
 * The close reason is always the code's name, so it fits the 123-byte reason limit and never leaks
 * details; the preceding `error` message carries the human explanation.
 */
export const CLOSE_CODES = {
  /** Token missing, malformed, badly signed, or expired. Do not retry without a new token. */
  unauthorized: 4001,
  /** Valid token, but not for this branch, or `hello` names another device than the token. */
  forbidden: 4003,
  /** The client's protocol version is older than the server's minimum. Update the app. */
  protocol_too_old: 4010,
  /** The client's protocol version is newer than the server's. Retry later (server upgrade pending). */
  protocol_too_new: 4011,
  /** The first message was not `hello`, or `hello` was sent twice. */
  handshake_required: 4012,
  /** Too many malformed frames in a row: the peer is broken. */
  protocol_violation: 4013,
  /** The same device connected again; this older connection is closed. */
  replaced: 4014,
  /** The token expired during the session. Reconnect with a fresh token. */
  token_expired: 4015,
  /** A manager revoked this device. Its tokens are refused for good; the install needs a new device. */
  device_revoked: 4016,
  /**
   * The connection did not keep up: it was sent more than the server buffers for one connection
   * without a frame from it. Reconnect and pull from the cursor.
   */
  slow_consumer: 4017,
  /** Another install already uses this device id (a copied token or database). Needs a token for a new device. */
  install_conflict: 4018,
  /** This install opened a newer connection; this older one is closed. Not an error for the install. */
  superseded: 4019,
} as const;
export type CloseReason = keyof typeof CLOSE_CODES;
export const CloseReason = z.enum(Object.keys(CLOSE_CODES) as [CloseReason, ...CloseReason[]]);

/**
 * What a client does after a close, per reason (docs/protocol.md §10.2, "retry?"); the desktop's
 * sync machine has one state per outcome (machines/sync-machine.ts):
 *  - `authFailed`: stop until the user brings a new token (for a new device, after
 *    `device_revoked` and `install_conflict`: a new token for the same device will not help);
 *  - `updateRequired`: stop; the app must be updated;
 *  - `replaced`: stop; reconnecting would close the device's newer connection, which would
 *    reconnect in turn;
 *  - `backoff`: reconnect with backoff. A close that is not a protocol close (1000, 1006, 1011, a
 *    failed connect…) is `backoff` too.
 */
export type CloseOutcome = "authFailed" | "updateRequired" | "replaced" | "backoff";

/** The one table of close outcomes: `closeOutcome` and TERMINAL_CLOSE_REASONS are read from it. */
export const CLOSE_OUTCOMES = {
  unauthorized: "authFailed",
  forbidden: "authFailed",
  protocol_too_old: "updateRequired",
  protocol_too_new: "backoff", // the server is mid-upgrade: retry later
  handshake_required: "backoff", // a client bug: retrying costs little and may succeed
  protocol_violation: "backoff",
  replaced: "replaced",
  token_expired: "authFailed",
  device_revoked: "authFailed",
  slow_consumer: "backoff", // reconnect and pull from the cursor
  install_conflict: "authFailed",
  superseded: "backoff", // this install has a newer connection; a stray older one just goes away
} as const satisfies Record<CloseReason, CloseOutcome>;

/**
 * Close reasons after which reconnecting with the same credentials and app is pointless (or, for
 * `replaced`, harmful: it would close the device's newer connection, which would reconnect in turn).
 */
export const TERMINAL_CLOSE_REASONS: ReadonlySet<CloseReason> = new Set(
  (Object.keys(CLOSE_OUTCOMES) as CloseReason[]).filter((reason) => CLOSE_OUTCOMES[reason] !== "backoff"),
);

export function closeReasonOf(code: number): CloseReason | null {
  for (const [reason, value] of Object.entries(CLOSE_CODES)) {
    if (value === code) return reason as CloseReason;
  }
  return null;
}
