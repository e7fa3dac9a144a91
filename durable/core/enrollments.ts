/**
 * One-time enrollment codes (protocol/enrollment.ts): a manager issues one, a till exchanges it for a
 * device token. The branch keeps only the SHA-256 of a code, so its storage (or a snapshot of it)
 * never holds a usable code.
 *
 * Guessing is bounded twice: the Worker rate-limits enroll requests per client address, and here a
 * wrong code counts against every code live on the branch at that moment (a wrong code cannot say
 * which code it was meant to be): after MAX_WRONG_TRIES a live code is cancelled. A person who mistypes
 * once or twice is unaffected; someone guessing from many addresses kills the codes they guess at.
 *
 * Audit (I10) without unbounded growth (I12): issue and use are audited once each; a refusal is
 * audited only when it concerns a code the branch knows (at most MAX_WRONG_TRIES per code), and at
 * most MAX_LIVE_CODES codes are live at once, so a stranger's guesses cannot grow the audit log.
 */
import type { Role } from "../../domain/index.js";
import { type EnrollRefusal, MAX_LIVE_CODES, MAX_WRONG_TRIES } from "../../protocol/enrollment.js";
import type { Actor } from "./actor.js";
import { recordAudit } from "./audit.js";
import { isRevoked } from "./devices.js";
import type { SqlStore } from "./sql.js";

/** Used and expired codes are kept this long (to tell "used" and "expired" from "wrong"), then dropped. */
export const KEEP_SPENT_CODES_MS = 7 * 86_400_000;

interface EnrollmentRow {
  code_hash: string;
  role: Role;
  user_id: string;
  issued_by_user: string;
  expires_at_ms: number;
  used_at: string | null;
  used_by_device: string | null;
  wrong_tries: number;
  refusals: number;
}

export type IssueOutcome = { ok: true; expires_at: string } | { ok: false; live: number };

/** Stores a new code's hash; refuses when MAX_LIVE_CODES codes are live already. Audited. */
export function issueEnrollment(sql: SqlStore, atMs: number, by: Actor, codeHash: string, role: Role, user: string, ttlMinutes: number): IssueOutcome {
  const at = new Date(atMs).toISOString();
  return sql.transaction((): IssueOutcome => {
    sql.run("DELETE FROM enrollments WHERE expires_at_ms < ?", atMs - KEEP_SPENT_CODES_MS);
    const live = liveCount(sql, atMs);
    if (live >= MAX_LIVE_CODES) return { ok: false, live };
    const expiresAtMs = atMs + ttlMinutes * 60_000;
    sql.run(
      "INSERT INTO enrollments (code_hash, role, user_id, issued_by_device, issued_by_user, issued_at, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
      codeHash,
      role,
      user,
      by.device_id,
      by.user_id,
      at,
      expiresAtMs,
    );
    const expires_at = new Date(expiresAtMs).toISOString();
    recordAudit(sql, at, {
      device_id: by.device_id,
      user_id: by.user_id,
      role: by.role,
      kind: "enrollment_issued",
      message: `sign-in code for ${user} (${role}) issued by ${by.user_id} (${by.role}), valid until ${expires_at}`,
    });
    return { ok: true, expires_at };
  });
}

export type RedeemOutcome =
  | { ok: true; role: Role; user: string; device_id: string; new_device: boolean }
  | { ok: false; code: EnrollRefusal; message: string };

/**
 * Exchanges a code (by its hash) for a grant: the role and user it was issued for and the device the
 * token is for (`deviceId` to sign an existing device in again, else `newDeviceId()`). One
 * transaction, so a code is used at most once even when two tills type it at the same moment.
 */
export function redeemEnrollment(sql: SqlStore, atMs: number, codeHash: string, deviceId: string | null, newDeviceId: () => string): RedeemOutcome {
  const at = new Date(atMs).toISOString();
  return sql.transaction((): RedeemOutcome => {
    const row = sql.one<EnrollmentRow>("SELECT * FROM enrollments WHERE code_hash = ?", codeHash);
    if (!row) return wrongCode(sql, atMs, at);
    const refuse = (code: EnrollRefusal, message: string): RedeemOutcome => {
      if (row.refusals < MAX_WRONG_TRIES) {
        sql.run("UPDATE enrollments SET refusals = refusals + 1 WHERE code_hash = ?", codeHash);
        recordAudit(sql, at, { device_id: deviceId, user_id: row.user_id, role: row.role, kind: "enrollment_refused", code, message: `sign-in code for ${row.user_id} (${row.role}) refused: ${message}` });
      }
      return { ok: false, code, message };
    };
    if (row.used_at !== null) return refuse("enrollment_code_used", `this code was already used at ${row.used_at}; ask a manager for a new one`);
    if (row.wrong_tries >= MAX_WRONG_TRIES) return refuse("enrollment_code_cancelled", `this code was cancelled after ${MAX_WRONG_TRIES} wrong codes were tried; ask a manager for a new one`);
    if (row.expires_at_ms <= atMs) return refuse("enrollment_code_expired", `this code expired at ${new Date(row.expires_at_ms).toISOString()}; ask a manager for a new one`);
    // A revoked device stays revoked (I11): the code is not spent, so the till can still join as a new device.
    if (deviceId !== null && isRevoked(sql, deviceId)) return refuse("device_revoked", `device ${deviceId} was revoked; this code can still set it up as a new device`);
    const device = deviceId ?? newDeviceId();
    sql.run("UPDATE enrollments SET used_at = ?, used_by_device = ? WHERE code_hash = ?", at, device, codeHash);
    recordAudit(sql, at, {
      device_id: device,
      user_id: row.user_id,
      role: row.role,
      kind: "enrollment_used",
      message: `sign-in code issued by ${row.issued_by_user} used by ${deviceId === null ? "a new device" : "the device to sign in again"}: ${row.user_id} (${row.role})`,
    });
    return { ok: true, role: row.role, user: row.user_id, device_id: device, new_device: deviceId === null };
  });
}

function liveCount(sql: SqlStore, atMs: number): number {
  return sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM enrollments WHERE used_at IS NULL AND wrong_tries < ? AND expires_at_ms > ?", MAX_WRONG_TRIES, atMs)!.n;
}

/** A code the branch never issued: a wrong try against every live code (audited only when there is one). */
function wrongCode(sql: SqlStore, atMs: number, at: string): RedeemOutcome {
  const message = "no such sign-in code on this branch; check it and type it again, or ask a manager for a new one";
  const live = liveCount(sql, atMs);
  if (live > 0) {
    // The codes this try cancels: live ones with one wrong try left.
    const cancelled = sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM enrollments WHERE used_at IS NULL AND wrong_tries = ? AND expires_at_ms > ?", MAX_WRONG_TRIES - 1, atMs)!.n;
    sql.run("UPDATE enrollments SET wrong_tries = wrong_tries + 1 WHERE used_at IS NULL AND wrong_tries < ? AND expires_at_ms > ?", MAX_WRONG_TRIES, atMs);
    recordAudit(sql, at, {
      kind: "enrollment_refused",
      code: "enrollment_code_wrong",
      message: `a wrong sign-in code was tried while ${live} code(s) were live${cancelled > 0 ? `; ${cancelled} code(s) now cancelled after ${MAX_WRONG_TRIES} wrong tries` : ""}`,
    });
  }
  return { ok: false, code: "enrollment_code_wrong", message };
}
