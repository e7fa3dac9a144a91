/**
 * Protocol v11 inside workerd: a connection whose hello said `echo: false` is not sent its own pushes'
 * commits in `live` (its verdicts stand for them); every other connection, one that left `echo` out,
 * and every v1-v10 client is sent them as before; commits made over HTTP reach every connection.
 * docs/protocol/wire.md, "Live and poke".
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { ConfirmedVerdict, ServerMessage } from "../../protocol/index.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, ORIGIN, type TestClient, tokenFor } from "./support.js";

let n = 0;
const fresh = () => `echo-${Date.now().toString(36)}-${++n}`;

/**
 * Every message the client is sent up to the `pong` for a `ping` sent now: the server handles a
 * connection's frames in order and sends each connection's messages in order, so what a push set off
 * arrives before it.
 */
async function untilPong(client: TestClient, nonce: number): Promise<ServerMessage[]> {
  client.send({ type: "ping", nonce });
  const seen: ServerMessage[] = [];
  for (;;) {
    const message = await client.next();
    if (message.type === "pong" && message.nonce === nonce) return seen;
    seen.push(message);
  }
}

describe("own commits by verdict (v11)", () => {
  it("a pusher that said echo: false gets its verdicts and not its own commits; the others get them live", async () => {
    const branch = fresh();
    const f = makeEventFactory(41);
    const [quiet, listener, echoed, old] = [newId(), newId(), newId(), newId()];
    const a = await connect(branch, quiet, "owner", 0, { echo: false });
    const b = await connect(branch, listener, "owner");
    const c = await connect(branch, echoed, "owner", 0, { echo: true });
    // A v10 client cannot ask: a v10 hello's echo is ignored, and it is sent its own commits.
    const d = await connect(branch, old, "owner", 0, { protocol_version: 10, echo: false });

    const events = [f.createProject(quiet), f.createProject(quiet), f.sale(quiet)];
    a.send({ type: "push", batch_id: newId(), events });
    const toA = await untilPong(a, 1);
    expect(toA.map((m) => m.type)).toEqual(["verdicts"]);
    const verdicts = (toA[0] as Extract<ServerMessage, { type: "verdicts" }>).verdicts as ConfirmedVerdict[];
    expect(verdicts.map((v) => [v.status, v.seq])).toEqual([
      ["confirmed", 1],
      ["confirmed", 2],
      ["confirmed", 3],
    ]);
    for (const other of [b, c, d]) {
      const live = await other.next("live");
      expect(live.changes.map((ch) => [ch.seq, ch.event_id])).toEqual(events.map((e, i) => [i + 1, e.id]));
    }

    // Those that left echo on get their own commits back after their verdicts; A gets them live.
    for (const [client, device] of [
      [c, echoed],
      [d, old],
    ] as const) {
      const own = f.createProject(device);
      client.send({ type: "push", batch_id: newId(), events: [own] });
      // (d was sent c's commit live first.)
      expect((await client.next("verdicts", { skip: true })).verdicts[0]).toMatchObject({ status: "confirmed" });
      expect((await client.next("live")).changes.map((ch) => ch.event_id)).toEqual([own.id]);
      expect((await a.next("live", { skip: true })).changes.map((ch) => ch.event_id)).toEqual([own.id]);
    }

    // A commit made over HTTP has no pushing connection: A is sent it, though its device made it.
    const overHttp = f.createProject(quiet);
    const response = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/push?protocol_version=11`, {
      method: "POST",
      headers: { Authorization: `Bearer ${await tokenFor(branch, quiet, "owner")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ type: "push", batch_id: newId(), events: [overHttp] }),
    });
    expect(response.status).toBe(200);
    expect((await a.next("live", { skip: true })).changes.map((ch) => ch.event_id)).toEqual([overHttp.id]);
    for (const client of [a, b, c, d]) client.close();
  });
});
