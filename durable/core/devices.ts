/**
 * The devices of a branch: first seen, the one install each device id belongs to, revocation, and
 * clock skew. A device token names a device id; the install id is made by the device's local database
 * and cannot be copied with the token, so a second install using the same id (a copied token or a
 * copied database) is told apart from the same install reconnecting.
 */
import { clockIsWrong, describeSkew } from "../../domain/index.js";
import { type DeviceInfo, type DevicePresence, type QueueReport } from "../../protocol/index.js";
import { recordAudit } from "./audit.js";
import type { Actor } from "./actor.js";
import type { SqlStore } from "./sql.js";

/** A row of the `devices` table: what `GET …/devices` lists (protocol/devices.ts). */
export type DeviceRow = DeviceInfo;

/** What a hello may be answered with, decided from the device's row. */
export type HelloAdmission =
  | { kind: "admitted" }
  | { kind: "revoked"; at: string; by: string | null; reason: string | null }
  | { kind: "install_conflict"; bound_install: string; first_seen_at: string };

/** The columns of `GET …/devices` (DeviceInfo): the reports the dashboard reads are beside them (PRESENCE_COLUMNS). */
const INFO_COLUMNS = "device_id, user_id, role, app, first_seen_at, last_seen_at, install_id, revoked_at, revoked_by, revoke_reason, clock_skew_ms";
const PRESENCE_COLUMNS = `${INFO_COLUMNS}, protocol_version, cursor, pending, oldest_pending_at, reported_at, token_expires_at`;

export function deviceRow(sql: SqlStore, deviceId: string): DeviceRow | null {
  return sql.one<DeviceRow>(`SELECT ${INFO_COLUMNS} FROM devices WHERE device_id = ?`, deviceId) ?? null;
}

export function isRevoked(sql: SqlStore, deviceId: string): boolean {
  return sql.one<{ r: number }>("SELECT 1 AS r FROM devices WHERE device_id = ? AND revoked_at IS NOT NULL", deviceId) !== undefined;
}

/**
 * Records a hello: first sight is audited (I10); a revoked device or another install of the same
 * device id is refused and audited; the first install to say hello with an id owns it. Clients of
 * protocol v1/v2 send no install id and are not bound. A clock that goes beyond CLOCK_SKEW_WARN_MS is audited.
 */
export function admitHello(
  sql: SqlStore,
  atMs: number,
  actor: Actor,
  hello: { app: string; install_id?: string; clock_ms?: number },
): HelloAdmission {
  const at = new Date(atMs).toISOString();
  const who = { device_id: actor.device_id, user_id: actor.user_id, role: actor.role };
  const skew = hello.clock_ms === undefined ? null : hello.clock_ms - atMs;
  return sql.transaction((): HelloAdmission => {
    const row = deviceRow(sql, actor.device_id);
    if (row?.revoked_at) return { kind: "revoked", at: row.revoked_at, by: row.revoked_by, reason: row.revoke_reason };
    if (row?.install_id && hello.install_id && row.install_id !== hello.install_id) {
      recordAudit(sql, at, {
        ...who,
        kind: "install_conflict",
        code: "install_conflict",
        message: `device ${actor.device_id} is bound to install ${row.install_id} (first seen ${row.first_seen_at}); install ${hello.install_id} (${hello.app}) was refused`,
      });
      return { kind: "install_conflict", bound_install: row.install_id, first_seen_at: row.first_seen_at };
    }
    if (!row) {
      sql.run(
        "INSERT INTO devices (device_id, user_id, role, app, first_seen_at, last_seen_at, install_id, clock_skew_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        actor.device_id,
        actor.user_id,
        actor.role,
        hello.app,
        at,
        at,
        hello.install_id ?? null,
        skew,
      );
      recordAudit(sql, at, { ...who, kind: "device_first_seen", message: `device first seen (${hello.app})` });
    } else {
      sql.run(
        "UPDATE devices SET last_seen_at = ?, user_id = ?, role = ?, app = ?, install_id = COALESCE(install_id, ?), clock_skew_ms = ? WHERE device_id = ?",
        at,
        actor.user_id,
        actor.role,
        hello.app,
        hello.install_id ?? null,
        skew,
        actor.device_id,
      );
    }
    // Audited when the clock goes wrong, not at every hello: a till reconnecting with a wrong clock
    // must not grow the audit log without bound (I12). Its current skew is always in `devices`.
    if (clockIsWrong(skew) && !clockIsWrong(row?.clock_skew_ms)) {
      recordAudit(sql, at, { ...who, kind: "clock_skew", code: "clock_skew", message: `the device's clock is ${describeSkew(skew)} the server's` });
    }
    return { kind: "admitted" };
  });
}

/** A manager revokes a device: its tokens are refused from now on (I11), audited (I10). Idempotent. */
export function revokeDevice(
  sql: SqlStore,
  atMs: number,
  by: Actor,
  deviceId: string,
  reason: string,
): { revoked_at: string; already: boolean } {
  const at = new Date(atMs).toISOString();
  return sql.transaction(() => {
    const row = deviceRow(sql, deviceId);
    if (row?.revoked_at) return { revoked_at: row.revoked_at, already: true };
    if (row) {
      sql.run("UPDATE devices SET revoked_at = ?, revoked_by = ?, revoke_reason = ? WHERE device_id = ?", at, by.user_id, reason, deviceId);
    } else {
      // A device never seen can be revoked too (a token known to be lost before first use).
      sql.run(
        "INSERT INTO devices (device_id, user_id, role, app, first_seen_at, last_seen_at, revoked_at, revoked_by, revoke_reason) VALUES (?, '', '', NULL, ?, ?, ?, ?, ?)",
        deviceId,
        at,
        at,
        at,
        by.user_id,
        reason,
      );
    }
    recordAudit(sql, at, {
      device_id: deviceId,
      user_id: by.user_id,
      role: by.role,
      kind: "device_revoked",
      code: "device_revoked",
      message: `device ${deviceId} revoked by ${by.user_id} (${by.role}, device ${by.device_id}): ${reason}`,
    });
    return { revoked_at: at, already: false };
  });
}

export function listDevices(sql: SqlStore): DeviceRow[] {
  return sql.all<DeviceRow>(`SELECT ${INFO_COLUMNS} FROM devices ORDER BY first_seen_at, device_id`);
}

// ───────────────────────────── what devices report (protocol v6) ─────────────────────────────

/** When the oldest pending event was queued, by the server's clock: the report's age counted back from its arrival. */
const oldestPendingAt = (atMs: number, queue: QueueReport) =>
  queue.pending > 0 && queue.oldest_pending_age_ms !== null ? new Date(Math.max(0, atMs - queue.oldest_pending_age_ms)).toISOString() : null;

/**
 * An admitted hello's report: the protocol it speaks, its token's expiry, its cursor, and its queue
 * when it sent one (v6). A hello without a queue leaves the last queue reported as it was.
 */
export function recordHelloReport(sql: SqlStore, atMs: number, deviceId: string, report: { protocol_version: number; cursor: number; queue?: QueueReport; token_expires_at_ms: number }): void {
  const at = new Date(atMs).toISOString();
  const expires = new Date(report.token_expires_at_ms).toISOString();
  if (report.queue === undefined) {
    sql.run("UPDATE devices SET protocol_version = ?, cursor = ?, token_expires_at = ?, reported_at = ? WHERE device_id = ?", report.protocol_version, report.cursor, expires, at, deviceId);
    return;
  }
  sql.run(
    "UPDATE devices SET protocol_version = ?, cursor = ?, token_expires_at = ?, reported_at = ?, pending = ?, oldest_pending_at = ? WHERE device_id = ?",
    report.protocol_version,
    report.cursor,
    expires,
    at,
    report.queue.pending,
    oldestPendingAt(atMs, report.queue),
    deviceId,
  );
}

/** A `status`: the device's cursor and queue now; it was seen now too. */
export function recordStatus(sql: SqlStore, atMs: number, deviceId: string, cursor: number, queue: QueueReport): void {
  const at = new Date(atMs).toISOString();
  sql.run(
    "UPDATE devices SET cursor = ?, pending = ?, oldest_pending_at = ?, reported_at = ?, last_seen_at = ? WHERE device_id = ?",
    cursor,
    queue.pending,
    oldestPendingAt(atMs, queue),
    at,
    at,
    deviceId,
  );
}

/** A pull from `since`: the device has applied everything up to it. True when that moved its cursor. */
export function recordPullCursor(sql: SqlStore, deviceId: string, since: number): boolean {
  const row = sql.one<{ cursor: number | null }>("SELECT cursor FROM devices WHERE device_id = ?", deviceId);
  if (!row || row.cursor === since) return false;
  sql.run("UPDATE devices SET cursor = ? WHERE device_id = ?", since, deviceId);
  return true;
}

/** The device's last connection closed: it was last seen now. */
export function recordGone(sql: SqlStore, atMs: number, deviceId: string): void {
  sql.run("UPDATE devices SET last_seen_at = ? WHERE device_id = ?", new Date(atMs).toISOString(), deviceId);
}

type PresenceRow = Omit<DevicePresence, "connected">;

/** Devices as the dashboard shows them, most recently seen first, at most `limit` (index devices_by_last_seen). */
export function listPresence(sql: SqlStore, connected: ReadonlySet<string>, limit: number): DevicePresence[] {
  return sql
    .all<PresenceRow>(`SELECT ${PRESENCE_COLUMNS} FROM devices ORDER BY last_seen_at DESC, device_id DESC LIMIT ?`, limit)
    .map((row) => ({ ...row, connected: connected.has(row.device_id) }));
}

/** These devices as the dashboard shows them (those the branch knows), most recently seen first. */
export function presenceOf(sql: SqlStore, deviceIds: Iterable<string>, connected: ReadonlySet<string>): DevicePresence[] {
  const rows: PresenceRow[] = [];
  for (const id of deviceIds) {
    const row = sql.one<PresenceRow>(`SELECT ${PRESENCE_COLUMNS} FROM devices WHERE device_id = ?`, id);
    if (row) rows.push(row);
  }
  rows.sort((a, b) => (a.last_seen_at === b.last_seen_at ? (a.device_id < b.device_id ? 1 : -1) : a.last_seen_at < b.last_seen_at ? 1 : -1));
  return rows.map((row) => ({ ...row, connected: connected.has(row.device_id) }));
}
