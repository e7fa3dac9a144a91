/**
 * What the dashboard uses of a branch's browser client (client/ BranchClient): its connection, its
 * dashboard feed and its typed HTTP reads. An interface, so the views depend on these few members
 * only; main.tsx hands them the real client.
 */
import type { AuditPage, DeviceBoard, EntityHistory, MoneyReport, RejectionDetail, RejectionPage, RejectionTimeline } from "../protocol/dashboard.js";
import type { Change, Observed, Watching, Welcome } from "../protocol/messages.js";
import type { RevokeResult } from "../protocol/devices.js";

/** An HTTP answer: the value, or the server's error (status 0: the network). */
export type ApiResult<T> = { ok: true; value: T } | { ok: false; status: number; error: string; message: string };

export interface RejectionQuery {
  before?: number;
  limit?: number;
  device?: string;
  code?: string;
  entity_type?: string;
  entity?: string;
  from?: string;
  to?: string;
}
export interface TimelineQuery {
  from?: string;
  to?: string;
  bucket_s?: number;
}
export interface HistoryQuery {
  before_seq?: number;
  limit?: number;
}
export interface MoneyQuery {
  from?: string;
  to?: string;
}
export interface AuditQuery {
  before?: number;
  limit?: number;
  kind?: string;
  device?: string;
}

export interface DashboardApi {
  devices(): Promise<ApiResult<DeviceBoard>>;
  rejections(q: RejectionQuery): Promise<ApiResult<RejectionPage>>;
  timeline(q: TimelineQuery): Promise<ApiResult<RejectionTimeline>>;
  rejection(eventId: string): Promise<ApiResult<RejectionDetail>>;
  history(entityId: string, q: HistoryQuery): Promise<ApiResult<EntityHistory>>;
  money(q: MoneyQuery): Promise<ApiResult<MoneyReport>>;
  audit(q: AuditQuery): Promise<ApiResult<AuditPage>>;
  revoke(deviceId: string, reason: string): Promise<ApiResult<RevokeResult>>;
}

export type LinkState = "connecting" | "open" | "offline" | "closed";

/** The events the dashboard listens to; each `on` returns its unsubscribe. */
export interface LinkEvents {
  state: LinkState;
  welcome: Welcome;
  watching: Watching;
  observed: Observed;
  changes: readonly Change[];
  closed: { code: string; message: string };
}

export interface BranchLink {
  readonly state: LinkState;
  readonly welcome: Welcome | null;
  readonly closed: { code: string; message: string } | null;
  readonly api: DashboardApi;
  start(): void;
  stop(): void;
  watch(): void;
  on<K extends keyof LinkEvents>(event: K, fn: (value: LinkEvents[K]) => void): () => void;
}
