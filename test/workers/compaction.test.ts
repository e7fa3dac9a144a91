/**
 * Compaction of a branch's log inside the real Workers runtime: the Durable Object's SQLite (its
 * triggers, json_each, row values), its alarm, and the wire through the Worker (welcome, pull, HTTP).
 */
import { env, runDurableObjectAlarm, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { useCompaction } from "../../durable/branch-do.js";
import { type SyncEvent } from "../../domain/index.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, ORIGIN, tokenFor } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";

describe("compaction in the branch Durable Object", () => {
  it("after a snapshot the alarm compacts the log; welcome, pull and HTTP say so; a compacted event sent again gets its verdict, not a second commit", async () => {
    const branch = `compact-${Date.now().toString(36)}`;
    const stub = env.BRANCH.get(env.BRANCH.idFromName(branch));
    const f = makeEventFactory(44);
    const client = await connect(branch, A, "manager");
    await runInDurableObject(stub, (instance) => useCompaction(instance, { retainCommits: 0, retainMs: 0, minStepCommits: 1, sliceRows: 16 }));
    const projects = Array.from({ length: 20 }, () => f.createProject(A));
    const sale = f.sale(A, undefined, "A-1", 4_000);
    const batches: SyncEvent[][] = [[...projects, sale]];
    for (let v = 1; v <= 3; v++) batches.push(projects.map((p) => f.updateProject(A, p.entity_id, { notes: `v${v + 1}` }, { base: v })));
    const verdicts = [];
    for (const events of batches) {
      client.send({ type: "push", batch_id: newId(), events });
      verdicts.push(...(await client.next("verdicts", { skip: true })).verdicts);
    }
    expect(verdicts.every((v) => v.status === "confirmed")).toBe(true);
    const auth = { Authorization: `Bearer ${await tokenFor(branch, A, "manager")}` };
    const created = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/snapshots`, { method: "POST", headers: auth });
    expect(created.status).toBe(201);
    // The export asked for the alarm at once: it compacts (miniflare may already have run it).
    await runDurableObjectAlarm(stub);
    const read = () => runInDurableObject(stub, (instance) => ({ through: instance.core.compactedThrough(), head: instance.core.head(), due: instance.core.compactionDue() }));
    // The alarm yields between slices: one miniflare started on its own may still be running.
    for (let i = 0; i < 50 && (await read()).due; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await read()).toEqual({ through: 81, head: 81, due: false });

    // The Durable Object's SQLite refuses any other delete, and keeps each entity's current version.
    const refused = await runInDurableObject(stub, (_, ctx) => {
      const attempt = (query: string) => {
        try {
          ctx.storage.sql.exec(query).toArray();
          return "deleted";
        } catch (error) {
          return String(error).includes("append_only") ? "refused" : String(error);
        }
      };
      const rows = ctx.storage.sql.exec("SELECT COUNT(*) AS n FROM changes").one().n;
      return { changes: attempt("DELETE FROM changes"), versions: attempt("DELETE FROM entity_versions"), rows };
    });
    expect(refused).toEqual({ changes: "refused", versions: "refused", rows: 21 });

    // A v9 device below the point is told so, and its pull is refused (non-fatal, naming it).
    const behind = await connect(branch, B, "staff", 5);
    const pullId = crypto.randomUUID();
    behind.send({ type: "pull", request_id: pullId, since: 5, limit: 100 });
    expect(await behind.next("error", { skip: true })).toMatchObject({ code: "history_compacted", fatal: false, in_reply_to: pullId });
    behind.send({ type: "pull", request_id: pullId, since: 81, limit: 100 });
    expect(await behind.next("changes", { skip: true })).toMatchObject({ cursor: 81, more: false, changes: [] });
    behind.close();
    const http = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/changes?since=0`, { headers: auth });
    expect(http.status).toBe(410);
    expect(await http.json()).toMatchObject({ error: "history_compacted", compacted_through: 81 });

    // Exactly-once across compaction (I3): the first batch's events were compacted out of the log.
    client.send({ type: "push", batch_id: newId(), events: batches[0]!.slice(0, 3).concat([sale]) });
    expect((await client.next("verdicts", { skip: true })).verdicts).toEqual([...verdicts.slice(0, 3), verdicts[20]]);
    expect(await runInDurableObject(stub, (instance) => instance.core.head())).toBe(81);
    const audit = (await (await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/audit?limit=1000`, { headers: auth })).json()) as { entries: Array<{ kind: string; message: string }> };
    expect(audit.entries.filter((e) => e.kind === "compaction").map((e) => e.message)).toEqual([
      expect.stringContaining("compaction started: commits through seq 81 leave the log"),
      expect.stringMatching(/compaction through seq 81 done: 60 changes and 60 entity version parts removed/),
    ]);
    client.close();
  });
});
