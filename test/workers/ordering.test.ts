/**
 * Bursts into the real Durable Object: a desktop sends an upload's chunks back to back, and frames of
 * any kind without waiting for answers.
 *
 * Under this test pool every event of a Durable Object passes through vitest-pool-workers' wrapper,
 * which awaits an RPC to its runner object (`importModule`) before it calls the object's
 * `webSocketMessage`: frames sent back to back reach the object out of order (pushes 0..29 arrived
 * as 0,9,8,6,5,…), before any of our code runs. Plain workerd (wrangler dev, no wrapper) delivered
 * them in order, also on an object just woken from hibernation. So an upload must not depend on the
 * order its chunks arrive in (core/uploads.ts), and the order of other frames is checked from the
 * object's own `webSocketMessage` on, handing it frames the way workerd does: back to back.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type ServerMessage, splitIntoChunks } from "../../protocol/index.js";
import { type TransferId } from "../../domain/index.js";
import type { BranchDurableObject } from "../../durable/branch-do.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, pullAll, type TestClient } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";

/** A project push of about 5 MB: nine chunks of ~800 KB frames. */
function bigPush(seed: number) {
  const f = makeEventFactory(seed);
  const items = Array.from({ length: 40_000 }, (_, i) => ({ sha256: i.toString(16).padStart(64, "0"), file_name: `IMG_${i}.CR3`, size_bytes: i, note: null }));
  const base = f.createProject(A);
  const event = { ...base, payload: { ...(base.payload as object), media_selection: { items } } };
  return { event, text: JSON.stringify({ type: "push", batch_id: newId(), events: [event] }) };
}

/** Every frame up to the push's verdicts (or the first error). */
async function untilVerdicts(client: TestClient): Promise<ServerMessage[]> {
  const seen: ServerMessage[] = [];
  for (;;) {
    const message = await client.next();
    seen.push(message);
    if (message.type === "verdicts" || message.type === "error") return seen;
  }
}

describe("bursts into the Durable Object", () => {
  it.each([1, 2, 3])("an upload sent as one burst of ~800 KB chunks commits once (run %i)", async (run) => {
    const branch = `burst-${Date.now().toString(36)}-${run}`;
    const { event, text } = bigPush(60 + run);
    const chunks = await splitIntoChunks(text, newId() as TransferId);
    expect(chunks.length).toBeGreaterThanOrEqual(8);
    const client = await connect(branch, A);
    for (const chunk of chunks) client.send(chunk);
    const seen = await untilVerdicts(client);
    expect(seen.filter((m) => m.type === "error")).toEqual([]);
    expect(seen.filter((m) => m.type === "upload_state" && m.complete)).toHaveLength(1);
    expect((seen.at(-1) as Extract<ServerMessage, { type: "verdicts" }>).verdicts).toMatchObject([{ event_id: event.id, status: "confirmed", seq: 1 }]);
    expect((await pullAll(client)).changes).toHaveLength(1);
    client.close();
  });

  it("an upload whose chunks arrive in reverse order commits once: assembly does not depend on arrival order", async () => {
    const branch = `burst-rev-${Date.now().toString(36)}`;
    const { event, text } = bigPush(70);
    const chunks = await splitIntoChunks(text, newId() as TransferId);
    const client = await connect(branch, A);
    for (const chunk of [...chunks].reverse()) client.send(chunk);
    const seen = await untilVerdicts(client);
    expect(seen.filter((m) => m.type === "error")).toEqual([]);
    // Until chunk 0 arrives, the lowest missing index is 0.
    expect(seen.filter((m) => m.type === "upload_state" && !m.complete).every((m) => m.type === "upload_state" && m.next_index === 0)).toBe(true);
    expect((seen.at(-1) as Extract<ServerMessage, { type: "verdicts" }>).verdicts).toMatchObject([{ event_id: event.id, status: "confirmed", seq: 1 }]);
    client.close();
  });

  it("frames handed to the object back to back are handled in that order (pushes, pulls)", async () => {
    const branch = `burst-order-${Date.now().toString(36)}`;
    const f = makeEventFactory(71);
    const client = await connect(branch, A);
    const batches = Array.from({ length: 30 }, () => newId());
    const frames = batches.flatMap((batch_id) => [
      JSON.stringify({ type: "push", batch_id, events: [f.createProject(A)] }),
      JSON.stringify({ type: "pull", request_id: newId(), since: 0, limit: 1 }),
    ]);
    const stub = env.BRANCH.get(env.BRANCH.idFromName(branch));
    // As workerd does: each frame's handler starts without waiting for the one before.
    await runInDurableObject(stub, async (instance: BranchDurableObject, state) => {
      const [ws] = state.getWebSockets();
      await Promise.all(frames.map((frame) => instance.webSocketMessage(ws!, frame)));
    });
    const answered: string[] = [];
    while (answered.length < batches.length) answered.push((await client.next("verdicts", { skip: true })).batch_id);
    expect(answered).toEqual(batches);
    client.close();
  });
});
