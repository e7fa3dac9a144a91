/** The desktop sync lifecycle: the machine, its timing, and the public status the UI shows. */
export { BACKOFF, backoffDelayMs } from "./backoff.js";
export { publicStatus, syncStateName, type PublicStatus, type SyncStateName } from "./status.js";
export {
  CONNECT_TIMEOUT_MS,
  HANDSHAKE_TIMEOUT_MS,
  HEARTBEAT_MS,
  MAX_BATCHES_IN_FLIGHT,
  REQUEST_TIMEOUT_MS,
  closeOutcome,
  syncMachine,
  type CloseOutcome,
  type BatchInFlight,
  type SyncContext,
  type SyncInput,
  type SyncMachine,
  type SyncSnapshot,
} from "./sync-machine.js";
export type {
  AbandonReason,
  AnsweredRequest,
  ConflictsRaised,
  ExternalEvent,
  InternalEvent,
  SessionCommand,
  SessionEvent,
  SessionSendBack,
  SyncMachineEvent,
} from "./events.js";
