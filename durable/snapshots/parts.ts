/**
 * Cutting a stream of bytes into multipart-upload parts (export.ts): chunks go in as they come, and
 * parts of an exact size come out, each one array; the last part is whatever is left. Chunks are kept
 * as they are until a part is taken, so no part-sized buffer exists before a part's worth has come.
 */
export class PartQueue {
  readonly #chunks: Uint8Array[] = [];
  #bytes = 0;

  /** Bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.#chunks.push(chunk);
    this.#bytes += chunk.byteLength;
  }

  /** The first `size` bytes waiting (at most `bytes`), in one array, taken off the queue. */
  take(size: number): Uint8Array {
    if (!Number.isSafeInteger(size) || size < 0 || size > this.#bytes) throw new RangeError(`cannot take ${size} of ${this.#bytes} bytes waiting`);
    const part = new Uint8Array(size);
    for (let filled = 0; filled < size; ) {
      const head = this.#chunks[0]!;
      const take = Math.min(size - filled, head.byteLength);
      part.set(take === head.byteLength ? head : head.subarray(0, take), filled);
      filled += take;
      if (take === head.byteLength) this.#chunks.shift();
      else this.#chunks[0] = head.subarray(take);
    }
    this.#bytes -= size;
    return part;
  }
}
