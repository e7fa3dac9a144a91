import { describe, expect, it } from "vitest";
import { CLOSE_CODES, ClientMessage, closeReasonOf, decodeClientFrame, decodeClientMessage, decodeServerMessage, FRAME_LIMIT_BYTES, ServerMessage, utf8ByteLength } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";

describe("protocol v1 messages", () => {
  it("every client message type has an example that decodes to itself", () => {
    expect(Object.keys(ex.clientMessages).sort()).toEqual(ClientMessage.options.map((o) => o.shape.type.value).sort());
    for (const message of Object.values(ex.clientMessages)) {
      const decoded = decodeClientMessage(JSON.stringify(message));
      expect(decoded, message.type).toEqual({ ok: true, value: message });
    }
  });

  it("the server decodes every client message type as a frame (its lenient push envelope aside)", () => {
    for (const message of Object.values(ex.clientMessages)) {
      expect(decodeClientFrame(JSON.stringify(message)), message.type).toEqual({ ok: true, value: message });
    }
  });

  it("every server message type has an example that decodes to itself", () => {
    expect(Object.keys(ex.serverMessages).sort()).toEqual(ServerMessage.options.map((o) => o.shape.type.value).sort());
    for (const message of Object.values(ex.serverMessages)) {
      const decoded = decodeServerMessage(JSON.stringify(message));
      expect(decoded, message.type).toEqual({ ok: true, value: message });
    }
  });

  it("binary frames decode as UTF-8", () => {
    const bytes = new TextEncoder().encode(JSON.stringify(ex.clientMessages.ping));
    expect(decodeClientMessage(bytes)).toEqual({ ok: true, value: ex.clientMessages.ping });
  });

  it("a wrong discriminant is a readable error naming the field", () => {
    const decoded = decodeClientMessage(JSON.stringify({ type: "push_all", events: [] }));
    expect(decoded.ok).toBe(false);
    if (!decoded.ok) {
      expect(decoded.error.code).toBe("malformed_message");
      expect(decoded.error.message).toMatch(/type/);
    }
  });

  it("a hello missing its cursor names the missing field", () => {
    const { cursor: _omit, ...hello } = ex.clientMessages.hello as Record<string, unknown>;
    const decoded = decodeClientMessage(JSON.stringify(hello));
    expect(decoded.ok || decoded.error.message).toMatch(/cursor/);
  });

  it("a push of zero events is refused, and of more than the batch limit", () => {
    const push = ex.clientMessages.push as Record<string, unknown>;
    expect(decodeClientMessage(JSON.stringify({ ...push, events: [] })).ok).toBe(false);
    const many = Array.from({ length: 201 }, () => ex.event);
    expect(decodeClientMessage(JSON.stringify({ ...push, events: many })).ok).toBe(false);
  });

  it("a frame over the limit is refused before it is parsed", () => {
    const huge = JSON.stringify({ type: "ping", nonce: 1, pad: "x".repeat(FRAME_LIMIT_BYTES) });
    const decoded = decodeClientMessage(huge);
    expect(decoded).toEqual({
      ok: false,
      error: { code: "frame_too_large", message: `frame is ${huge.length} bytes; the limit is ${FRAME_LIMIT_BYTES} bytes` },
    });
  });

  it("the server's push envelope accepts a batch whose events are individually malformed", () => {
    // Each event must still carry an id so that it can get a verdict of its own (I2).
    const frame = { type: "push", batch_id: ex.ids.batch, events: [{ id: ex.ids.event1, payload: "garbage" }] };
    expect(decodeClientMessage(JSON.stringify(frame)).ok).toBe(false);
    expect(decodeClientFrame(JSON.stringify(frame)).ok).toBe(true);
    const noId = { ...frame, events: [{ payload: "garbage" }] };
    expect(decodeClientFrame(JSON.stringify(noId)).ok).toBe(false);
  });
});

describe("a frame's size in bytes", () => {
  it("is its UTF-8 length, ASCII or not: multi-byte letters, emoji (surrogate pairs) and lone surrogates (3 bytes, as U+FFFD)", () => {
    const texts = ["", '{"type":"ping","nonce":1}', "\x7f", "\x80", "ශ්‍රී ලංකා", "தமிழ்", "Perera 📷 wedding", "a\ud800b", "\udc00", "\ud83d", `${"x".repeat(1000)}é`];
    for (const text of texts) expect(utf8ByteLength(text), JSON.stringify(text)).toBe(Buffer.byteLength(text, "utf8"));
  });
});

describe("close codes", () => {
  it("are distinct application codes in 4000-4999 whose names fit a close reason", () => {
    const values = Object.values(CLOSE_CODES);
    expect(new Set(values).size).toBe(values.length);
    for (const [reason, code] of Object.entries(CLOSE_CODES)) {
      expect(code).toBeGreaterThanOrEqual(4000);
      expect(code).toBeLessThan(5000);
      expect(new TextEncoder().encode(reason).length).toBeLessThanOrEqual(123);
      expect(closeReasonOf(code)).toBe(reason);
    }
    expect(closeReasonOf(1000)).toBeNull();
  });
});
