/**
 * The benchmarks' bare baseline Durable Object does what docs/benchmarks.md says it does (insert,
 * ack, forward, paged read), under the real workerd with the benchmark config, so ratios against
 * it mean what they claim. StudioVault's own Worker answers beside it in the same config.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { type LocalServer, startServer } from "../../support/server.js";

let server: LocalServer;
beforeAll(async () => {
  server = await startServer(undefined, 0, path.resolve(import.meta.dirname, "../../../bench/wrangler.bench.toml"));
}, 60_000);
afterAll(async () => server?.stop());

async function socket(branch: string) {
  const url = new URL(`/baseline/${branch}/sync`, server.url);
  url.protocol = "ws:";
  const ws = new WebSocket(url);
  const messages: Array<Record<string, unknown>> = [];
  let arrived: () => void = () => {};
  ws.on("message", (data) => {
    messages.push(JSON.parse(String(data)) as Record<string, unknown>);
    arrived();
  });
  await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
  // Waits for the message itself (woken by its arrival), with a generous deadline for a failure.
  const next = async (type: string, timeoutMs = 15_000) => {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const at = messages.findIndex((m) => m.type === type);
      if (at >= 0) return messages.splice(at, 1)[0]!;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`no ${type} message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        arrived = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  };
  return { ws, next, messages };
}

describe("the benchmarks' baseline Durable Object", () => {
  it("stores pushed records in order, acks the pusher, forwards to the others, and pages them back", async () => {
    const a = await socket("baseline-test");
    const b = await socket("baseline-test");
    const records = Array.from({ length: 1_500 }, (_, i) => ({ id: `r${i}`, entity_id: `e${i}`, payload: { n: i } }));
    a.ws.send(JSON.stringify({ type: "push", batch_id: "b1", records: records.slice(0, 1_000) }));
    expect(await a.next("ack")).toEqual({ type: "ack", batch_id: "b1", head: 1_000 });
    a.ws.send(JSON.stringify({ type: "push", batch_id: "b2", records: records.slice(1_000) }));
    expect(await a.next("ack")).toEqual({ type: "ack", batch_id: "b2", head: 1_500 });

    const live = [await b.next("live"), await b.next("live")].flatMap((m) => m.changes as Array<{ seq: number; record: unknown }>);
    expect(live.map((c) => c.seq)).toEqual(records.map((_, i) => i + 1));
    expect(live.map((c) => c.record)).toEqual(records);
    expect(a.messages.filter((m) => m.type === "live")).toEqual([]); // not echoed to the pusher

    b.ws.send(JSON.stringify({ type: "pull", since: 0, limit: 1_000 }));
    const first = await b.next("changes");
    expect(first.more).toBe(true);
    expect((first.changes as unknown[]).length).toBe(1_000);
    b.ws.send(JSON.stringify({ type: "pull", since: 1_000, limit: 1_000 }));
    const second = await b.next("changes");
    expect(second.more).toBe(false);
    expect((second.changes as Array<{ seq: number }>).map((c) => c.seq)).toEqual(records.slice(1_000).map((_, i) => 1_001 + i));

    const http = await fetch(new URL("/baseline/baseline-test/changes?since=1499", server.url));
    expect(await http.json()).toEqual({ type: "changes", changes: [{ seq: 1_500, record: records[1_499] }], more: false });
    a.ws.close();
    b.ws.close();
  });

  it("leaves StudioVault's own Worker untouched beside it", async () => {
    const health = await fetch(new URL("/health", server.url));
    expect(health.status).toBe(200);
    const unauthenticated = await fetch(new URL("/v1/branches/baseline-test/changes?since=0", server.url));
    expect(unauthenticated.status).toBe(401);
  });
});
