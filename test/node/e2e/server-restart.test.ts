/**
 * The real server under `wrangler`'s workerd from Node, over real WebSockets on 127.0.0.1:
 * state survives a restart of the server with the same persistence directory.
 */
import { afterAll, describe, expect, it } from "vitest";
import { makeEventFactory } from "../../support/events.js";
import { type LocalServer, NodeClient, startServer } from "../../support/server.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
let server: LocalServer | null = null;
afterAll(async () => server?.stop());

describe("a restarted server", () => {
  it("keeps every commit and every verdict across a restart with the same persisted state", async () => {
    const f = makeEventFactory(11);
    server = await startServer();
    const events = [f.createProject(A), f.sale(A), f.sale(A)];
    const push = { type: "push", batch_id: f.nextId(), events };
    const before = await NodeClient.open(server, "restart-branch", A);
    before.send(push);
    const verdicts = (await before.next("verdicts")).verdicts;
    expect(verdicts.map((v) => v.status)).toEqual(["confirmed", "confirmed", "confirmed"]);
    before.close();
    const dir = server.persistDir;
    await server.stop({ keepState: true });

    server = await startServer(dir);
    const after = await NodeClient.open(server, "restart-branch", A);
    after.send({ type: "pull", request_id: crypto.randomUUID(), since: 0, limit: 100 });
    const page = await after.next("changes");
    expect(page.changes.map((c) => c.event_id)).toEqual(events.map((e) => e.id));
    after.send(push);
    expect((await after.next("verdicts")).verdicts).toEqual(verdicts);
    after.close();
  }, 60_000);

  it("checks events with compiled schemas, after a restart too: workerd lets the module compile them while it loads", async () => {
    // A workerd that refused code generation at start-up (a compatibility date before 2025-06-01, a
    // runtime change) would leave the branch on zod's runtime parser: slower, and silent but for this.
    const health = async (s: LocalServer) => (await (await fetch(new URL("/health", s.url))).json()) as { event_schemas: string };
    server ??= await startServer();
    expect((await health(server)).event_schemas).toBe("compiled");
    const dir = server.persistDir;
    await server.stop({ keepState: true });
    server = await startServer(dir);
    expect((await health(server)).event_schemas).toBe("compiled");
  }, 60_000);
});
