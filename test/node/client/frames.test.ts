/**
 * What the browser client does with frames a healthy server never sends, and with a connection
 * that goes quiet, in Chromium through a wire tap in front of the real server: a frame that does not
 * decode is reported and dropped, never applied; a chunked message is reassembled and checked, a
 * corrupted one reported and the page pulled again; a connection that stops answering is noticed by
 * the heartbeat (the runtime-answered ping) and replaced.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { splitIntoChunks } from "../../../protocol/chunking.js";
import type { TransferId } from "../../../domain/index.js";
import { makeEventFactory } from "../../support/events.js";
import { installIdOf, tokenFor } from "../../support/server.js";
import { clientHarness, logOf, type MakeOptions, stateOf } from "./harness.js";
import { startWireTap, type WireTap } from "./wire-tap.js";

const h = clientHarness();
const DASH = "01936f3c-0000-7000-8000-0000000004d1";
const f = makeEventFactory(18);

let branchCount = 0;
const newBranch = (what: string) => `client-${what}-${Date.now().toString(36)}-${++branchCount}`;

async function openThrough(tap: WireTap, extra: Partial<MakeOptions> = {}): Promise<Page> {
  const branch = newBranch("frames");
  const page = await h.page();
  const o: MakeOptions = { server: tap.url, branch, token: await tokenFor(branch, DASH, "viewer"), deviceId: DASH, installId: installIdOf(DASH), ...extra };
  await page.evaluate((opts) => {
    window.make("a", opts);
    window.made.a!.client.start();
  }, o);
  await expect.poll(async () => (await stateOf(page, "a")).state, { timeout: 20_000 }).toBe("open");
  return page;
}

const pullsSent = (tap: WireTap) => tap.sent.filter((t) => t.startsWith('{"type":"pull"')).length;

describe("frames the client must not trust, and a quiet connection", { timeout: 90_000 }, () => {
  it("a frame that is not JSON, one of the wrong shape and an unasked-for page are reported and dropped; the client stays open", async () => {
    const tap = await startWireTap(h.server.url);
    try {
      const page = await openThrough(tap);
      tap.inject("garbage{");
      tap.inject(JSON.stringify({ type: "live", changes: [], head: 7 })); // a live carries at least one change
      tap.inject(JSON.stringify({ type: "welcome" }));
      tap.inject(JSON.stringify({ type: "changes", request_id: f.nextId(), changes: [], cursor: 0, head: 0, more: false }));
      await expect.poll(async () => (await logOf(page, "a")).errors.length, { timeout: 10_000 }).toBe(4);
      const log = await logOf(page, "a");
      expect(log.errors.map((e) => [e.source, e.code])).toEqual([["frame", "malformed_message"], ["frame", "malformed_message"], ["frame", "malformed_message"], ["unexpected", "unexpected_message"]]);
      expect(log.errors[0]!.message).toMatch(/8 bytes did not decode/);
      expect(log.changes).toEqual([]);
      expect(await stateOf(page, "a")).toMatchObject({ state: "open", cursor: 0 });
    } finally {
      await tap.close();
    }
  });

  it("a change sent as a delta it never asked for (v9) is reported and not applied: the cursor stays before it", async () => {
    const tap = await startWireTap(h.server.url);
    try {
      const page = await openThrough(tap);
      const change = {
        seq: 1, event_id: f.nextId(), device_id: DASH, user_id: "ruwan", entity_type: "project", entity_id: f.nextId(), operation: "update",
        changed_fields: ["title"], committed_at: "2026-11-25T04:05:00.000Z", delta: { base_version: 1, version: 2, data: { title: "x" }, sha256: "0".repeat(64) },
      };
      tap.inject(JSON.stringify({ type: "live", changes: [change], head: 1 }));
      await expect.poll(async () => (await logOf(page, "a")).errors.length, { timeout: 10_000 }).toBe(1);
      expect((await logOf(page, "a")).errors[0]).toMatchObject({ source: "frame", code: "malformed_message", message: expect.stringContaining("came as a delta, which this client did not ask for") });
      expect((await logOf(page, "a")).changes).toEqual([]);
      expect(await stateOf(page, "a")).toMatchObject({ state: "open", cursor: 0 });
    } finally {
      await tap.close();
    }
  });

  it("a welcome whose compacted_through is past the client's cursor (v9) closes it for good, in words, instead of pulling what is gone", async () => {
    const tap = await startWireTap(h.server.url);
    try {
      // The branch as it would be 50 commits on, through 40 compacted while this client was at 12.
      tap.rewrite = (frame) => (frame.startsWith('{"type":"welcome"') ? frame.replace('"head":0,', '"head":50,').replace('"compacted_through":0', '"compacted_through":40') : frame);
      const page = await h.page();
      const branch = newBranch("compacted");
      const o: MakeOptions = { server: tap.url, branch, token: await tokenFor(branch, DASH, "viewer"), deviceId: DASH, installId: installIdOf(DASH), cursor: 12 };
      await page.evaluate((opts) => {
        window.make("a", opts);
        window.made.a!.client.start();
      }, o);
      await expect.poll(async () => (await stateOf(page, "a")).state, { timeout: 20_000 }).toBe("closed");
      expect((await stateOf(page, "a")).closed).toEqual({ code: 1000, reason: "history_compacted", message: "the branch's history through seq 40 was compacted while this client was at seq 12: start again from the branch's head" });
      expect(pullsSent(tap)).toBe(0);
    } finally {
      await tap.close();
    }
  });

  it("a chunked message is reassembled and checked; a corrupted piece is reported and the client pulls again", async () => {
    const tap = await startWireTap(h.server.url);
    try {
      const page = await openThrough(tap);
      // A poke in three pieces: whole and checked, it is handled like any poke (answered with a pull).
      const pulls = pullsSent(tap);
      for (const chunk of await splitIntoChunks(JSON.stringify({ type: "poke", head: 0 }), f.nextId() as TransferId, 10)) tap.inject(JSON.stringify(chunk));
      await expect.poll(async () => (await logOf(page, "a")).pokes, { timeout: 10_000 }).toEqual([{ type: "poke", head: 0 }]);
      await expect.poll(() => pullsSent(tap), { timeout: 10_000 }).toBe(pulls + 1);

      const [first, second] = await splitIntoChunks(JSON.stringify({ type: "poke", head: 0 }), f.nextId() as TransferId, 15);
      tap.inject(JSON.stringify(first));
      tap.inject(JSON.stringify({ ...second, data: btoa("not the bytes..") }));
      await expect.poll(async () => (await logOf(page, "a")).errors.map((e) => [e.source, e.code, e.in_reply_to]), { timeout: 10_000 }).toEqual([["chunk", "checksum_mismatch", first!.transfer_id]]);
      await expect.poll(() => pullsSent(tap), { timeout: 10_000 }).toBe(pulls + 2);
      expect((await logOf(page, "a")).pokes).toHaveLength(1);
      expect((await stateOf(page, "a")).state).toBe("open");
    } finally {
      await tap.close();
    }
  });

  it("an error naming a push's batch fails that push; a push whose connection is lost fails connection_lost", async () => {
    const tap = await startWireTap(h.server.url);
    try {
      const page = await openThrough(tap);
      const held: string[] = [];
      tap.intercept = (frame) => {
        if (!frame.startsWith('{"type":"push"')) return true;
        held.push((JSON.parse(frame) as { batch_id: string }).batch_id);
        return false; // the server never sees it
      };
      const pushed = page.evaluate(async (ev) => {
        try {
          return { verdicts: await window.made.a!.client.push([ev]) };
        } catch (e) {
          return { name: (e as Error).name, code: (e as { code: string }).code, serverCode: (e as { serverCode: string }).serverCode };
        }
      }, f.sale(DASH));
      await expect.poll(() => held.length, { timeout: 10_000 }).toBe(1);
      tap.inject(JSON.stringify({ type: "error", code: "malformed_message", message: "refused for the test", fatal: false, in_reply_to: held[0] }));
      expect(await pushed).toEqual({ name: "SyncRequestError", code: "server_error", serverCode: "malformed_message" });

      const lost = page.evaluate(async (ev) => {
        try {
          return { verdicts: await window.made.a!.client.push([ev]) };
        } catch (e) {
          return { name: (e as Error).name, code: (e as { code: string }).code };
        }
      }, f.sale(DASH));
      await expect.poll(() => held.length, { timeout: 10_000 }).toBe(2);
      tap.cut();
      expect(await lost).toEqual({ name: "SyncRequestError", code: "connection_lost" });
      const log = await logOf(page, "a");
      expect(log.errors.map((e) => [e.source, e.code, e.in_reply_to])).toEqual([["server", "malformed_message", held[0]]]);
    } finally {
      await tap.close();
    }
  });

  it("heartbeat: an idle connection sends the runtime-answered ping; one that hears nothing after it is dropped and replaced", async () => {
    const tap = await startWireTap(h.server.url);
    try {
      // 20x faster timers: the ping after 1.25 s idle, the deadline 500 ms later (room for a loaded machine).
      const page = await openThrough(tap, { timeScale: 20 });
      await expect.poll(() => tap.sent.filter((t) => t === '{"type":"ping","nonce":0}').length, { timeout: 15_000 }).toBeGreaterThanOrEqual(2);
      expect((await logOf(page, "a")).welcomes).toHaveLength(1); // pongs kept it alive

      tap.mute = true; // half-open: the client's frames go out, nothing comes back
      await expect.poll(async () => (await stateOf(page, "a")).state, { timeout: 10_000 }).not.toBe("open");
      tap.mute = false;
      await expect.poll(async () => (await logOf(page, "a")).welcomes.length, { timeout: 20_000 }).toBeGreaterThanOrEqual(2);
      expect((await stateOf(page, "a")).state).toBe("open");
      expect((await logOf(page, "a")).closed).toEqual([]);
    } finally {
      await tap.close();
    }
  });
});
