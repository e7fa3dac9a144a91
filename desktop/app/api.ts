/**
 * The desktop app's API: what the renderer may ask of the main-process core, and every shape of data
 * it gets back. One contract, two transports: Electron's preload (contextBridge + IPC) and browser
 * mode (HTTP + WebSocket on loopback). Requests are validated here, at the boundary, with zod.
 *
 * The renderer imports this module for its types only (`import type`): the zod schemas below stay in
 * the main process and never reach the renderer's bundle. The store's own types stay in the store;
 * the core (core.ts) hands over values of the shapes declared here.
 */
import { z } from "zod";
import type { PublicStatus } from "../../machines/index.js";
import type { DayFigures, DayReport, DeviceId, Entity, InvoiceCreate, InvoicePatch, LedgerRow, MediaSelection, ProjectData, ProjectPatch, RejectCode, RejectDetail, Role, StudioDetails, SyncEvent, UserId } from "../../domain/index.js";
import { Currency, DeviceId as DeviceIdSchema, EntityType, LeaseGroup, SyncStatus } from "../../domain/index.js";
import { err, ok, type Result } from "../../lib/result.js";
import type { LastChange } from "../../protocol/index.js";
import type { BootstrapProgress } from "../sync/bootstrap.js";
import type { CorrectionInput, SaleInput } from "../store/writes.js";
import type { Conflict, ConflictAction } from "../store/conflicts.js";
import type { QueueEntry, QueuePage } from "../store/queue-read.js";

export type { BootstrapProgress, DayFigures, DayReport, Entity, LedgerRow, Result };

/** An entity as the user sees it. */
export interface EntityView {
  entity: Entity;
  /** synced: equals server truth; pending: has local changes not yet confirmed; rejected: a refused POS sale kept for a manager. */
  status: "synced" | "pending" | "rejected";
  /** The official receipt number once the server assigned it (POS orders), else null. */
  official_receipt_no: number | null;
}

/** A page of the POS history (newest first) and how many orders match over every page. */
export interface PosHistoryPage {
  items: EntityView[];
  total: number;
}

/**
 * A change this device could not apply, kept in the inbox. `code` is the server's reject code, or
 * `unreadable` for a queued change this device could no longer read (never on the wire).
 */
/**
 * A conflict as the inbox shows it: the store's entry (desktop/store/conflicts.ts) without the base it
 * kept, with what the core worked out for people (names, who/when/why in words, fields, actions).
 */
export interface ConflictView extends Omit<Conflict, "last_change" | "base_entity"> {
  /** The entity's name for people (the local change's, the server's, or the last known one), if any. */
  entity_name: string | null;
  /** What was not applied, in a sentence ("Your edit of this project was not applied."). */
  what: string;
  /**
   * Who made the server's version, when and why (protocol v5), with `words` ready to show: "Deleted by
   * nimal on another device, 2 Dec 14:05 — reason: duplicate" (the branch's time zone, the core's clock).
   */
  last_change: (LastChange & { words: string }) | null;
  /** Field by field: this device's version beside the server's, formatted for people. */
  fields: ConflictField[];
  /** What this entry allows (the store refuses anything else). */
  actions: ConflictAction[];
  /** What "Re-apply my change" sends: these fields, as an edit of the server's version `base_version`. */
  reapply_preview: { base_version: number; fields: Array<{ label: string; value: string }> } | null;
  /** For an entry kept for a manager: whether this user may resolve it, and why (not) in words. */
  manager: { can_resolve: boolean; words: string; by_code: boolean } | null;
}

export interface ConflictField {
  label: string;
  mine: string;
  server: string;
  differs: boolean;
}

/** Keep the server's version, re-apply an edit, restore a deleted project as new, enter a refused create again. */
export type { ConflictAction };

/**
 * One queued change for the Sync activity view and a page of them (desktop/store/queue-read.ts).
 * Times are ISO instants from the store's clock; the renderer formats them in the branch's zone.
 */
export type QueuedChangeView = QueueEntry;
export type QueuePageView = QueuePage;

export interface SyncSummary {
  pending: number;
  oldest_pending_at: string | null;
  cursor: number;
  conflicts_open: number;
  last_confirmed_at: string | null;
}

/** A write's outcome: the event queued and the entity as now seen, or why it was refused (the server's words). */
export type WriteResult = Result<{ event: SyncEvent; entity: Entity }, { code: RejectCode; message: string; detail: RejectDetail | null }>;

/**
 * Many writes' outcome: every event queued (in the request's order) and its entity's id, or the one
 * that was refused, by its index in the request (from 0), and why; then nothing at all was written.
 */
export type WriteManyResult = Result<
  Array<{ event_id: string; entity_id: string }>,
  { index: number; code: RejectCode; message: string; detail: RejectDetail | null }
>;

export interface AppStatus {
  sync: PublicStatus;
  /** The user switched sync off (working offline on purpose). */
  paused: boolean;
  summary: SyncSummary;
  /** Null until the database is set up (the renderer shows the setup screen). `token_expires_ms`: when this till's sign-in runs out, from the token itself (null when unreadable). */
  identity: { branch_id: string; device_id: DeviceId; user_id: UserId; role: Role; token_expires_ms: number | null } | null;
  bootstrap: BootstrapProgress | null;
  /**
   * Time, from the core's injected clock: the renderer never reads the wall clock (I13). `today` is
   * the branch's business day (a calendar day in the branch's `time_zone`). `skew_ms`: this till's
   * clock minus the server's at the last `welcome` (null until the device first connects); beyond
   * CLOCK_SKEW_WARN_MS the sync panel warns.
   */
  clock: { now_ms: number; today: string; time_zone: string; skew_ms: number | null };
  /** The studio that heads receipts and invoices, as the server last stated it; null until the device first connects. */
  studio: StudioDetails | null;
  /** v7: the leases in force on the branch and the ones this till holds, in words (app/leases.ts). */
  leases: LeasesView;
}

/**
 * One lease in force on the branch, in words, counted down by the core (the renderer never reads a
 * clock): "Being edited by nimal (manager) on another till" + "1 min left". No device has a name yet:
 * another till is "another till", with `device_short` (its id's last 6 digits) to tell tills apart.
 */
export interface LeaseView {
  entity_id: string;
  entity_type: EntityType;
  group: LeaseGroup;
  /** "payments and status" (domain/lease-groups.ts). */
  group_label: string;
  user_id: string;
  role: Role;
  device_short: string;
  /** Held by this till. */
  this_till: boolean;
  remaining_ms: number;
  /** "Being edited by nimal (manager) on another till", or "You are editing payments". */
  holder_words: string;
  /** "1 min left", "45 s left", "ending now". */
  remaining_words: string;
  /** Both, joined: "Being edited by nimal (manager) on another till, 1 min left". */
  words: string;
}

/**
 * A lease this till asked for because its user is editing the group: `asking` while the question is
 * out; `held` (renewed by the core at half its time); `held_elsewhere` (refused: another till holds
 * it); `refused` (for another reason, the branch's words); `offline` (not connected: nobody can say);
 * `unanswered` (timed out or a server error); `ended` (the branch no longer lists it: expired or broken);
 * `local_only` (the branch has no such record yet: created here and not sent, so nobody else edits it).
 * None of them stops the local edit.
 */
export interface LeaseHoldView {
  entity_id: string;
  group: LeaseGroup;
  state: "asking" | "held" | "held_elsewhere" | "refused" | "offline" | "unanswered" | "ended" | "local_only";
  words: string;
}

export interface LeasesView {
  /** False while not connected: the leases in force are unknown (`in_force` is then empty). */
  connected: boolean;
  /** While not connected: "You are offline: someone may be editing this too"; else null. */
  offline_words: string | null;
  in_force: LeaseView[];
  mine: LeaseHoldView[];
}

/**
 * This till's own account of a business day (the Close of day screen): the branch's proof for it
 * when the report lists it, and its own POS changes of the day not yet confirmed (true offline too).
 * `words`: "This till: confirmed for 2026-11-25", "This till: 3 POS changes of 2026-11-25 waiting to be confirmed".
 */
export interface ThisTillDay {
  words: string;
  tone: "ok" | "warn" | "quiet";
  pending: number;
}

/**
 * The Close of day screen for one business day (app/day-close.ts): the branch's report (`branch`,
 * with whether this user may close the day and count drawers); or, when the server cannot be
 * reached, this till's own figures (`this_till`, with `why` saying they are not the branch's); or
 * the server's refusal in words.
 */
export type DayView =
  | { source: "branch"; day: string; report: DayReport; may_close: boolean; this_till: ThisTillDay }
  | { source: "this_till"; day: string; figures: DayFigures; why: string; this_till: ThisTillDay }
  | { source: "refused"; day: string; message: string; this_till: ThisTillDay };

/** A close or a drawer count: the day's view with the report as it now stands, or why not in words (a 409 with the report as it stands). */
export type DayActionResult = { ok: true; view: DayView } | { ok: false; error: string; view?: DayView };

const id = z.string().min(1).max(64);
const reason = z.string().min(1).max(500);

/**
 * A payload typed as what the renderer sends, and checked by the store, not here: the store validates
 * every write fully and refuses a bad one with a WriteResult in the server's words (which the screen
 * shows), where a check here could only fail the request. `z.custom` without a check accepts any value.
 */
const checkedByStore = <T>() => z.custom<T>();

/** Every write the UI can make, one payload type per kind; payloads are validated, fully, by the store. */
export const WriteAction = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("pos_sale"), input: checkedByStore<SaleInput>() }),
  z.strictObject({ kind: z.literal("pos_correction"), id, input: checkedByStore<CorrectionInput>() }),
  z.strictObject({ kind: z.literal("pos_void"), id, reason }),
  z.strictObject({ kind: z.literal("project_create"), data: checkedByStore<ProjectData>() }),
  z.strictObject({ kind: z.literal("project_update"), id, patch: checkedByStore<ProjectPatch>() }),
  z.strictObject({ kind: z.literal("project_delete"), id, reason }),
  z.strictObject({ kind: z.literal("media_selection"), id, selection: checkedByStore<MediaSelection>() }),
  z.strictObject({ kind: z.literal("invoice_create"), data: checkedByStore<InvoiceCreate>() }),
  z.strictObject({ kind: z.literal("invoice_update"), id, patch: checkedByStore<InvoicePatch>() }),
  z.strictObject({ kind: z.literal("invoice_void"), id, reason }),
]);
export type WriteAction = z.infer<typeof WriteAction>;

/**
 * The most writes one `writeMany` request may carry. They run in one local transaction on the main
 * process, which blocks it meanwhile: 40-70 µs of CPU a project create in bulks of 500 (measured on
 * the 2-core bench machine under load), so 500 stay inside the 50 ms event-loop budget (I8). A larger
 * import is sent as several requests.
 */
export const MAX_WRITE_MANY = 500;

export const ApiRequest = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("status") }),
  z.strictObject({ method: z.literal("list"), type: EntityType, search: z.string().max(200).optional(), limit: z.int().min(1).max(1_000).optional(), offset: z.int().min(0).optional() }),
  z.strictObject({ method: z.literal("get"), id }),
  // day: a business day in the branch's zone (absent: all days); search: part of a receipt number.
  z.strictObject({ method: z.literal("posHistory"), day: z.iso.date().optional(), search: z.string().max(200).optional(), limit: z.int().min(1).max(200), offset: z.int().min(0) }),
  // The Sync activity view: the queue newest first, by state and kind of record, a page at a time.
  z.strictObject({ method: z.literal("queue"), status: SyncStatus.optional(), entity_type: EntityType.optional(), limit: z.int().min(1).max(200), offset: z.int().min(0) }),
  z.strictObject({ method: z.literal("conflicts"), open: z.boolean() }),
  z.strictObject({ method: z.literal("resolveConflict"), id: z.int().min(1), action: z.enum(["dismiss", "reapply", "restore", "reenter"]) }),
  // An entry kept for a manager, resolved through the server (the server checks the role and audits it).
  // code: on a till whose own role cannot, a manager's one-time sign-in code, used for this request only.
  z.strictObject({ method: z.literal("managerResolveConflict"), id: z.int().min(1), note: z.string().max(500), code: z.string().max(200).optional() }),
  z.strictObject({ method: z.literal("ledger"), day: z.iso.date().nullable() }),
  z.strictObject({ method: z.literal("write"), action: WriteAction }),
  // Many writes in one local transaction (an import, a folder of client folders): all or none.
  z.strictObject({
    method: z.literal("writeMany"),
    actions: z.array(WriteAction).min(1).max(MAX_WRITE_MANY, `at most ${MAX_WRITE_MANY} writes in one writeMany; send the rest in another`),
  }),
  z.strictObject({ method: z.literal("retryNow") }),
  z.strictObject({ method: z.literal("setOnline"), online: z.boolean() }),
  // Sign-in codes (app/enrollment.ts): set an unbound database up, sign in again, ask for a code (managers).
  z.strictObject({ method: z.literal("setup"), server: z.string().max(500), branch: z.string().max(200), code: z.string().max(200) }),
  z.strictObject({ method: z.literal("signIn"), code: z.string().max(200) }),
  // v7 leases: hold a guarded field group while editing it (renewed by the core), then let it go.
  z.strictObject({ method: z.literal("leaseAcquire"), entity_id: id, group: LeaseGroup }),
  z.strictObject({ method: z.literal("leaseRelease"), entity_id: id, group: LeaseGroup }),
  // v10 end of day (app/day-close.ts): the branch's report of a business day, closing it, counting a till's drawer.
  z.strictObject({ method: z.literal("dayReport"), day: z.iso.date() }),
  z.strictObject({ method: z.literal("closeDay"), day: z.iso.date(), note: z.string().max(500).optional() }),
  z.strictObject({
    method: z.literal("countDrawer"),
    day: z.iso.date(),
    device_id: DeviceIdSchema,
    currency: Currency,
    counted_minor: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
    note: z.string().max(500).optional(),
  }),
  z.strictObject({ method: z.literal("addTill"), role: z.string().max(20), user: z.string().max(200), ttl_minutes: z.int().min(1).max(24 * 60) }),
]);
export type ApiRequest = z.infer<typeof ApiRequest>;

/** Validates a request from either transport; the error names the field that is wrong. */
export function parseApiRequest(raw: unknown): Result<ApiRequest, string> {
  const parsed = ApiRequest.safeParse(raw);
  if (parsed.success) return ok(parsed.data);
  const issue = parsed.error.issues[0];
  return err(issue ? `invalid request${issue.path.length ? ` at ${issue.path.join(".")}` : ""}: ${issue.message}` : "invalid request");
}

/** What each method answers. */
export interface ApiResults {
  status: AppStatus;
  list: EntityView[];
  get: EntityView | null;
  posHistory: PosHistoryPage;
  queue: QueuePageView;
  conflicts: ConflictView[];
  resolveConflict: { ok: true } | { ok: false; error: string };
  managerResolveConflict: { ok: true } | { ok: false; error: string; field?: "code" | "note" };
  ledger: LedgerRow[];
  write: WriteResult;
  writeMany: WriteManyResult;
  retryNow: null;
  setOnline: null;
  setup: SignInResult;
  signIn: SignInResult;
  addTill: AddTillResult;
  leaseAcquire: LeaseHoldView;
  leaseRelease: { released: boolean; words: string };
  dayReport: DayView;
  closeDay: DayActionResult;
  countDrawer: DayActionResult;
}

/** A code typed on the setup or sign-in screen: done, or which field is wrong and why, in words (nothing was changed). */
export type SignInResult = { ok: true } | { ok: false; field: "server" | "branch" | "code"; message: string; detail: string | null };

/** A manager's code for a new till: shown large with its expiry (`expires_ms` on the core's clock's scale), or why not. */
export type AddTillResult = { ok: true; code: string; expires_ms: number; role: Role; user: string; server_url: string; branch_id: string } | { ok: false; field: "user" | "role" | null; message: string };

/** Pushed to the renderer: status changes, and "data changed, re-read what you show". */
export type AppEvent = { type: "status"; status: AppStatus } | { type: "changed" };

/** The renderer's view of the API, whichever transport carries it. */
export interface DesktopApi {
  call<M extends ApiRequest["method"]>(request: Extract<ApiRequest, { method: M }>): Promise<ApiResults[M]>;
  subscribe(listener: (event: AppEvent) => void): () => void;
}
