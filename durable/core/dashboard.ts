/**
 * The dashboard's reads (protocol/dashboard.ts), runtime-free: devices, rejections (page, timeline,
 * drill-down), an entity's history, the money and the audit. Every answer is one bounded page read
 * through an index of the branch's SQLite (migrations.ts, layout 7); none scans `changes`,
 * `rejections` or `audit` (test/node/branch/dashboard.test.ts checks each query's plan). Where a
 * filter could use several indexes, the query names one (INDEXED BY) so the plan does not depend on
 * the planner's guesses. Parameters arrive validated (dashboard-api.ts).
 */
import { dayIn, type EntityType, type RejectCode } from "../../domain/index.js";
import { type AuditEntryRow, type AuditPage, type DeviceBoard, type DevicePresence, type EntityHistory, type EntityVersionRow, MAX_DASHBOARD_PAGE, MAX_TIMELINE_BUCKETS, MAX_WATCHED_DEVICES, type MoneyReport, type RejectedVerdict, type RejectionDetail, type RejectionPage, type RejectionSummary, type RejectionTimeline, type VoidRow } from "../../protocol/index.js";
import { readEntity, readEntityVersion, entityHead } from "./entity-store.js";
import { ledgerDays } from "./ledger-days.js";
import { lastChangeOf } from "./last-change.js";
import { headSeq } from "./log.js";
import { listPresence } from "./devices.js";
import { readAttempt, readSummaries, rejectionHead, SUMMARY_COLUMNS } from "./rejections.js";
import type { SqlStore, SqlValue } from "./sql.js";
import { verdictFromRecord, verdictRecord } from "./verdicts.js";

export interface RejectionFilter {
  device?: string;
  code?: RejectCode;
  entity_type?: EntityType;
  entity?: string;
  /** ISO instants (toISOString's form), decided_at within [from, to). */
  from?: string;
  to?: string;
}

/** Newer than every id: the first page's `before`. */
const NO_BOUND = Number.MAX_SAFE_INTEGER;

export class Dashboard {
  constructor(
    private readonly sql: SqlStore,
    private readonly clockMs: () => number,
    private readonly timeZone: () => string,
  ) {}

  nowMs(): number {
    return this.clockMs();
  }

  /** Every device (bounded like `watching`), most recently seen first. */
  devices(connected: ReadonlySet<string>): DeviceBoard {
    return { head: headSeq(this.sql), server_time_ms: this.clockMs(), devices: this.presence(connected) };
  }

  presence(connected: ReadonlySet<string>): DevicePresence[] {
    return listPresence(this.sql, connected, MAX_WATCHED_DEVICES);
  }

  /** Rejections newest first, from `before` (exclusive), filtered; `total` counts every match. */
  rejections(filter: RejectionFilter, before: number | null, limit: number): RejectionPage {
    const { index, where, params } = rejectionWhere(filter);
    const from = index === null ? "rejections" : `rejections INDEXED BY ${index}`;
    const rows = readSummaries(
      this.sql,
      `SELECT ${SUMMARY_COLUMNS} FROM ${from} WHERE id < ?${where} ORDER BY id DESC LIMIT ?`,
      before ?? NO_BOUND,
      ...params,
      limit + 1,
    );
    // Ids are dense (rejections.ts), so without filters the newest id is the count.
    const total = index === null ? rejectionHead(this.sql) : this.sql.one<{ n: number }>(`SELECT COUNT(*) AS n FROM ${from} WHERE 1${where}`, ...params)!.n;
    const page = rows.slice(0, limit);
    return { rejections: page, next_before: rows.length > limit ? page.at(-1)!.id : null, total };
  }

  /**
   * Rejections counted per bucket of `bucketS` seconds from `fromMs`, per code and per device,
   * read from the covering index on decided_at.
   */
  timeline(fromMs: number, toMs: number, bucketS: number | null): RejectionTimeline {
    const spanS = Math.max(1, Math.ceil((toMs - fromMs) / 1000));
    const bucket = Math.max(bucketS ?? Math.ceil(spanS / 100), Math.ceil(spanS / MAX_TIMELINE_BUCKETS), 1);
    const from = new Date(fromMs).toISOString();
    const to = new Date(toMs).toISOString();
    const fromS = Math.floor(fromMs / 1000);
    const count = (column: "code" | "device_id") =>
      this.sql.all<{ b: number; key: string; n: number }>(
        // Integer division on purpose: Durable Object SQLite binds every JS number as a REAL, and
        // REAL arithmetic would give each second its own fractional bucket.
        `SELECT (CAST(strftime('%s', decided_at) AS INTEGER) - CAST(? AS INTEGER)) / CAST(? AS INTEGER) AS b, ${column} AS key, COUNT(*) AS n
         FROM rejections INDEXED BY rejections_by_time WHERE decided_at >= ? AND decided_at < ?
         GROUP BY b, key ORDER BY b, key`,
        fromS,
        bucket,
        from,
        to,
      );
    const start = (b: number) => new Date((fromS + b * bucket) * 1000).toISOString();
    return {
      from,
      to,
      bucket_s: bucket,
      by_code: count("code").map((r) => ({ bucket_start: start(r.b), code: r.key as RejectCode, count: r.n })),
      by_device: count("device_id").map((r) => ({ bucket_start: start(r.b), device_id: r.key, count: r.n })),
    };
  }

  /** One rejection whole, or null when the branch never rejected that event. */
  rejection(eventId: string): RejectionDetail | null {
    const [summary] = readSummaries(this.sql, `SELECT ${SUMMARY_COLUMNS} FROM rejections WHERE event_id = ?`, eventId);
    const record = verdictRecord(this.sql, eventId);
    if (!summary || record?.status !== "rejected") return null;
    // The entity is sent once: the verdict's copy of it is the version `server_entity` carries (an
    // entity may be up to MAX_EVENT_BYTES, and the detail already holds it and the current one).
    const verdict = { ...(verdictFromRecord(this.sql, record) as RejectedVerdict), server_entity: null };
    const { attempted, note } = readAttempt(this.sql, summary.id);
    const entityId = record.entity_id;
    const serverVersion = record.server_version;
    const [cause] = summary.depends_on === null ? [] : readSummaries(this.sql, `SELECT ${SUMMARY_COLUMNS} FROM rejections WHERE event_id = ?`, summary.depends_on);
    return {
      summary,
      verdict,
      attempted: attempted as RejectionDetail["attempted"],
      attempted_note: note === null ? null : note.slice(0, 500),
      server_version: serverVersion,
      server_entity: serverVersion === null ? null : readEntityVersion(this.sql, entityId, serverVersion),
      current_entity: entityId === "" ? null : readEntity(this.sql, entityId),
      last_change: serverVersion === null ? null : lastChangeOf(this.sql, entityId, serverVersion),
      cause: cause ?? null,
      caused: this.#caused(summary.event_id),
    };
  }

  /** The rejections that depended on `eventId`, transitively, oldest first, at most a page. */
  #caused(eventId: string): RejectionSummary[] {
    const found: RejectionSummary[] = [];
    const frontier = [eventId];
    while (frontier.length > 0 && found.length < MAX_DASHBOARD_PAGE) {
      const next = readSummaries(
        this.sql,
        `SELECT ${SUMMARY_COLUMNS} FROM rejections INDEXED BY rejections_by_dependency WHERE depends_on = ? AND depends_on IS NOT NULL ORDER BY id LIMIT ?`,
        frontier.shift()!,
        MAX_DASHBOARD_PAGE - found.length,
      );
      found.push(...next);
      frontier.push(...next.map((r) => r.event_id));
    }
    return found.sort((a, b) => a.id - b.id);
  }

  /**
   * An entity's versions newest first from `beforeSeq`, and the rejections naming it decided in the
   * same span of time (the page's oldest commit to the next newer page's), at most `limit` each.
   * Null when the branch never had the entity nor rejected an event naming it.
   */
  history(entityId: string, beforeSeq: number | null, limit: number): EntityHistory | null {
    const rows = this.sql.all<{ seq: number; version: number; event_id: string; device_id: string; user_id: string; operation: string; changed_fields: string; committed_at: string }>(
      `SELECT seq, version, event_id, device_id, user_id, operation, changed_fields, committed_at
       FROM changes INDEXED BY changes_by_entity WHERE entity_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`,
      entityId,
      beforeSeq ?? NO_BOUND,
      limit + 1,
    );
    const versions = rows.slice(0, limit).map(
      (r): EntityVersionRow => ({ ...r, operation: r.operation as EntityVersionRow["operation"], changed_fields: JSON.parse(r.changed_fields) as string[] }),
    );
    const more = rows.length > limit;
    // The span: newer than this page's oldest commit when older pages follow; older than the commit
    // the page starts before (what the newer page showed down to), else up to now.
    const lower = more ? versions.at(-1)!.committed_at : "";
    const upper = beforeSeq === null ? null : (this.sql.one<{ at: string }>("SELECT committed_at AS at FROM changes WHERE seq = ?", beforeSeq)?.at ?? null);
    const rejections = readSummaries(
      this.sql,
      `SELECT ${SUMMARY_COLUMNS} FROM rejections INDEXED BY rejections_by_entity
       WHERE entity_id = ? AND decided_at >= ?${upper === null ? "" : " AND decided_at < ?"} ORDER BY id DESC LIMIT ?`,
      ...([entityId, lower, ...(upper === null ? [] : [upper]), limit] as SqlValue[]),
    );
    const head = entityHead(this.sql, entityId);
    if (!head && versions.length === 0 && rejections.length === 0 && !this.#everRejected(entityId)) return null;
    return {
      entity_id: entityId,
      entity_type: head?.entity_type ?? rejections.find((r) => r.entity_type !== null)?.entity_type ?? null,
      current: head ? readEntityVersion(this.sql, entityId, head.version) : null,
      versions,
      rejections,
      next_before_seq: more ? versions.at(-1)!.seq : null,
    };
  }

  #everRejected(entityId: string): boolean {
    return this.sql.one("SELECT 1 AS n FROM rejections INDEXED BY rejections_by_entity WHERE entity_id = ? LIMIT 1", entityId) !== undefined;
  }

  /** The branch's business day today (its time zone). */
  today(): string {
    return dayIn(this.clockMs(), this.timeZone());
  }

  /** The ledger of the days in [from, to] per day, till and currency (ledger-days.ts), and those days' voids, newest first. */
  money(from: string, to: string): MoneyReport {
    const rows = ledgerDays(this.sql, from, to);
    // Voids newest first, walked from the newest (far fewer than orders) until a page of those days is found.
    const voids = this.sql.all<VoidRow>(
      `SELECT o.entity_id AS entity_id, o.official_receipt_no AS official_receipt_no, o.business_day AS business_day, o.device_id AS device_id,
         o.currency AS currency, o.total_minor AS total_minor, o.kind AS kind, v.reason AS reason, v.user_id AS voided_by_user,
         v.device_id AS voided_by_device, v.seq AS seq
       FROM pos_voids v INDEXED BY pos_voids_by_seq JOIN pos_orders o ON o.entity_id = v.entity_id
       WHERE o.business_day >= ? AND o.business_day <= ? ORDER BY v.seq DESC LIMIT ?`,
      from,
      to,
      MAX_DASHBOARD_PAGE + 1,
    );
    return { time_zone: this.timeZone() as MoneyReport["time_zone"], from, to, rows, voids: voids.slice(0, MAX_DASHBOARD_PAGE), more_voids: voids.length > MAX_DASHBOARD_PAGE };
  }

  /** The audit newest first from `before` (exclusive), by kind and/or device. */
  audit(filter: { kind?: string; device?: string }, before: number | null, limit: number): AuditPage {
    const index = filter.device !== undefined ? "audit_by_device" : filter.kind !== undefined ? "audit_by_kind" : null;
    const where = [filter.kind === undefined ? "" : " AND kind = ?", filter.device === undefined ? "" : " AND device_id = ?"].join("");
    const params = [filter.kind, filter.device].filter((p): p is string => p !== undefined);
    const rows = this.sql.all<AuditEntryRow>(
      `SELECT id, at, kind, device_id, user_id, role, event_id, entity_type, entity_id, code, message
       FROM ${index === null ? "audit" : `audit INDEXED BY ${index}`} WHERE id < ?${where} ORDER BY id DESC LIMIT ?`,
      before ?? NO_BOUND,
      ...params,
      limit + 1,
    );
    const entries = rows.slice(0, limit);
    return { entries, next_before: rows.length > limit ? entries.at(-1)!.id : null };
  }
}

/**
 * The WHERE terms of a rejection filter, and the index that serves it: the most selective filter
 * present (an entity, then a device, a code, a type, a time range); none without filters (the
 * primary key pages).
 */
function rejectionWhere(filter: RejectionFilter): { index: string | null; where: string; params: SqlValue[] } {
  const terms: string[] = [];
  const params: SqlValue[] = [];
  const add = (term: string, value: string | undefined) => {
    if (value === undefined) return;
    terms.push(term);
    params.push(value);
  };
  add("entity_id = ?", filter.entity);
  add("device_id = ?", filter.device);
  add("code = ?", filter.code);
  add("entity_type = ?", filter.entity_type);
  add("decided_at >= ?", filter.from);
  add("decided_at < ?", filter.to);
  const index =
    filter.entity !== undefined
      ? "rejections_by_entity"
      : filter.device !== undefined
        ? "rejections_by_device"
        : filter.code !== undefined
          ? "rejections_by_code"
          : filter.entity_type !== undefined
            ? "rejections_by_type"
            : filter.from !== undefined || filter.to !== undefined
              ? "rejections_by_time"
              : null;
  return { index, where: terms.map((t) => ` AND ${t}`).join(""), params };
}
