/**
 * The dashboard's live feed through the browser client, in Chromium against the real server:
 * `watch()` answered by `watching`, then `observed` as a till connects, reports its queue and has a
 * push rejected; the watch asked again after a reconnect; a role that may not observe refused with
 * the watch's request id (and not asked again); `reportStatus` throttled with its latest value last.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { DevicePresence } from "../../../protocol/index.js";
import { makeEventFactory } from "../../support/events.js";
import { installIdOf, NodeClient, tokenFor } from "../../support/server.js";
import { clientHarness, logOf, type MakeOptions, stateOf } from "./harness.js";
import { startWireTap } from "./wire-tap.js";

const h = clientHarness();
const DASH = "01936f3c-0000-7000-8000-0000000002d1";
const TILL = "01936f3c-0000-7000-8000-0000000002d2";
const STAFF = "01936f3c-0000-7000-8000-0000000002d3";
const f = makeEventFactory(16);

let branchCount = 0;
const newBranch = (what: string) => `client-${what}-${Date.now().toString(36)}-${++branchCount}`;

async function options(branch: string, device: string, role: "owner" | "manager" | "staff" | "viewer", extra: Partial<MakeOptions> = {}): Promise<MakeOptions> {
  return { server: h.server.url.origin, branch, token: await tokenFor(branch, device, role), deviceId: device, installId: installIdOf(device), follow: "live", ...extra };
}

async function startWatching(page: Page, name: string, o: MakeOptions): Promise<void> {
  await page.evaluate(([n, opts]) => {
    window.make(n, opts);
    window.made[n]!.client.watch();
    window.made[n]!.client.start();
  }, [name, o] as const);
}

/** The latest presence of `device` the client heard of (watching, then every observed). */
async function presence(page: Page, name: string, device: string): Promise<DevicePresence | undefined> {
  const log = await logOf(page, name);
  const all = [...log.watching.flatMap((w) => w.devices), ...log.observed.flatMap((o) => o.devices)];
  return all.filter((d) => d.device_id === device).at(-1);
}

describe("watching a branch through the browser client", { timeout: 90_000 }, () => {
  it("watch → watching, then observed as a till connects, reports its queue and has a push rejected; asked again after a reconnect", async () => {
    const branch = newBranch("watch");
    const tap = await startWireTap(h.server.url);
    try {
      const page = await h.page();
      await startWatching(page, "dash", { ...(await options(branch, DASH, "manager")), server: tap.url });
      await expect.poll(async () => (await logOf(page, "dash")).watching.length, { timeout: 20_000 }).toBe(1);
      const first = (await logOf(page, "dash")).watching[0]!;
      expect(first.devices.find((d) => d.device_id === DASH)).toMatchObject({ connected: true, role: "manager" });

      const till = await NodeClient.open(h.server, branch, TILL, "staff");
      await expect.poll(async () => (await presence(page, "dash", TILL))?.connected, { timeout: 10_000 }).toBe(true);
      till.send({ type: "status", cursor: 0, queue: { pending: 4, oldest_pending_age_ms: 60_000 } });
      await expect.poll(async () => (await presence(page, "dash", TILL))?.pending, { timeout: 10_000 }).toBe(4);

      const create = f.createProject(TILL);
      const stale = f.updateProject(TILL, create.entity_id, { title: "B" }, { base: 1 });
      const first2 = f.updateProject(TILL, create.entity_id, { title: "A" }, { base: 1 });
      till.send({ type: "push", batch_id: f.nextId(), events: [create, first2, stale] });
      await till.next("verdicts");
      await expect.poll(async () => (await logOf(page, "dash")).observed.flatMap((o) => o.rejections).map((r) => [r.event_id, r.code]), { timeout: 10_000 }).toEqual([[stale.id, "version_conflict"]]);
      till.close();
      await expect.poll(async () => (await presence(page, "dash", TILL))?.connected, { timeout: 10_000 }).toBe(false);

      // The network goes away: after the reconnect the client asks to watch again by itself.
      tap.cut();
      await expect.poll(async () => (await logOf(page, "dash")).watching.length, { timeout: 20_000 }).toBe(2);
      const watches = tap.sent.filter((t) => t.startsWith('{"type":"watch"')).map((t) => (JSON.parse(t) as { request_id: string }).request_id);
      expect(watches).toHaveLength(2);
      const log = await logOf(page, "dash");
      expect(log.watching.map((w) => w.request_id)).toEqual(watches);
      expect(log.errors).toEqual([]);
      expect((await stateOf(page, "dash")).state).toBe("open");
    } finally {
      await tap.close();
    }
  });

  it("a role that may not observe gets forbidden with the watch's request id, and the watch is not asked again after a reconnect", async () => {
    const branch = newBranch("forbidden");
    const tap = await startWireTap(h.server.url);
    try {
      const page = await h.page();
      await startWatching(page, "staff", { ...(await options(branch, STAFF, "staff")), server: tap.url });
      await expect.poll(async () => (await logOf(page, "staff")).errors.length, { timeout: 20_000 }).toBe(1);
      const watch = JSON.parse(tap.sent.find((t) => t.startsWith('{"type":"watch"'))!) as { request_id: string };
      expect((await logOf(page, "staff")).errors[0]).toMatchObject({ source: "server", code: "forbidden", in_reply_to: watch.request_id });
      tap.cut();
      await expect.poll(async () => (await logOf(page, "staff")).welcomes.length, { timeout: 20_000 }).toBe(2);
      await expect.poll(async () => (await stateOf(page, "staff")).state).toBe("open");
      expect(tap.sent.filter((t) => t.startsWith('{"type":"watch"'))).toHaveLength(1);
      expect((await logOf(page, "staff")).watching).toEqual([]);
    } finally {
      await tap.close();
    }
  });

  it("reportStatus: sent at once, then at most once a second with the latest queue; a watcher sees it", async () => {
    const branch = newBranch("status");
    const tap = await startWireTap(h.server.url);
    try {
      const page = await h.page();
      await startWatching(page, "dash", await options(branch, DASH, "manager"));
      await page.evaluate((o) => {
        window.make("till", o);
        window.made.till!.client.start();
      }, { ...(await options(branch, TILL, "staff")), server: tap.url });
      await expect.poll(async () => (await stateOf(page, "till")).state, { timeout: 20_000 }).toBe("open");
      await page.evaluate(() => {
        for (let pending = 1; pending <= 5; pending++) window.made.till!.client.reportStatus({ pending, oldest_pending_age_ms: 1_000 * pending });
      });
      await expect.poll(async () => (await presence(page, "dash", TILL))?.pending, { timeout: 10_000 }).toBe(5);
      const statuses = tap.sent.filter((t) => t.startsWith('{"type":"status"')).map((t) => JSON.parse(t) as { queue: { pending: number } });
      // The first at once, the last (trailing) with the latest value; the three between were folded into it.
      expect(statuses.map((s) => s.queue.pending)).toEqual([1, 5]);
      expect((await logOf(page, "till")).errors).toEqual([]);

      // A client speaking v5 has no queue to tell: no `queue` in its hello, no `status`.
      const sentBefore = tap.sent.length;
      await page.evaluate((o) => {
        window.make("v5", o);
        window.made.v5!.client.start();
        window.made.v5!.client.reportStatus({ pending: 2, oldest_pending_age_ms: 10 });
      }, { ...(await options(branch, STAFF, "staff")), server: tap.url, protocolVersion: 5 });
      await expect.poll(async () => (await stateOf(page, "v5")).state, { timeout: 20_000 }).toBe("open");
      await page.evaluate(() => window.made.v5!.client.reportStatus({ pending: 3, oldest_pending_age_ms: 20 }));
      await page.waitForTimeout(1_500);
      const v5Frames = tap.sent.slice(sentBefore).map((t) => JSON.parse(t) as { type: string; protocol_version?: number; queue?: unknown });
      expect(v5Frames.find((m) => m.type === "hello")).toMatchObject({ protocol_version: 5 });
      expect(v5Frames.find((m) => m.type === "hello")).not.toHaveProperty("queue");
      expect(v5Frames.filter((m) => m.type === "status")).toEqual([]);
      expect((await logOf(page, "v5")).errors).toEqual([]);
    } finally {
      await tap.close();
    }
  });
});
