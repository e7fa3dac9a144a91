/**
 * Byte counts of frames (protocol/wire.ts): the frame limit and the event and entity size limits are
 * in UTF-8 bytes, counted without encoding. ASCII text is counted by its length; the rest one
 * character at a time from the first non-ASCII one, lone surrogates as the 3 bytes of U+FFFD.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { FRAME_LIMIT_BYTES, frameText, utf8ByteLength } from "../../../protocol/index.js";

const encoded = (text: string) => new TextEncoder().encode(text).length;

describe("utf8ByteLength", () => {
  it("is the length of the UTF-8 encoding, whatever the text", () => {
    fc.assert(fc.property(fc.string({ unit: "binary" }), (text) => utf8ByteLength(text) === encoded(text)));
    fc.assert(fc.property(fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) }), (text) => utf8ByteLength(text) === encoded(text)));
    for (const text of ["", "ascii only", "é", "a\ud800", "\udc00b", "👍", "x".repeat(1000) + "ü"]) expect(utf8ByteLength(text)).toBe(encoded(text));
  });
});

describe("frameText's limit on a text frame", () => {
  it("refuses a string frame over the limit in bytes, even when its length is under it", () => {
    const text = "é".repeat(FRAME_LIMIT_BYTES / 2 + 1); // FRAME_LIMIT_BYTES + 2 bytes
    expect(frameText(text)).toMatchObject({ ok: false, error: { code: "frame_too_large", message: `frame is ${FRAME_LIMIT_BYTES + 2} bytes; the limit is ${FRAME_LIMIT_BYTES} bytes` } });
    expect(frameText("é".repeat(FRAME_LIMIT_BYTES / 2))).toMatchObject({ ok: true });
    expect(frameText("x".repeat(FRAME_LIMIT_BYTES / 3))).toMatchObject({ ok: true });
  });
});
