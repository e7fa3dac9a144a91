/**
 * Runs inside workerd (the real Workers runtime) through @cloudflare/vitest-pool-workers.
 * The schema must behave identically here and in Node: both sides import the same vocabulary.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { wireFingerprint } from "../../protocol/fingerprint.js";
import { decodeClientMessage, PROTOCOL_HISTORY, PROTOCOL_VERSION } from "../../protocol/index.js";
import { EVENT_SCHEMAS_COMPILED } from "../../durable/branch-do.js";
import { compileEventSchemas } from "../../domain/index.js";

describe("the Worker in workerd", () => {
  it("answers /health with the protocol version it speaks", async () => {
    const response = await SELF.fetch("https://sync.test/health");
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, protocol_version: PROTOCOL_VERSION, min_protocol_version: 1, event_schemas: "compiled" });
  });

  it("answers an unknown path with a 404 that says which path", async () => {
    const response = await SELF.fetch("https://sync.test/nope");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "not_found", message: "no route for /nope" });
  });

  it("computes the same wire fingerprint as Node", async () => {
    expect(await wireFingerprint()).toBe(PROTOCOL_HISTORY[PROTOCOL_HISTORY.length - 1]!.fingerprint);
  });

  // The test pool lets vitest generate code at any time; workerd itself allows it while a module is
  // evaluated only (allow_eval_during_startup), which is when branch-do.ts compiles.
  it("compiled the event schemas while the Durable Object's module was evaluated", () => {
    expect(EVENT_SCHEMAS_COMPILED).toBe(true);
    expect(compileEventSchemas()).toBe(true);
  });

  it("refuses hostile frames with values, not exceptions", () => {
    expect(decodeClientMessage("[".repeat(1_000_000)).ok).toBe(false);
    expect(decodeClientMessage('{"type":"ping","nonce":1,"__proto__":{"x":1}}').ok).toBe(false);
    expect(decodeClientMessage('{"type":"ping","nonce":1}')).toEqual({ ok: true, value: { type: "ping", nonce: 1 } });
  });
});
