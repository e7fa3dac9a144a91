/**
 * Chunked uploads (client → server): a message too large for one frame arrives as base64 pieces with
 * a SHA-256 each and one for the whole. Pieces are kept in storage, so an upload survives a dropped
 * connection, a hibernation or an eviction and resumes at `next_index`. The message is validated only
 * once it is whole and its checksum matches. Unfinished uploads expire after UPLOAD_TTL_MS.
 */
import { type Chunk, MAX_OPEN_UPLOADS_PER_DEVICE, type UploadState } from "../../protocol/index.js";
import { type TransferId } from "../../domain/index.js";
import type { SqlStore } from "./sql.js";

/** An on-location crew may be offline for hours between two pieces of one upload. */
export const UPLOAD_TTL_MS = 24 * 60 * 60 * 1000;

interface UploadRow {
  transfer_id: string;
  device_id: string;
  count: number;
  total_bytes: number;
  sha256: string;
  expires_at: number;
}

export type ChunkProblem = { code: "chunk_invalid" | "checksum_mismatch" | "transfer_expired"; message: string };

export function nextIndex(sql: SqlStore, transferId: string): number {
  return sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM upload_chunks WHERE transfer_id = ?", transferId)?.n ?? 0;
}

/**
 * Stores one piece whose own checksum the caller has already verified. Pieces arrive in order; a
 * piece already held is acknowledged again (a resend after a lost ack) and changes nothing.
 */
export function storeChunk(
  sql: SqlStore,
  nowMs: number,
  deviceId: string,
  chunk: Chunk,
): { ok: true; state: UploadState } | { ok: false; problem: ChunkProblem } {
  return sql.transaction(() => {
    let upload = sql.one<UploadRow>("SELECT * FROM uploads WHERE transfer_id = ?", chunk.transfer_id);
    if (upload && upload.expires_at <= nowMs) {
      dropUpload(sql, chunk.transfer_id);
      upload = undefined;
      if (chunk.index > 0) {
        return { ok: false, problem: { code: "transfer_expired", message: `upload ${chunk.transfer_id} expired; start again at chunk 0` } };
      }
    }
    if (!upload) {
      if (chunk.index !== 0) {
        return { ok: false, problem: { code: "chunk_invalid", message: `unknown upload ${chunk.transfer_id}: start at chunk 0 (received ${chunk.index})` } };
      }
      // Quota (I12): a device starting one upload too many abandons its oldest.
      const open = sql.all<{ transfer_id: string }>("SELECT transfer_id FROM uploads WHERE device_id = ? ORDER BY expires_at, transfer_id", deviceId);
      for (const old of open.slice(0, Math.max(0, open.length - MAX_OPEN_UPLOADS_PER_DEVICE + 1))) dropUpload(sql, old.transfer_id);
      sql.run(
        "INSERT INTO uploads (transfer_id, device_id, count, total_bytes, sha256, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
        chunk.transfer_id,
        deviceId,
        chunk.count,
        chunk.total_bytes,
        chunk.sha256,
        nowMs + UPLOAD_TTL_MS,
      );
      upload = { transfer_id: chunk.transfer_id, device_id: deviceId, count: chunk.count, total_bytes: chunk.total_bytes, sha256: chunk.sha256, expires_at: nowMs + UPLOAD_TTL_MS };
    }
    if (upload.device_id !== deviceId) {
      return { ok: false, problem: { code: "chunk_invalid", message: "this upload belongs to another device" } };
    }
    if (upload.count !== chunk.count || upload.total_bytes !== chunk.total_bytes || upload.sha256 !== chunk.sha256) {
      return {
        ok: false,
        problem: {
          code: "chunk_invalid",
          message: `chunk does not match its upload (expected count ${upload.count}, ${upload.total_bytes} bytes, sha256 ${upload.sha256}; received count ${chunk.count}, ${chunk.total_bytes} bytes, sha256 ${chunk.sha256})`,
        },
      };
    }
    const next = nextIndex(sql, chunk.transfer_id);
    if (chunk.index > next) {
      return { ok: false, problem: { code: "chunk_invalid", message: `expected chunk ${next}, received chunk ${chunk.index}` } };
    }
    if (chunk.index === next) {
      sql.run("INSERT INTO upload_chunks (transfer_id, idx, data) VALUES (?, ?, ?)", chunk.transfer_id, chunk.index, chunk.data);
    }
    const held = Math.max(next, chunk.index + 1);
    return { ok: true, state: { type: "upload_state", transfer_id: chunk.transfer_id, next_index: held, complete: held === upload.count } };
  });
}

export function uploadState(sql: SqlStore, nowMs: number, transferId: TransferId): UploadState {
  const upload = sql.one<UploadRow>("SELECT * FROM uploads WHERE transfer_id = ?", transferId);
  if (!upload || upload.expires_at <= nowMs) {
    if (upload) dropUpload(sql, transferId);
    return { type: "upload_state", transfer_id: transferId, next_index: 0, complete: false };
  }
  const next = nextIndex(sql, transferId);
  return { type: "upload_state", transfer_id: transferId, next_index: next, complete: next === upload.count };
}

/** The pieces of a complete upload, in order, with the checksum they must add up to. */
export function completeUpload(sql: SqlStore, transferId: string): { pieces: string[]; sha256: string; total_bytes: number } | null {
  const upload = sql.one<UploadRow>("SELECT * FROM uploads WHERE transfer_id = ?", transferId);
  if (!upload) return null;
  const pieces = sql.all<{ data: string }>("SELECT data FROM upload_chunks WHERE transfer_id = ? ORDER BY idx", transferId);
  if (pieces.length !== upload.count) return null;
  return { pieces: pieces.map((p) => p.data), sha256: upload.sha256, total_bytes: upload.total_bytes };
}

export function dropUpload(sql: SqlStore, transferId: string): void {
  sql.run("DELETE FROM upload_chunks WHERE transfer_id = ?", transferId);
  sql.run("DELETE FROM uploads WHERE transfer_id = ?", transferId);
}

/** Deletes expired uploads; returns how many. Run from the alarm. */
export function expireUploads(sql: SqlStore, nowMs: number): number {
  const expired = sql.all<{ transfer_id: string }>("SELECT transfer_id FROM uploads WHERE expires_at <= ? LIMIT 100", nowMs);
  for (const { transfer_id } of expired) dropUpload(sql, transfer_id);
  return expired.length;
}

/** The earliest expiry of any upload in progress, to schedule the alarm. */
export function nextUploadExpiry(sql: SqlStore): number | null {
  return sql.one<{ t: number | null }>("SELECT MIN(expires_at) AS t FROM uploads")?.t ?? null;
}
