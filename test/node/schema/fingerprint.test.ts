/**
 * The wire cannot change without a protocol version bump (STYLE.md: Zero/Replicache practice).
 * If this fails after an intended wire change: bump PROTOCOL_VERSION, append a PROTOCOL_HISTORY
 * entry with the printed fingerprint, update the history table in docs/protocol/wire.md#versioning, and decide MIN_SUPPORTED_PROTOCOL_VERSION.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_HISTORY, PROTOCOL_VERSION } from "../../../protocol/index.js";
import { sha256Hex } from "../../../lib/bytes.js";
import { canonicalJson, wireDescription, wireFingerprint } from "../../../protocol/fingerprint.js";

const sha256 = sha256Hex;

describe("protocol fingerprint", () => {
  it("the wire shape matches the fingerprint recorded for the current protocol version", async () => {
    const latest = PROTOCOL_HISTORY[PROTOCOL_HISTORY.length - 1]!;
    expect(latest.version).toBe(PROTOCOL_VERSION);
    const actual = await wireFingerprint();
    expect(actual, `wire changed: bump PROTOCOL_VERSION and record fingerprint ${actual}`).toBe(latest.fingerprint);
  });

  it("the history is append-only: versions count up by one and fingerprints differ", () => {
    PROTOCOL_HISTORY.forEach((entry, i) => expect(entry.version).toBe(i + 1));
    expect(new Set(PROTOCOL_HISTORY.map((e) => e.fingerprint)).size).toBe(PROTOCOL_HISTORY.length);
    expect(MIN_SUPPORTED_PROTOCOL_VERSION).toBeGreaterThanOrEqual(1);
    expect(MIN_SUPPORTED_PROTOCOL_VERSION).toBeLessThanOrEqual(PROTOCOL_VERSION);
  });

  it("adding a field, changing a limit or an enum changes the fingerprint", async () => {
    const base = wireDescription() as Record<string, unknown>;
    const original = await sha256(canonicalJson(base));
    const withField = { ...base, client: z.toJSONSchema(z.strictObject({ type: z.literal("hello"), extra: z.string() })) };
    const withLimit = { ...base, limits: { ...(base.limits as object), FRAME_LIMIT_BYTES: 1_000_000 } };
    const withCode = { ...base, reject_codes: [...(base.reject_codes as string[]), "new_code"] };
    for (const changed of [withField, withLimit, withCode]) expect(await sha256(canonicalJson(changed))).not.toBe(original);
  });

  it("canonical JSON does not depend on key order", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: 3 }] })).toBe(canonicalJson({ a: [{ c: 3, d: 2 }], b: 1 }));
  });
});
