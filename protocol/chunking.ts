/**
 * Splitting a message too large for one frame into checksummed chunks, and putting it back together.
 * Used in both directions (desktop uploads, server downloads). WebCrypto only: runs in Node and workerd.
 */
import type { TransferId } from "../domain/ids.js";
import { CHUNK_RAW_BYTES, MAX_ASSEMBLED_MESSAGE_BYTES } from "./limits.js";
import type { Chunk } from "./messages.js";
import { base64FromBytes, bytesFromBase64, sha256Hex } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";

/** The chunks of `text` (a whole JSON message). */
export async function splitIntoChunks(
  text: string,
  transferId: TransferId,
  chunkRawBytes: number = CHUNK_RAW_BYTES,
): Promise<Chunk[]> {
  const bytes = new TextEncoder().encode(text);
  const sha256 = await sha256Hex(bytes);
  const count = Math.max(1, Math.ceil(bytes.length / chunkRawBytes));
  const chunks: Chunk[] = [];
  for (let index = 0; index < count; index++) {
    const piece = bytes.subarray(index * chunkRawBytes, (index + 1) * chunkRawBytes);
    chunks.push({
      type: "chunk",
      transfer_id: transferId,
      index,
      count,
      total_bytes: bytes.length,
      sha256,
      chunk_sha256: await sha256Hex(piece),
      data: base64FromBytes(piece),
    });
  }
  return chunks;
}

export type AssemblyProblem = { code: "chunk_invalid" | "checksum_mismatch"; message: string };

/** Decodes one chunk's data and checks it against its own checksum. */
export async function verifyChunk(chunk: Chunk): Promise<Result<Uint8Array, AssemblyProblem>> {
  const bytes = bytesFromBase64(chunk.data);
  if (bytes === null) return err({ code: "chunk_invalid", message: `chunk ${chunk.index} is not valid base64` });
  const actual = await sha256Hex(bytes);
  if (actual !== chunk.chunk_sha256) {
    return err({ code: "checksum_mismatch", message: `chunk ${chunk.index}: expected sha256 ${chunk.chunk_sha256}, received data hashing to ${actual}` });
  }
  return ok(bytes);
}

/** Joins verified pieces and checks the whole against its length and checksum. */
export async function joinPieces(
  pieces: readonly Uint8Array[],
  expected: { total_bytes: number; sha256: string },
): Promise<Result<string, AssemblyProblem>> {
  const total = pieces.reduce((n, p) => n + p.length, 0);
  if (total !== expected.total_bytes || total > MAX_ASSEMBLED_MESSAGE_BYTES) {
    return err({ code: "chunk_invalid", message: `expected ${expected.total_bytes} bytes, received ${total}` });
  }
  const whole = new Uint8Array(total);
  let at = 0;
  for (const p of pieces) {
    whole.set(p, at);
    at += p.length;
  }
  const actual = await sha256Hex(whole);
  if (actual !== expected.sha256) {
    return err({ code: "checksum_mismatch", message: `expected sha256 ${expected.sha256}, the whole hashes to ${actual}` });
  }
  try {
    return ok(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(whole));
  } catch {
    return err({ code: "chunk_invalid", message: "reassembled message is not valid UTF-8" });
  }
}

/**
 * Receiving side of downloads (server → client), which are not resumable: pieces of one transfer
 * arrive in order on one connection; anything out of order drops the transfer (the client pulls again).
 */
export class ChunkAssembler {
  #transfers = new Map<string, { pieces: Uint8Array[]; first: Chunk }>();

  async accept(chunk: Chunk): Promise<Result<string | null, AssemblyProblem>> {
    const piece = await verifyChunk(chunk);
    if (!piece.ok) {
      this.#transfers.delete(chunk.transfer_id);
      return piece;
    }
    let t = this.#transfers.get(chunk.transfer_id);
    if (!t) {
      if (chunk.index !== 0) return err({ code: "chunk_invalid", message: `transfer ${chunk.transfer_id} began at chunk ${chunk.index}` });
      t = { pieces: [], first: chunk };
      this.#transfers.set(chunk.transfer_id, t);
    }
    if (chunk.index !== t.pieces.length || chunk.count !== t.first.count || chunk.sha256 !== t.first.sha256) {
      this.#transfers.delete(chunk.transfer_id);
      return err({ code: "chunk_invalid", message: `expected chunk ${t.pieces.length} of ${t.first.count}, received ${chunk.index} of ${chunk.count}` });
    }
    t.pieces.push(piece.value);
    if (t.pieces.length < t.first.count) return ok(null);
    this.#transfers.delete(chunk.transfer_id);
    return joinPieces(t.pieces, t.first);
  }

  /** Forget partial transfers (on disconnect). */
  reset(): void {
    this.#transfers.clear();
  }
}
