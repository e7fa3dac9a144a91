/**
 * lib/bytes.ts: base64 both ways, as Node's own encoder spells it, for any bytes (chunks of large
 * pushes and pages travel this way), and anything that is not base64 read as null, never thrown.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { base64FromBytes, base64UrlDecode, base64UrlEncode, bytesFromBase64 } from "../../../lib/bytes.js";

describe("base64", () => {
  it("encodes any bytes as Node does, and decodes them back", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70_000 }), (bytes) => {
        const text = base64FromBytes(bytes);
        expect(text).toBe(Buffer.from(bytes).toString("base64"));
        expect(bytesFromBase64(text)).toEqual(bytes);
        expect(base64UrlDecode(base64UrlEncode(bytes))).toEqual(bytes);
      }),
      { numRuns: 60 },
    );
  });

  it("a chunk's worth (600 kB, more than one slice of the encoder) round-trips", () => {
    const bytes = Uint8Array.from({ length: 600_000 }, (_, i) => (i * 7919) & 255);
    const text = base64FromBytes(bytes);
    expect(text).toBe(Buffer.from(bytes).toString("base64"));
    expect(Buffer.compare(Buffer.from(bytesFromBase64(text)!), Buffer.from(bytes))).toBe(0);
  });

  it("reads what is not base64 as null", () => {
    // atob's forgiving base64: unpadded input is read; a character outside the alphabet, or a lone one, is not.
    for (const text of ["*", "a", "a===", "é", "ab$c"]) expect(bytesFromBase64(text), text).toBeNull();
    expect(bytesFromBase64("abc")).toEqual(Uint8Array.from([105, 183]));
    expect(bytesFromBase64("")).toEqual(new Uint8Array());
  });
});
