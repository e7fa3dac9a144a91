/**
 * A desktop's reports reach the real branch (protocol v6): a real LocalStore and SyncEngine against
 * the real Worker and Durable Object under workerd. The backlog a till wrote offline is on the
 * branch's dashboard as soon as its hello is admitted, and its status says when it is sent: read as
 * a dashboard watching the branch is told it (`observed`), and as it reads it (`GET …/dashboard/devices`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DeviceBoard, PROTOCOL_VERSION } from "../../../protocol/index.js";
import { type Desktop, desktop } from "../../support/e2e.js";
import { type LocalServer, NodeClient, startServer, tokenFor } from "../../support/server.js";

const TILL = "01936f3c-0000-7000-8000-0000000005a1";
const VIEWER = "01936f3c-0000-7000-8000-0000000005a2";

let server: LocalServer;
const open: Desktop[] = [];
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => {
  open.forEach((d) => d.close());
  await server?.stop();
});

async function board(branch: string): Promise<DeviceBoard> {
  const response = await fetch(new URL(`/v1/branches/${branch}/dashboard/devices`, server.url), { headers: { Authorization: `Bearer ${await tokenFor(branch, VIEWER, "viewer")}` } });
  expect(response.status).toBe(200);
  return (await response.json()) as DeviceBoard;
}

describe("the desktop's reports on the real branch", () => {
  it("a backlog written offline is on the branch from the hello; the status after the verdicts says nothing waits", async () => {
    const branch = `status-${Date.now().toString(36)}`;
    // A dashboard watching the branch: every report of the till reaches it, in order.
    const viewer = await NodeClient.open(server, branch, VIEWER, "viewer");
    viewer.send({ type: "watch", request_id: crypto.randomUUID() });
    await viewer.next("watching");

    const till = await desktop(server, branch, TILL, "cashier", 5);
    open.push(till);
    for (let i = 0; i < 12; i++) {
      const sale = till.store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: 1_000 + i }], method: "cash", tendered_minor: null });
      expect(sale.ok).toBe(true);
    }
    expect(till.store.queueReport().pending).toBe(12);
    till.start();

    const reported: Array<number | null> = [];
    while (reported.at(-1) !== 0) {
      const observed = await viewer.next("observed", 15_000);
      const row = observed.devices.find((d) => d.device_id === TILL);
      if (row && row.pending !== reported.at(-1)) reported.push(row.pending);
    }
    viewer.close();
    // The hello's 12, then the status's 0 once the verdicts are in (nothing else in between).
    expect(reported).toEqual([12, 0]);
    await till.engine.untilDrained(30_000);
    // Caught up (its own commits pulled back), it tells its cursor too, within STATUS_MIN_INTERVAL_MS.
    let row = (await board(branch)).devices.find((d) => d.device_id === TILL)!;
    for (const deadline = Date.now() + 5_000; row.cursor !== till.store.cursor() && Date.now() < deadline; ) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      row = (await board(branch)).devices.find((d) => d.device_id === TILL)!;
    }
    expect(row).toMatchObject({ connected: true, protocol_version: PROTOCOL_VERSION, pending: 0, oldest_pending_at: null, cursor: till.store.cursor() });
    expect(row.reported_at).not.toBeNull();
  });
});
