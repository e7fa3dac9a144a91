/**
 * @studiovault/client: a browser client of the StudioVault Sync protocol (docs/protocol.md). The
 * socket (`BranchClient`), the HTTP routes (`BranchApi`, `enroll`), and the protocol's own types
 * and schemas, so a web app types what it receives with the same definitions the server uses.
 */
export { BranchClient, type BranchClientOptions, type ChangesEvent, type ClientEvents, type ClientState, closedWords, CONNECT_TIMEOUT_MS, HANDSHAKE_TIMEOUT_MS, HEARTBEAT_MS, isTerminal, PONG_TIMEOUT_MS, type TimerApi } from "./branch-client.js";
export { type ApiOptions, type ApiResult, type AuditQuery, BranchApi, enroll, type EnrollOptions, type HistoryQuery, type MoneyQuery, type RejectionQuery, type TimelineQuery } from "./api.js";
export { type ClientProblem, type ClosedInfo, SyncRequestError, type SyncRequestErrorCode } from "./errors.js";
export * from "../protocol/index.js";
export * from "../protocol/enrollment.js";
export type { SyncEvent } from "../domain/events.js";
