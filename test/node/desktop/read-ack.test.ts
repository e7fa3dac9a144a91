/**
 * A device that only listens says it is keeping up before the branch's unread budget runs out
 * (session.ts READ_ACK_CHARS): the branch goes on sending it `live`, not `poke`s it must answer by
 * pulling behind every push. The real SyncEngine and session on a real SQLite store, against the real
 * branch room over in-memory sockets, on fake time; another device pushes through a raw socket.
 */
import { afterEach, describe, expect, it } from "vitest";
import { READ_ACK_CHARS, READING_NONCE } from "../../../desktop/sync/session.js";
import { LIVE_UNREAD_BUDGET_BYTES, MAX_BATCH_EVENTS, PROTOCOL_VERSION } from "../../../protocol/index.js";
import { DEVICES } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";
import { liveMemoryDevice, sentOfType, settle } from "../../support/session-link.js";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

describe("a listening device keeps its live feed", () => {
  it("reads 3 MiB of another device's commits live: no poke, no pull after the first, a reading ping each half budget", async () => {
    const { room, store, link, engine, received: frames } = await liveMemoryDevice("read-ack", cleanups);
    expect(engine.status().kind).toBe("live");
    const liveChars = () => frames.filter((f) => f.message.type === "live").reduce((n, f) => n + f.chars, 0);

    // Device B pushes full batches of projects with long notes (about 3 KB each), one push at a time, each a live frame to A.
    const b = room.connect(DEVICES.B);
    await b.deliver({ type: "hello", protocol_version: PROTOCOL_VERSION, device_id: DEVICES.B, cursor: 0, app: "read-ack-test/1", install_id: "0193a000-0000-7000-8000-0000000000b2", clock_ms: room.core.nowMs() });
    const events = makeEventFactory(61);
    let pushed = 0;
    for (let batch = 0; liveChars() < 3 * LIVE_UNREAD_BUDGET_BYTES; batch++) {
      const push = Array.from({ length: MAX_BATCH_EVENTS / 4 }, (_, i) => {
        const e = events.createProject(DEVICES.B, undefined, `Shoot ${batch}-${i}`);
        return { ...e, payload: { ...(e.payload as object), notes: "n".repeat(3_000) } };
      });
      await b.deliver({ type: "push", batch_id: `0193b000-0000-7000-8000-${String(batch).padStart(12, "0")}`, events: push });
      const answers = await b.received();
      expect(answers.filter((m) => m.type === "verdicts").flatMap((m) => (m.type === "verdicts" ? m.verdicts : [])).every((v) => v.status === "confirmed")).toBe(true);
      expect(answers.map((m) => m.type)).toContain("verdicts");
      pushed += push.length;
      link.deliver();
      await settle();
    }

    expect(frames.filter((f) => f.message.type === "poke")).toEqual([]);
    expect(sentOfType(link.sent, "pull")).toHaveLength(1); // the first, after the hello
    expect(store.cursor()).toBe(pushed);
    expect(store.cursor()).toBe(room.core.head());
    // It said it was reading about once per half budget, with the nonce the branch itself answers.
    const reading = sentOfType(link.sent, "ping").filter((p) => p.nonce === READING_NONCE);
    expect(reading.length).toBeGreaterThanOrEqual(Math.floor(liveChars() / (READ_ACK_CHARS + 200_000)));
    expect(reading.length).toBeLessThanOrEqual(Math.ceil(liveChars() / READ_ACK_CHARS));
    expect(engine.status().kind).toBe("live");
  }, 30_000);
});
