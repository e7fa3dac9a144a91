/**
 * Cutting the snapshot export's compressed output into multipart-upload parts (durable/snapshots/parts.ts):
 * whatever sizes the chunks come in, the parts are the same bytes in the same order, every part but the
 * last exactly the part size.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PartQueue } from "../../../durable/snapshots/parts.js";

/** What export.ts does with the queue: a part whenever one is full, then what is left. */
function cut(chunks: readonly Uint8Array[], partBytes: number): Uint8Array[] {
  const queue = new PartQueue();
  const parts: Uint8Array[] = [];
  for (const chunk of chunks) {
    queue.push(chunk);
    while (queue.bytes >= partBytes) parts.push(queue.take(partBytes));
  }
  if (queue.bytes > 0 || parts.length === 0) parts.push(queue.take(queue.bytes));
  return parts;
}

const join = (arrays: readonly Uint8Array[]) => Uint8Array.from(arrays.flatMap((a) => [...a]));

describe("export parts", () => {
  it("are the input's bytes in order, every part but the last exactly the part size, the last what is left", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 700 }), { maxLength: 30 }), fc.integer({ min: 1, max: 500 }), (chunks, partBytes) => {
        const parts = cut(chunks, partBytes);
        const total = chunks.reduce((n, c) => n + c.byteLength, 0);
        expect(join(parts)).toEqual(join(chunks));
        expect(parts.length).toBe(Math.max(1, Math.ceil(total / partBytes)));
        for (const part of parts.slice(0, -1)) expect(part.byteLength).toBe(partBytes);
        expect(parts.at(-1)!.byteLength).toBe(total - partBytes * (parts.length - 1));
      }),
      { numRuns: 500 },
    );
  });

  it("a chunk larger than several parts is cut across them; a part is a copy, not a view of a chunk", () => {
    const chunk = Uint8Array.from({ length: 2_500 }, (_, i) => i % 251);
    const parts = cut([chunk], 1_000);
    expect(parts.map((p) => p.byteLength)).toEqual([1_000, 1_000, 500]);
    expect(join(parts)).toEqual(chunk);
    chunk.fill(0);
    expect(parts[1]![0]).toBe(1_000 % 251);
  });

  it("refuses to take more than is waiting, or a size that is not a whole number", () => {
    const queue = new PartQueue();
    queue.push(new Uint8Array(10));
    expect(() => queue.take(11)).toThrow(RangeError);
    expect(() => queue.take(-1)).toThrow(RangeError);
    expect(() => queue.take(1.5)).toThrow(RangeError);
    expect(queue.take(10).byteLength).toBe(10);
    expect(queue.bytes).toBe(0);
  });
});
