/**
 * Sync protocol v10: every message in each direction, as one discriminated union on `type` per
 * direction. Prose and worked examples live in docs/protocol/wire.md, the exact verdicts in docs/protocol/domain.md.
 *
 * Bump PROTOCOL_VERSION when: a message, field, enum value or limit on the wire is added, removed or
 * changes meaning. Do not bump when: only messages for people, comments, or server-internal storage
 * change. The fingerprint test (test/node/schema/fingerprint.test.ts) fails when the wire shape
 * changes without a new PROTOCOL_HISTORY entry.
 */
import { z } from "zod";
import { RejectCode, RejectDetail } from "../domain/reject-codes.js";
import { CloseReason } from "./close-codes.js";
import { Entity, EntityType, MediaSelectionChanges } from "../domain/entities/index.js";
import { SyncEvent } from "../domain/events.js";
import { BranchId, DeviceId, EntityId, EventId, Sha256Hex, TransferId, UserId } from "../domain/ids.js";
import { CHUNK_RAW_BYTES, MAX_ASSEMBLED_MESSAGE_BYTES, MAX_BATCH_EVENTS, MAX_CHUNKS_PER_TRANSFER, MAX_OBSERVED_REJECTIONS, MAX_PULL_PAGE_CHANGES, MAX_WATCHED_DEVICES } from "./limits.js";
import { Operation } from "../domain/operations.js";
import { Role } from "../domain/permissions.js";
import { LEASE_MAX_TTL_MS, LEASE_MIN_TTL_MS, LeaseGroup, MAX_ACTIVE_LEASES } from "../domain/leases.js";
import { StudioDetails } from "../domain/studio.js";
import { IsoDate, IsoDateTime, line } from "../domain/text.js";
import { RevisionReason, TillDays } from "../domain/day-report.js";
import { TimeZone } from "../domain/time.js";
import { DevicePresence, QueueReport, RejectionSummary } from "./observe.js";

export const PROTOCOL_VERSION = 11;
/** Oldest client protocol the server still speaks. Older clients are closed with `protocol_too_old`. */
export const MIN_SUPPORTED_PROTOCOL_VERSION = 1;

/** One line per version: what changed and the wire fingerprint it has. Append, never edit. */
export const PROTOCOL_HISTORY = [
  {
    version: 1,
    note: "initial protocol: hello/welcome, push/verdicts, pull/changes, live/poke, chunks, ping/pong, error",
    fingerprint: "fe9dd4cbb16be83bd78a260248afce16b1df08d2f68e0745b1545cf6993cc470",
  },
  {
    version: 2,
    note: "welcome carries the branch's time_zone (business days are days in that zone); v1 clients get a v1 welcome",
    fingerprint: "406ed9c84ddcf72a3c88f84c1b7dbbd8cbca0d675d5e15965b6f24641c98133f",
  },
  {
    version: 3,
    note: "hello names the install and its clock, welcome the server's; rejections carry the entity only where the device needs it, once per entity; chunk data checked as chunk_invalid; close codes device_revoked, slow_consumer, install_conflict, superseded; at most MAX_OPEN_UPLOADS_PER_DEVICE uploads per device",
    fingerprint: "610d54fa0ea797caec877e3bfa59fcfbec73ac4f7da54d013a0f234143cbe3d2",
  },
  {
    version: 4,
    note: "error names the request it answers (in_reply_to: a pull's request_id, a push's batch_id, a chunk's transfer_id); v1-v3 clients get no field",
    fingerprint: "dc9bc7bc502f3a36bc8eba6d256b0cc4f285123191fa5d55a1e783f7efec19e2",
  },
  {
    version: 5,
    note: "a rejected verdict says who made the server's current version, when and why (last_change: seq, user, device, committed_at, operation, the delete/void reason; null when the entity never existed); welcome carries the branch's studio (name, address, phone, tax_id) for receipt and invoice headers; invoices get official_invoice_no (gap-free, in commit order, when first issued) on the entity and on the issuing event's confirmed verdict; v1-v4 clients get the v4 welcome, verdicts and entities",
    fingerprint: "b3d8721bf341d66b7d6fa8d8f03ba656e6a71daa68ba4e02d057d0dc5f7a4353",
  },
  {
    version: 6,
    note: "the dashboard: hello may carry the device's queue (pending, oldest age) and a connected device sends status (cursor, queue); watch subscribes a connection (role observe) to watching/observed (device presence and reports, rejection summaries, audit head); the dashboard's HTTP reads (protocol/dashboard.ts) are part of the wire; v1-v5 clients are sent none of it",
    fingerprint: "0320a5303cb8babe03970c6e5abd54113a387170c5d215a23e425d87d23269ec",
  },
  {
    version: 7,
    note: "leases on high-risk field groups (domain/lease-groups.ts): lease (acquire, release, break) answered by lease_result; welcome carries the leases in force and leases sends them whenever they change; reject code entity_locked (another device holds the lease on a group the event touches); HTTP GET/POST leases (LeaseList, LeaseAnswerBody); the high-risk field table and lease limits; v1-v6 clients are sent none of it and get entity_locked as operation_not_allowed, same words, no detail",
    fingerprint: "177998ee217677d3cccc4203aedc6a28893158d5d6212067c30d6e054728fd20",
  },
  {
    version: 8,
    note: "a project update's media_selection may be a change set ({upsert, remove}: items added or replaced by sha256, hashes removed) against the selection of the version it is based on, so one photo picked among 20,000 is one item on the wire; the server applies it to its version (a removal of a photo not selected is invalid_payload); entities, changes and verdicts are unchanged, so v1-v7 clients are sent the same as before",
    fingerprint: "3cccc76c8e92d6cdfce7511be91a60aff09ea396b87e53ce4ce78332b265dfd0",
  },
  {
    version: 9,
    note: "deltas on the way down: hello may say deltas, and that connection is sent other devices' updates with delta (EntityDelta: the changed fields since base_version, a media selection change set, the SHA-256 of the entity's canonical JSON) in place of entity in live and changes, when smaller; pull may say full for whole entities again; compaction: welcome carries compacted_through and a pull below it is answered history_compacted; v1-v8 clients are sent none of it",
    fingerprint: "e74d9e0ae1d3179df54f3df3d8bcd922baa14f1a1b302f56146190a7afacaef2",
  },
  {
    version: 10,
    note: "the end of a business day: hello and status may carry pos_days (TillDay: per business day, the POS events still queued and the last local receipt issued), the till's proof that the branch has its sales; day_report tells every v10 connection a day's report was issued (closed, or amended by late POS commits); HTTP GET …/days/:day/report (DayReport: figures per till, currency and payment method, revisions with their differences, proof per till, drawer counts), POST …/days/:day/close and …/days/:day/drawer; v1-v9 clients are sent none of it",
    fingerprint: "f7432aa5e71dedfb469265d5ba7d593dab7437b0de7840b9fed5b37f0fd52f72",
  },
  {
    version: 11,
    note: "own commits by verdict: hello may say echo: false, and that connection is not sent the commits of its own pushes in live (the confirmed verdicts' seqs stand for them: it moves its cursor over a commit whose result it holds); pull pages and every other connection are unchanged; a v1-v10 client, and a v11 one that leaves echo out, gets its own commits back as before",
    fingerprint: "3ce1426bc13f590b1e01735544fb50c0b8558a4b5f1e371111a4a3f6dba75429",
  },
] as const;

const seq = z.int().min(0).max(Number.MAX_SAFE_INTEGER);
const RequestId = z.uuid().max(36);
const BatchId = EventId; // same shape; a batch id is generated like an event id
/** Base64 text; whether it decodes is checked with the chunk (`chunk_invalid`), not here. */
const Base64 = z.string().max(Math.ceil(CHUNK_RAW_BYTES / 3) * 4);

// ───────────────────────────── client → server ─────────────────────────────

/** First message on every connection. The token travels in the connection URL, not here. */
export const Hello = z.strictObject({
  type: z.literal("hello"),
  protocol_version: z.int().min(1).max(1_000),
  device_id: DeviceId,
  /** The last branch sequence number this device has applied (0 = none). */
  cursor: seq,
  /** Free-form client identification for the audit log, e.g. `studiovault-desktop/0.1.0`. */
  app: line(100),
  /**
   * Since v3 (required from v3 on): this install's own id, made once per local database. A device id
   * belongs to exactly one install; another install saying hello with it is refused.
   */
  install_id: z.uuid().max(36).optional(),
  /** Since v3 (required from v3 on): the device's clock at hello, ms since epoch. Skew is audited. */
  clock_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Since v6 (optional): the device's queue at hello, shown on the branch's dashboard. */
  queue: QueueReport.optional(),
  /**
   * Since v9 (optional, default false): send this connection changes as deltas (`delta` in place of
   * `entity`) where the branch has them. Say it only if the device keeps every entity as of its
   * cursor and can apply deltas to it (protocol/delta.ts); a client that keeps no entities leaves it out.
   */
  deltas: z.boolean().optional(),
  /**
   * Since v10 (optional): the till's account of its business days (domain/day-report.ts TillDay):
   * every day it has POS events queued, and the days of its window it issued receipts on. A client
   * that keeps no queue (a dashboard) leaves it out, and is then no till of the day's report.
   */
  pos_days: TillDays.optional(),
  /**
   * Since v11 (optional, default true): false = do not send this connection the commits of its own
   * pushes in `live`. Its confirmed verdicts stand for them: their `seq`s are in commit order among the
   * branch's, on the same socket, so a client that holds each commit's result (it folded the event into
   * its copy of server truth) moves its cursor over it without receiving it again. Pull pages are
   * unchanged (they still carry every commit whole). Say it only if the client does that; one that
   * leaves it out gets its own commits back as before.
   */
  echo: z.boolean().optional(),
});
export type Hello = z.infer<typeof Hello>;

/** A batch of queued events, in local order. Each gets its own verdict; none aborts the rest. */
export const Push = z.strictObject({
  type: z.literal("push"),
  batch_id: BatchId,
  events: z.array(SyncEvent).min(1).max(MAX_BATCH_EVENTS),
});
export type Push = z.infer<typeof Push>;

/** Ask for the commits after `since`. Answered by one `changes` page. */
export const Pull = z.strictObject({
  type: z.literal("pull"),
  request_id: RequestId,
  since: seq,
  limit: z.int().min(1).max(MAX_PULL_PAGE_CHANGES),
  /**
   * Since v9 (optional, default false): true asks for every change with its whole entity, no
   * `delta`, on a connection whose hello said `deltas`. A device asks it after a delta it could not
   * apply or verify (docs/protocol/wire.md, "Deltas").
   */
  full: z.boolean().optional(),
});
export type Pull = z.infer<typeof Pull>;

/**
 * One piece of a message too large for one frame (either direction). The pieces are byte ranges of
 * the message's UTF-8 JSON, base64-encoded, each with its own SHA-256; the whole has one too. The
 * receiver validates the reassembled message only once it is whole and its checksum matches.
 */
export const Chunk = z.strictObject({
  type: z.literal("chunk"),
  transfer_id: TransferId,
  index: z.int().min(0).max(MAX_CHUNKS_PER_TRANSFER - 1),
  count: z.int().min(1).max(MAX_CHUNKS_PER_TRANSFER),
  total_bytes: z.int().min(1).max(MAX_ASSEMBLED_MESSAGE_BYTES),
  sha256: Sha256Hex,
  chunk_sha256: Sha256Hex,
  data: Base64,
});
export type Chunk = z.infer<typeof Chunk>;

/** After a reconnect: how much of an upload does the server hold? Answered by `upload_state`. */
export const UploadQuery = z.strictObject({
  type: z.literal("upload_query"),
  transfer_id: TransferId,
});
export type UploadQuery = z.infer<typeof UploadQuery>;

export const Ping = z.strictObject({ type: z.literal("ping"), nonce: z.int().min(0).max(Number.MAX_SAFE_INTEGER) });
export type Ping = z.infer<typeof Ping>;

/**
 * Since v6: the device's cursor and queue, sent when its queue changes (at most about once a second)
 * and every STATUS_INTERVAL_MS while connected. Not answered; the branch keeps the latest and tells
 * its watchers (`observed`).
 */
export const Status = z.strictObject({
  type: z.literal("status"),
  /** The last branch seq this device has applied. */
  cursor: seq,
  queue: QueueReport,
  /** Since v10 (optional): the till's account of its business days, as in hello. */
  pos_days: TillDays.optional(),
});
export type Status = z.infer<typeof Status>;

/**
 * Since v6: subscribe this connection to the branch's dashboard feed (role `observe`). Answered by
 * `watching`, then `observed` whenever a device's presence or report changes, rejections are
 * decided or the audit grows. A role that may not observe gets a non-fatal `forbidden` error.
 */
export const Watch = z.strictObject({
  type: z.literal("watch"),
  request_id: RequestId,
});
export type Watch = z.infer<typeof Watch>;

/** Since v7: what a lease request asks (docs/protocol/wire.md, "lease"). */
export const LeaseAction = z.enum(["acquire", "release", "break"]);
export type LeaseAction = z.infer<typeof LeaseAction>;

/**
 * Since v7: take (or renew) a lease on one entity's high-risk field group (domain/lease-groups.ts),
 * give it back, or, as a manager, break another device's. Answered by `lease_result`; every v7
 * connection of the branch is then sent `leases` when the branch's leases changed.
 */
export const LeaseRequest = z.strictObject({
  type: z.literal("lease"),
  request_id: RequestId,
  action: LeaseAction,
  entity_id: EntityId,
  group: LeaseGroup,
  /** acquire: how long the lease lasts from now (default LEASE_DEFAULT_TTL_MS); renew by asking again. */
  ttl_ms: z.int().min(LEASE_MIN_TTL_MS).max(LEASE_MAX_TTL_MS).optional(),
  /** break: why, for the audit log and the holder. */
  reason: line(500).optional(),
});
export type LeaseRequest = z.infer<typeof LeaseRequest>;

export const ClientMessage = z.discriminatedUnion("type", [Hello, Push, Pull, Chunk, UploadQuery, Ping, Status, Watch, LeaseRequest]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// ───────────────────────────── server → client ─────────────────────────────

export const Limits = z.strictObject({
  frame_limit_bytes: z.int().min(1),
  chunk_raw_bytes: z.int().min(1),
  max_batch_events: z.int().min(1),
  max_event_bytes: z.int().min(1),
  max_pull_page_changes: z.int().min(1),
});
export type Limits = z.infer<typeof Limits>;

/** Since v7: a lease on one entity's high-risk field group, as the branch holds it. Times are the server's clock. */
export const Lease = z.strictObject({
  entity_id: EntityId,
  entity_type: EntityType,
  group: LeaseGroup,
  /** Who holds it: the device, its user and role. */
  device_id: DeviceId,
  user_id: UserId,
  role: Role,
  acquired_at_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** It ends then unless renewed: a device counts down from the message's `server_time_ms`, never its own clock. */
  expires_at_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type Lease = z.infer<typeof Lease>;

/** Answer to `hello`: the session is open. */
export const Welcome = z.strictObject({
  type: z.literal("welcome"),
  protocol_version: z.int().min(1),
  min_protocol_version: z.int().min(1),
  branch_id: BranchId,
  device_id: DeviceId,
  user_id: UserId,
  role: Role,
  /** The branch's latest sequence number: how far behind the device's cursor is. */
  head: seq,
  limits: Limits,
  /**
   * Since v2: the branch's IANA time zone. A business day (the POS ledger's `day`) is a calendar day
   * in this zone, whatever zone the device's host is set to. Not sent to v1 clients.
   */
  time_zone: TimeZone,
  /** Since v3: the server's clock when it answered, ms since epoch; the device shows its own skew. */
  server_time_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  /**
   * Since v5: the studio this branch is (name, address, phone, tax id), as a manager set it
   * (`PUT …/settings`): the header of the receipts and invoices the device prints, offline too.
   * Not sent to v1-v4 clients.
   */
  studio: StudioDetails,
  /**
   * Since v7 (always sent to a v7 client): every lease in force on the branch (soonest to end first);
   * afterwards `leases` says when they change. Absent for v1-v6 clients.
   */
  leases: z.array(Lease).max(MAX_ACTIVE_LEASES).optional(),
  /**
   * Since v9 (always sent to a v9 client): the commits up to and including this seq were compacted
   * out of the branch's log (0: none). A device whose cursor is below it cannot pull what it misses:
   * it bootstraps again from a snapshot, keeping its queue (docs/protocol/wire.md, "Compaction").
   */
  compacted_through: seq.optional(),
});
export type Welcome = z.infer<typeof Welcome>;

export const ConfirmedVerdict = z.strictObject({
  event_id: EventId,
  status: z.literal("confirmed"),
  /** The branch sequence number of the commit. */
  seq: z.int().min(1),
  entity_id: EntityId,
  /** The entity's version after the commit. */
  version: z.int().min(1),
  /** POS create: the official receipt number assigned by the server. Otherwise null. */
  official_receipt_no: z.int().min(1).nullable(),
  /**
   * Since v5: the official invoice number the server assigned when this event first made an invoice
   * issued (or paid); otherwise null (drafts, other edits, other entities). Absent for v1-v4 clients.
   */
  official_invoice_no: z.int().min(1).nullable(),
});
export type ConfirmedVerdict = z.infer<typeof ConfirmedVerdict>;

/**
 * Since v5: the commit that made the server's current version of the rejected event's entity, read
 * from the branch's own log and audit (never from the device): who, on which device, when, with what
 * operation, and the reason a delete or void carried (else null).
 */
export const LastChange = z.strictObject({
  seq: z.int().min(1),
  user_id: UserId,
  device_id: DeviceId,
  /** A name people know the device by, when the branch has one (none yet: the field is left out). */
  device_name: line(100).optional(),
  /** Server clock at that commit. Informational: order is `seq`. */
  committed_at: IsoDateTime,
  operation: Operation,
  /** The reason a delete or void gave; null for other operations. */
  reason: line(500).nullable(),
});
export type LastChange = z.infer<typeof LastChange>;

export const RejectedVerdict = z.strictObject({
  event_id: EventId,
  status: z.literal("rejected"),
  code: RejectCode,
  /** For people, e.g. "Project was deleted remotely". */
  message: z.string().max(1_000),
  detail: RejectDetail.nullable(),
  /** The server's current entity (a tombstone if deleted), or null if it never existed. */
  server_entity: Entity.nullable(),
  /**
   * Since v5: the commit that made the server's current version (who, when, why), whatever the
   * rejection; null when the entity never existed or the event named none. Absent for v1-v4 clients.
   */
  last_change: LastChange.nullable().optional(),
});
export type RejectedVerdict = z.infer<typeof RejectedVerdict>;

export const Verdict = z.discriminatedUnion("status", [ConfirmedVerdict, RejectedVerdict]);
export type Verdict = z.infer<typeof Verdict>;

/** Answer to `push`: one verdict per event, in the batch's order. Re-sending yields the same verdicts. */
export const Verdicts = z.strictObject({
  type: z.literal("verdicts"),
  batch_id: BatchId,
  verdicts: z.array(Verdict).max(MAX_BATCH_EVENTS),
});
export type Verdicts = z.infer<typeof Verdicts>;

/** One commit: the diff event (who did what) and the entity after it (a tombstone after delete). */
export const Change = z.strictObject({
  seq: z.int().min(1),
  event_id: EventId,
  device_id: DeviceId,
  user_id: UserId,
  entity_type: EntityType,
  entity_id: EntityId,
  operation: Operation,
  /** Top-level fields an update replaced; empty for other operations. */
  changed_fields: z.array(z.string().max(64)).max(64),
  entity: Entity,
  /** Server clock at commit. Informational: order is `seq`. */
  committed_at: IsoDateTime,
});
export type Change = z.infer<typeof Change>;

const fieldName = z.string().min(1).max(64);
/** At most 64 fields, like `changed_fields`: an entity has fewer. */
const fieldValues = z.record(fieldName, z.unknown()).refine((o) => Object.keys(o).length <= 64, "at most 64 fields");

/**
 * Since v9: a commit's entity as a field-level delta against the version before it (`base_version`,
 * which a device that has applied every earlier change holds). Applied in this order to that
 * version: `set` replaces top-level fields (`void`, `official_invoice_no`, …) and `unset` removes
 * them; `data` replaces fields of the entity's `data` and `data_unset` removes them;
 * `media_selection` changes the project's selection item by item (v8's change set); `version`
 * becomes the entity's version. The result must then hash (SHA-256 of its canonical JSON: keys
 * sorted, no whitespace; protocol/delta.ts) to `sha256`, or the device discards it and pulls that
 * change again with `full`. Never `entity_type`, `entity_id`, `version` or `deleted` in `set`.
 */
export const EntityDelta = z.strictObject({
  base_version: z.int().min(1).max(Number.MAX_SAFE_INTEGER),
  version: z.int().min(2).max(Number.MAX_SAFE_INTEGER),
  set: fieldValues.optional(),
  unset: z.array(fieldName).max(64).optional(),
  data: fieldValues.optional(),
  data_unset: z.array(fieldName).max(64).optional(),
  media_selection: MediaSelectionChanges.optional(),
  sha256: Sha256Hex,
});
export type EntityDelta = z.infer<typeof EntityDelta>;

/**
 * Since v9: a commit whose entity is sent as a delta (`delta` instead of `entity`), only to a
 * connection whose hello said `deltas`. The server sends one only for an update of an entity that
 * stays live, and only when it is smaller than the entity.
 */
export const DeltaChange = Change.omit({ entity: true }).extend({ delta: EntityDelta });
export type DeltaChange = z.infer<typeof DeltaChange>;

/** A change as `live` and `changes` carry it: whole, or (v9, to a connection whose hello said `deltas`) as a delta. */
export const WireChange = z.union([Change, DeltaChange]);
export type WireChange = z.infer<typeof WireChange>;

/** Whether a change carries its whole entity (not a delta). */
export const isWholeChange = (change: WireChange): change is Change => "entity" in change;

/** Answer to `pull`: the commits after `since`, in order. `cursor` is the last seq in the page. */
export const Changes = z.strictObject({
  type: z.literal("changes"),
  request_id: RequestId,
  changes: z.array(WireChange).max(MAX_PULL_PAGE_CHANGES),
  cursor: seq,
  head: seq,
  more: z.boolean(),
});
export type Changes = z.infer<typeof Changes>;
/** A `changes` page whose every change is whole: what the HTTP API and connections that did not ask for deltas get. */
export type WholeChanges = Omit<Changes, "changes"> & { changes: Change[] };

/** Commits pushed to every live connection of the branch as they happen. */
export const Live = z.strictObject({
  type: z.literal("live"),
  changes: z.array(WireChange).min(1).max(MAX_BATCH_EVENTS),
  head: seq,
});
export type Live = z.infer<typeof Live>;

/** Instead of `live` when the changes are too large to broadcast: "there is news up to head; pull". */
export const Poke = z.strictObject({ type: z.literal("poke"), head: seq });
export type Poke = z.infer<typeof Poke>;

/** Answer to a `chunk` or `upload_query`: the next chunk index the server needs. */
export const UploadState = z.strictObject({
  type: z.literal("upload_state"),
  transfer_id: TransferId,
  next_index: z.int().min(0).max(MAX_CHUNKS_PER_TRANSFER),
  complete: z.boolean(),
});
export type UploadState = z.infer<typeof UploadState>;

export const Pong = z.strictObject({ type: z.literal("pong"), nonce: z.int().min(0).max(Number.MAX_SAFE_INTEGER) });
export type Pong = z.infer<typeof Pong>;

/** Errors about a message (not about an event: those are verdicts). */
export const MessageErrorCode = z.enum([
  "malformed_message",
  "frame_too_large",
  "chunk_invalid",
  "checksum_mismatch",
  "transfer_expired",
  /**
   * Since v9: a pull whose `since` is below the branch's `compacted_through`: those commits are no
   * longer in the log. Bootstrap again from the newest snapshot, keep the queue, and resend it.
   */
  "history_compacted",
]);
export type MessageErrorCode = z.infer<typeof MessageErrorCode>;

/**
 * A non-fatal error answers one bad message and changes no state. A fatal error is followed by a
 * close with the code from CLOSE_CODES and the same name as reason.
 */
export const ErrorMessage = z.strictObject({
  type: z.literal("error"),
  code: z.union([MessageErrorCode, CloseReason]),
  message: z.string().max(1_000),
  fatal: z.boolean(),
  /**
   * Since v4: which request this error answers: the `request_id` of a `pull`, the `batch_id` of a
   * `push`, the `transfer_id` of a `chunk`; null when the frame could not be read that far (not
   * JSON, no such type) or the error answers no request (a fatal close). Absent for v1-v3 clients
   * and on a connection whose hello was not read yet (its version is not known).
   */
  in_reply_to: z.string().max(36).nullable().optional(),
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

/** Since v6: the answer to `watch`: every device of the branch as it is now. */
export const Watching = z.strictObject({
  type: z.literal("watching"),
  request_id: RequestId,
  head: seq,
  /** The server's clock when it answered: ages on the dashboard are counted from it. */
  server_time_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** The newest audit entry's id (0: none). */
  audit_head: seq,
  devices: z.array(DevicePresence).max(MAX_WATCHED_DEVICES),
});
export type Watching = z.infer<typeof Watching>;

/**
 * Since v6: what changed on the branch since the last `watching`/`observed` sent to this
 * connection: devices whose presence or report changed, rejections decided (oldest first, at most
 * MAX_OBSERVED_REJECTIONS; `more_rejections` when more were decided: read them over HTTP), and the
 * audit's newest id. Sent to watching connections only, right after what caused it.
 */
export const Observed = z.strictObject({
  type: z.literal("observed"),
  head: seq,
  server_time_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
  audit_head: seq,
  devices: z.array(DevicePresence).max(MAX_WATCHED_DEVICES),
  rejections: z.array(RejectionSummary).max(MAX_OBSERVED_REJECTIONS),
  more_rejections: z.boolean(),
});
export type Observed = z.infer<typeof Observed>;

/** Since v7: why a lease request was refused. */
export const LeaseRefusal = z.enum([
  /** Another device holds it: `lease` is theirs. */
  "held",
  /** No entity of the group's type has this id on the branch. */
  "not_found",
  /** The entity was deleted or voided: nothing is left to edit. */
  "ended",
  /** The role may not make the changes the group guards (acquire), or may not break leases (break). */
  "forbidden",
  /** release or break of a lease that is not in force (or, for release, is another device's). */
  "not_held",
  /** The device holds MAX_LEASES_PER_DEVICE, or the branch MAX_ACTIVE_LEASES. */
  "too_many",
]);
export type LeaseRefusal = z.infer<typeof LeaseRefusal>;

/** Since v7: the answer to `lease`. */
export const LeaseResult = z.strictObject({
  type: z.literal("lease_result"),
  request_id: RequestId,
  action: LeaseAction,
  outcome: z.enum(["granted", "released", "broken", "refused"]),
  refusal: LeaseRefusal.nullable(),
  /** For people, e.g. "Invoice payments and status are being edited on device … until …". */
  message: z.string().max(1_000),
  /** granted: the lease as it now stands; released or broken: the lease that ended; refused `held`: the holder's; otherwise null. */
  lease: Lease.nullable(),
  server_time_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type LeaseResult = z.infer<typeof LeaseResult>;

/**
 * Since v7: every lease in force on the branch, sent to each v7 connection whenever the branch's
 * leases change (granted, renewed, released, broken, expired); `welcome` carries them at first.
 */
export const Leases = z.strictObject({
  type: z.literal("leases"),
  leases: z.array(Lease).max(MAX_ACTIVE_LEASES),
  server_time_ms: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type Leases = z.infer<typeof Leases>;

/** Since v7: the answer to `GET …/leases` (docs/protocol/http.md): the `leases` message without its `type`. */
export const LeaseList = Leases.omit({ type: true });
export type LeaseList = z.infer<typeof LeaseList>;

/**
 * Since v7: the answer to `POST …/leases`: the `lease_result` message without `type` and
 * `request_id`. A refusal (403, 404, 409) also names itself in `error`, like every route's error body.
 */
export const LeaseAnswerBody = LeaseResult.omit({ type: true, request_id: true }).extend({ error: LeaseRefusal.optional() });
export type LeaseAnswerBody = z.infer<typeof LeaseAnswerBody>;

/**
 * Since v10: the branch issued a revision of a business day's report: its close (revision 1) or an
 * amendment made by late POS commits. Sent to every v10 connection; a till answers with a `status`
 * (its account of its days, so it is confirmed for the closed day at once), a dashboard reads the
 * report again (`GET …/days/:day/report`).
 */
export const DayReportIssued = z.strictObject({
  type: z.literal("day_report"),
  day: IsoDate,
  revision: z.int().min(1),
  reason: RevisionReason,
});
export type DayReportIssued = z.infer<typeof DayReportIssued>;

export const ServerMessage = z.discriminatedUnion("type", [
  Welcome,
  Verdicts,
  Changes,
  Live,
  Poke,
  Chunk,
  UploadState,
  Pong,
  ErrorMessage,
  Watching,
  Observed,
  LeaseResult,
  Leases,
  DayReportIssued,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;
