/**
 * Leases on high-risk field groups (protocol v7, issue 17): granted by the branch for a short time,
 * renewed by asking again, ended by release, by expiry (the branch's clock; the alarm tells devices)
 * or by a manager's break (audited). Which fields a group guards, and which events touch one:
 * domain/lease-groups.ts and domain/leases.ts.
 *
 * A lease is a row of `leases` while it is in force. Rows whose time is up are not in force whether
 * or not the alarm has deleted them yet: every read here says `expires_at_ms > now`.
 */
import { ENTITY_LABEL, ENTITY_NOUN, type Entity, LEASE_DEFAULT_TTL_MS, LEASE_GROUPS, type LeaseKey, MAX_ACTIVE_LEASES, MAX_LEASES_PER_DEVICE, canDo, mayLease } from "../../domain/index.js";
import type { Lease, LeaseRefusal, LeaseRequest, LeaseResult } from "../../protocol/index.js";
import { unreachable } from "../../lib/result.js";
import type { Actor } from "./actor.js";
import { recordAudit } from "./audit.js";
import { readEntity } from "./entity-store.js";
import type { SqlStore } from "./sql.js";

const COLUMNS = "entity_id, entity_type, lease_group AS 'group', device_id, user_id, role, acquired_at_ms, expires_at_ms";

/**
 * What a lease request did: the answer, whether the branch's leases changed (then every v7 connection
 * is told), and the branch's clock it was decided at (the answer's `server_time_ms`, so a client can
 * count a lease down exactly).
 */
export interface LeaseAnswer {
  result: Omit<LeaseResult, "type" | "request_id" | "action" | "server_time_ms">;
  changed: boolean;
  nowMs: number;
}

/** Every lease in force, soonest to end first (at most MAX_ACTIVE_LEASES, which the grants keep). */
export function activeLeases(sql: SqlStore, nowMs: number): Lease[] {
  return sql.all<Lease>(`SELECT ${COLUMNS} FROM leases WHERE expires_at_ms > ? ORDER BY expires_at_ms, entity_id, lease_group LIMIT ?`, nowMs, MAX_ACTIVE_LEASES);
}

/** The lease in force on one group of one entity, or null. */
export function leaseOn(sql: SqlStore, nowMs: number, key: LeaseKey): Lease | null {
  return sql.one<Lease>(`SELECT ${COLUMNS} FROM leases WHERE entity_id = ? AND lease_group = ? AND expires_at_ms > ?`, key.entity_id, key.group, nowMs) ?? null;
}

/** Whether any lease is in force: one index probe, so a push that touches no group pays only this. */
export function anyLeaseInForce(sql: SqlStore, nowMs: number): boolean {
  return sql.one<{ o: number }>("SELECT 1 AS o FROM leases WHERE expires_at_ms > ? LIMIT 1", nowMs) !== undefined;
}

/** Deletes the leases whose time is up; returns how many. */
export function expireLeases(sql: SqlStore, nowMs: number): number {
  const n = sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM leases WHERE expires_at_ms <= ?", nowMs)!.n;
  if (n > 0) sql.run("DELETE FROM leases WHERE expires_at_ms <= ?", nowMs);
  return n;
}

/** Ends every lease a device holds (it was revoked: its leases must not keep others out); returns how many. */
export function endLeasesOf(sql: SqlStore, deviceId: string): number {
  const n = sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM leases WHERE device_id = ?", deviceId)!.n;
  if (n > 0) sql.run("DELETE FROM leases WHERE device_id = ?", deviceId);
  return n;
}

/** When the next lease in force ends (for the alarm), or null. */
export function nextLeaseExpiry(sql: SqlStore): number | null {
  return sql.one<{ t: number | null }>("SELECT MIN(expires_at_ms) AS t FROM leases")?.t ?? null;
}

/** A lease request from a connected device: acquire (or renew), release, or break. */
export function answerLease(sql: SqlStore, nowMs: number, actor: Actor, request: LeaseRequest): LeaseAnswer {
  return sql.transaction(() => {
    // Rows past their time are gone before anything is counted or compared.
    const expired = expireLeases(sql, nowMs) > 0;
    const answer = decideLease(sql, nowMs, actor, request);
    return { result: answer.result, changed: answer.changed || expired, nowMs };
  });
}

function decideLease(sql: SqlStore, nowMs: number, actor: Actor, request: LeaseRequest): Decided {
  const key: LeaseKey = { entity_id: request.entity_id, group: request.group };
  const current = leaseOn(sql, nowMs, key);
  switch (request.action) {
    case "acquire":
      return acquire(sql, nowMs, actor, key, current, request.ttl_ms ?? LEASE_DEFAULT_TTL_MS);
    case "release":
      if (current === null || current.device_id !== actor.device_id) {
        return refused("not_held", current === null ? `no lease is in force on ${what(key)}` : `the lease on ${what(key)} is held by device ${current.device_id}, not this one`, null);
      }
      sql.run("DELETE FROM leases WHERE entity_id = ? AND lease_group = ?", key.entity_id, key.group);
      return { result: { outcome: "released", refusal: null, message: `the lease on ${what(key)} was released`, lease: current }, changed: true };
    case "break": {
      if (!canDo(actor.role, "break_leases")) return refused("forbidden", `role ${actor.role} may not break leases (owner and manager may)`, null);
      if (current === null) return refused("not_held", `no lease is in force on ${what(key)}`, null);
      sql.run("DELETE FROM leases WHERE entity_id = ? AND lease_group = ?", key.entity_id, key.group);
      const reason = request.reason ? `: ${request.reason}` : "";
      recordAudit(sql, new Date(nowMs).toISOString(), {
        kind: "lease_broken",
        device_id: actor.device_id,
        user_id: actor.user_id,
        role: actor.role,
        entity_type: current.entity_type,
        entity_id: current.entity_id,
        message: `broke the lease on ${what(key)} held by ${current.user_id} on device ${current.device_id} (until ${new Date(current.expires_at_ms).toISOString()})${reason}`,
      });
      return { result: { outcome: "broken", refusal: null, message: `the lease on ${what(key)} held by device ${current.device_id} was broken`, lease: current }, changed: true };
    }
    default:
      return unreachable(request.action, "lease action");
  }
}

function acquire(sql: SqlStore, nowMs: number, actor: Actor, key: LeaseKey, current: Lease | null, ttlMs: number): Decided {
  const rule = LEASE_GROUPS[key.group];
  // Who may before who holds it: a role that may never make these changes is told so, not who is
  // making them.
  if (!mayLease(actor.role, key.group)) {
    return refused("forbidden", `role ${actor.role} may not change ${ENTITY_NOUN[rule.entity_type].withArticle}'s ${rule.label}, so it may not lease them`, null);
  }
  const entity = readEntity(sql, key.entity_id);
  if (entity === null || entity.entity_type !== rule.entity_type) {
    return refused("not_found", `no ${ENTITY_NOUN[rule.entity_type].bare} ${key.entity_id} on this branch`, null);
  }
  if (ended(entity)) return refused("ended", `${ENTITY_LABEL[rule.entity_type]} ${key.entity_id} was ${entity.entity_type === "project" ? "deleted" : "voided"}: nothing is left to edit`, null);
  if (current !== null && current.device_id !== actor.device_id) {
    return refused("held", `${capitalized(what(key))} are being edited by ${current.user_id} on device ${current.device_id} until ${new Date(current.expires_at_ms).toISOString()}`, current);
  }
  if (current === null) {
    const mine = sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM leases WHERE device_id = ? AND expires_at_ms > ?", actor.device_id, nowMs)!.n;
    if (mine >= MAX_LEASES_PER_DEVICE) return refused("too_many", `this device holds ${mine} leases, the most one device may; release one first`, null);
    const all = sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM leases WHERE expires_at_ms > ?", nowMs)!.n;
    if (all >= MAX_ACTIVE_LEASES) return refused("too_many", `the branch has ${all} leases in force, the most it keeps; try again when one ends`, null);
  }
  const lease: Lease = {
    entity_id: key.entity_id,
    entity_type: rule.entity_type,
    group: key.group,
    device_id: actor.device_id,
    user_id: actor.user_id,
    role: actor.role,
    acquired_at_ms: current?.acquired_at_ms ?? nowMs,
    expires_at_ms: nowMs + ttlMs,
  };
  sql.run(
    `INSERT OR REPLACE INTO leases (entity_id, lease_group, entity_type, device_id, user_id, role, acquired_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    lease.entity_id,
    lease.group,
    lease.entity_type,
    lease.device_id,
    lease.user_id,
    lease.role,
    lease.acquired_at_ms,
    lease.expires_at_ms,
  );
  return { result: { outcome: "granted", refusal: null, message: `${capitalized(what(key))} are leased to this device until ${new Date(lease.expires_at_ms).toISOString()}`, lease }, changed: true };
}

/** A deleted project, a voided invoice or POS order: nothing left to edit. */
function ended(entity: Entity): boolean {
  switch (entity.entity_type) {
    case "project":
      return entity.deleted;
    case "invoice":
      return entity.data.status === "void";
    case "pos_order":
      return entity.void !== null;
    default:
      return unreachable(entity, "entity type");
  }
}

/** A decision before the clock is attached. */
type Decided = Omit<LeaseAnswer, "nowMs">;

const refused = (refusal: LeaseRefusal, message: string, lease: Lease | null): Decided => ({
  result: { outcome: "refused", refusal, message: message.slice(0, 1_000), lease },
  changed: false,
});

/** "invoice 0190…'s payments and status", for messages (capitalized() at the start of one). */
function what(key: LeaseKey): string {
  const rule = LEASE_GROUPS[key.group];
  return `${ENTITY_NOUN[rule.entity_type].bare} ${key.entity_id}'s ${rule.label}`;
}

const capitalized = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
