/**
 * The desktop app's API: what the renderer may ask of the main-process core. One contract, two
 * transports: Electron's preload (contextBridge + IPC) and browser mode (HTTP + WebSocket on
 * loopback). Requests are validated here, at the boundary, with zod.
 */
import { z } from "zod";
import type { PublicStatus } from "../../machines/index.js";
import type { LedgerRow, Role } from "../../schema/index.js";
import { EntityType, err, ok, type Result } from "../../schema/index.js";
import type { BootstrapProgress } from "../sync/bootstrap.js";
import type { Conflict, LocalEntity, SyncSummary } from "../store/local-store.js";
import type { WriteOutcome } from "../store/writes.js";

export interface AppStatus {
  sync: PublicStatus;
  /** The user switched sync off (working offline on purpose). */
  paused: boolean;
  summary: SyncSummary;
  identity: { branch_id: string; device_id: string; user_id: string; role: Role } | null;
  bootstrap: BootstrapProgress | null;
  /**
   * Time, from the core's injected clock: the renderer never reads the wall clock (I13). `today` is
   * the branch's business day (a calendar day in the branch's `time_zone`). `skew_ms`: this till's
   * clock minus the server's at the last `welcome` (null until the device first connects); beyond
   * CLOCK_SKEW_WARN_MS the sync panel warns.
   */
  clock: { now_ms: number; today: string; time_zone: string; skew_ms: number | null };
}

const id = z.string().min(1).max(64);
const reason = z.string().min(1).max(500);

/** Every write the UI can make; payloads are validated again, fully, by the store. */
export const WriteAction = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("pos_sale"), input: z.unknown() }),
  z.strictObject({ kind: z.literal("pos_correction"), id, input: z.unknown() }),
  z.strictObject({ kind: z.literal("pos_void"), id, reason }),
  z.strictObject({ kind: z.literal("project_create"), data: z.unknown() }),
  z.strictObject({ kind: z.literal("project_update"), id, patch: z.unknown() }),
  z.strictObject({ kind: z.literal("project_delete"), id, reason }),
  z.strictObject({ kind: z.literal("media_selection"), id, selection: z.unknown() }),
  z.strictObject({ kind: z.literal("invoice_create"), data: z.unknown() }),
  z.strictObject({ kind: z.literal("invoice_update"), id, patch: z.unknown() }),
  z.strictObject({ kind: z.literal("invoice_void"), id, reason }),
]);
export type WriteAction = z.infer<typeof WriteAction>;

export const ApiRequest = z.discriminatedUnion("method", [
  z.strictObject({ method: z.literal("status") }),
  z.strictObject({ method: z.literal("list"), type: EntityType, search: z.string().max(200).optional(), limit: z.int().min(1).max(1_000).optional(), offset: z.int().min(0).optional() }),
  z.strictObject({ method: z.literal("get"), id }),
  z.strictObject({ method: z.literal("conflicts"), open: z.boolean() }),
  z.strictObject({ method: z.literal("resolveConflict"), id: z.int().min(1), action: z.enum(["dismiss", "reapply"]) }),
  z.strictObject({ method: z.literal("ledger"), day: z.iso.date().nullable() }),
  z.strictObject({ method: z.literal("write"), action: WriteAction }),
  z.strictObject({ method: z.literal("retryNow") }),
  z.strictObject({ method: z.literal("setOnline"), online: z.boolean() }),
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
  list: LocalEntity[];
  get: LocalEntity | null;
  conflicts: Conflict[];
  resolveConflict: { ok: true } | { ok: false; error: string };
  ledger: LedgerRow[];
  write: WriteOutcome;
  retryNow: null;
  setOnline: null;
}

/** Pushed to the renderer: status changes, and "data changed, re-read what you show". */
export type AppEvent = { type: "status"; status: AppStatus } | { type: "changed" };

/** The renderer's view of the API, whichever transport carries it. */
export interface DesktopApi {
  call<M extends ApiRequest["method"]>(request: Extract<ApiRequest, { method: M }>): Promise<ApiResults[M]>;
  subscribe(listener: (event: AppEvent) => void): () => void;
}
