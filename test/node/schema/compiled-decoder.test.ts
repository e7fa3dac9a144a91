/**
 * The compiled server-message decoder (protocol/wire.ts compileServerDecoder, zod's `z.compile`) says
 * exactly what the runtime parser says: the same value for a frame it accepts, the same refusal in the
 * same words for one it does not. Checked on an example of every server message type, on `live` and
 * `changes` frames carrying every kind of entity, and on seeded random mutations of all of them
 * (a key dropped or added, a value replaced by arbitrary JSON, an array emptied or doubled).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { compileServerDecoder, decodeServerMessage, decodeWith, ServerMessage } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { mutate, mutation } from "../../support/mutations.js";

const compiled = z.compile(ServerMessage, { strict: true });

/** Every example message, and `live` and `changes` frames carrying each example entity. */
const frames: unknown[] = (() => {
  const out: unknown[] = Object.values(ex.serverMessages);
  const live = ex.serverMessages.live as unknown as { changes: Array<Record<string, unknown>> };
  const change = live.changes[0]!;
  const withEach = Object.values(ex.entities).map((entity, i) => ({ ...change, seq: 100 + i, entity_type: entity.entity_type, entity_id: entity.entity_id, entity }));
  out.push({ type: "live", changes: withEach, head: 120 });
  out.push({ type: "changes", request_id: ex.ids.request, changes: withEach, cursor: 120, head: 121, more: true });
  return out;
})();

describe("the compiled server-message decoder", () => {
  it("compiles the whole of ServerMessage (strict: no part is left to the runtime parser), and decodeServerMessage uses it", () => {
    expect(compiled).not.toBe(ServerMessage);
    expect(compileServerDecoder()).toBe(true);
    expect(compileServerDecoder()).toBe(true); // once: a second call changes nothing
    for (const frame of frames) expect(decodeServerMessage(JSON.stringify(frame))).toEqual(decodeWith(ServerMessage, JSON.stringify(frame)));
  });

  it("accepts every example frame as the runtime parser does, value for value", () => {
    for (const frame of frames) {
      const text = JSON.stringify(frame);
      const runtime = decodeWith(ServerMessage, text);
      expect(runtime.ok, text.slice(0, 200)).toBe(true);
      expect(decodeWith(compiled, text)).toEqual(runtime);
    }
  });

  it("gives every mutated frame the runtime parser's answer: the same value, or the same refusal in the same words", () => {
    let refused = 0;
    let accepted = 0;
    fc.assert(
      fc.property(fc.nat({ max: frames.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 3 }), (which, mutations) => {
        const text = JSON.stringify(mutate(frames[which], mutations));
        const runtime = decodeWith(ServerMessage, text);
        if (runtime.ok) accepted++;
        else refused++;
        expect(decodeWith(compiled, text)).toEqual(runtime);
      }),
      { seed: 16_2026, numRuns: 3_000 },
    );
    // Both sides of the comparison were exercised.
    expect(refused).toBeGreaterThan(1_000);
    expect(accepted).toBeGreaterThan(100);
  });
});
