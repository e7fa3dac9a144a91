/**
 * Chunked uploads (client → server): a message too large for one frame arrives as base64 pieces with
 * a SHA-256 each and one for the whole. Pieces are kept in storage, so an upload survives a dropped
 * connection, a hibernation or an eviction and resumes at `next_index`. The message is validated only
 * once it is whole and its checksum matches. Unfinished uploads expire after UPLOAD_TTL_MS.
 *
 * Pieces are stored by (transfer_id, idx) in whatever order they arrive. Every chunk carries its
 * index and the whole transfer's count, size and checksum, so nothing depends on arrival order: a
 * client may send a transfer's chunks in one burst, and a piece that overtakes another (a resend
 * after a reconnect, a frame delivered late) is simply held. `next_index` is the lowest index not
 * held yet, which is the number held when the chunks came in order.
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

/** The lowest piece index of the transfer not held yet (`count` when all are held). */
export function nextIndex(sql: SqlStore, transferId: string): number {
  const held = sql.all<{ idx: number }>("SELECT idx FROM upload_chunks WHERE transfer_id = ? ORDER BY idx", transferId);
  let next = 0;
  while (next < held.length && held[next]!.idx === next) next++;
  return next;
}

function heldCount(sql: SqlStore, transferId: string): number {
  return sql.one<{ n: number }>("SELECT COUNT(*) AS n FROM upload_chunks WHERE transfer_id = ?", transferId)?.n ?? 0;
}

function stateOf(sql: SqlStore, upload: Pick<UploadRow, "transfer_id" | "count">): UploadState {
  const complete = heldCount(sql, upload.transfer_id) === upload.count;
  return { type: "upload_state", transfer_id: upload.transfer_id as TransferId, next_index: complete ? upload.count : nextIndex(sql, upload.transfer_id), complete };
}

/**
 * Stores one piece whose own checksum the caller has already verified, whatever its place in the
 * transfer: the first piece to arrive (any index) opens the upload. A piece already held is
 * acknowledged again (a resend after a lost ack) and changes nothing.
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
    if (chunk.index >= upload.count) {
      return { ok: false, problem: { code: "chunk_invalid", message: `chunk ${chunk.index} is beyond the upload's ${upload.count} chunks (indexes 0-${upload.count - 1})` } };
    }
    // A piece already held keeps its first copy: both passed their checksum, so they are equal.
    sql.run("INSERT OR IGNORE INTO upload_chunks (transfer_id, idx, data) VALUES (?, ?, ?)", chunk.transfer_id, chunk.index, chunk.data);
    return { ok: true, state: stateOf(sql, upload) };
  });
}

export function uploadState(sql: SqlStore, nowMs: number, transferId: TransferId): UploadState {
  const upload = sql.one<UploadRow>("SELECT * FROM uploads WHERE transfer_id = ?", transferId);
  if (!upload || upload.expires_at <= nowMs) {
    if (upload) dropUpload(sql, transferId);
    return { type: "upload_state", transfer_id: transferId, next_index: 0, complete: false };
  }
  return stateOf(sql, upload);
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
