/**
 * A refusal made before the event may write (a permission's, a dependency's) records the server's
 * version of the entity without reading its text (durable/core/decide.ts). A viewer pushing edits of
 * a project of 20,000 photos made the branch read and parse the whole project for every event
 * (workload 8, bench/attack.ts: workerd's peak went from under 200 MB to 592 MB, an honest push's p99
 * under attack from 2× to 13× its idle p99). The verdicts and what is stored with them are unchanged.
 *
 * A dependent of a refused event sends no entity back either (docs/protocol/wire.md, Verdicts): its
 * dependency's own rejection carried what the device needs, if anything. It used to carry the entity,
 * so a viewer pushing one edit after another on a refused one was sent the whole project each time.
 */
import { afterEach, describe, expect, it } from "vitest";
import { nodeSqlStore } from "../../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../../durable/core/branch.js";
import { migrate } from "../../../durable/core/migrations.js";
import type { SqlStore, SqlValue } from "../../../durable/core/sql.js";
import type { BranchId } from "../../../domain/index.js";
import { actor, asOlderLayout } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";

const OWNER = "01936f3c-0000-7000-8000-00000000a003";
const VIEWER = "01936f3c-0000-7000-8000-00000000a002";

/** The branch's store, counting the statements that read an entity's stored text. */
function countingStore() {
  const sql = nodeSqlStore(":memory:");
  let textReads = 0;
  const counts = (query: string) => /SELECT body FROM entity_versions/.test(query);
  const store: SqlStore & { close(): void } = {
    ...sql,
    all: <T>(query: string, ...params: SqlValue[]) => {
      if (counts(query)) textReads++;
      return sql.all<T>(query, ...params);
    },
    one: <T>(query: string, ...params: SqlValue[]) => {
      if (counts(query)) textReads++;
      return sql.one<T>(query, ...params);
    },
  };
  return { store, textReads: () => textReads };
}

let close = () => {};
afterEach(() => close());

describe("refusals before the event may write", () => {
  it("do not read the entity's text, and record its version as before (a replay says the same)", () => {
    const { store, textReads } = countingStore();
    close = () => store.close();
    const core = new BranchCore(store, "refusal-reads" as BranchId, () => Date.UTC(2026, 10, 25, 4), { defaultTimeZone: "UTC" });
    const f = makeEventFactory(41);
    const items = Array.from({ length: 2_000 }, (_, i) => ({
      sha256: (i * 7919).toString(16).padStart(64, "a"),
      file_name: `DSC_${String(i).padStart(5, "0")}.NEF`,
      size_bytes: 24_000_000 + i,
      note: null,
    }));
    const base = f.createProject(OWNER);
    // About 250 kB of JSON: past what a batch reads up front (push-storage.ts PREFETCH_ENTITY_CHARS).
    const project = { ...base, payload: { ...(base.payload as object), media_selection: { items } } };
    expect(core.push(actor(OWNER, "owner"), [project as never]).verdicts[0]!.status).toBe("confirmed");

    const before = textReads();
    const denied = Array.from({ length: 10 }, (_, i) => f.updateProject(VIEWER, project.entity_id, { title: `mine ${i}` }, { base: 1 }));
    // A dependent of a refused event is refused for its dependency (it is checked first), and sends no
    // entity back: its dependency's refusal (a permission's, here) left the device's copy as it was.
    const dependent = f.updateProject(VIEWER, project.entity_id, { title: "mine too" }, { dep: denied[0]!.id });
    const { verdicts } = core.push(actor(VIEWER, "viewer"), [...denied, dependent] as never);

    expect(verdicts.map((v) => (v.status === "rejected" ? v.code : v.status))).toEqual([...denied.map(() => "permission_denied"), "depends_on_rejected"]);
    expect(verdicts.every((v) => v.status === "rejected" && v.server_entity === null && v.last_change === null)).toBe(true);
    expect(textReads() - before).toBe(0);
    // The server's version is stored with each refusal, as when the text was read (replays and the dashboard read it).
    const stored = store.all<{ server_version: number | null }>(
      `SELECT server_version FROM stored_verdicts WHERE event_id IN (${[...denied, dependent].map(() => "?").join(", ")})`,
      ...[...denied, dependent].map((e) => e.id),
    );
    expect(stored.map((r) => r.server_version)).toEqual(Array(11).fill(1));
    // Exactly-once (I3): the same events again get the same verdicts, from what was stored.
    expect(core.push(actor(VIEWER, "viewer"), [...denied, dependent] as never).verdicts).toEqual(verdicts);
  });

  it("a dependent of a refused event sends nothing back, push after push (a viewer cannot make the branch send a project per push)", () => {
    const { store, textReads } = countingStore();
    close = () => store.close();
    const core = new BranchCore(store, "refusal-reads" as BranchId, () => Date.UTC(2026, 10, 25, 4), { defaultTimeZone: "UTC" });
    const f = makeEventFactory(42);
    const project = f.createProject(OWNER);
    expect(core.push(actor(OWNER, "owner"), [project]).verdicts[0]!.status).toBe("confirmed");
    const root = f.updateProject(VIEWER, project.entity_id, { title: "mine" }, { base: 1 });
    expect(core.push(actor(VIEWER, "viewer"), [root]).verdicts[0]).toMatchObject({ status: "rejected", code: "permission_denied", server_entity: null });

    const before = textReads();
    for (let i = 0; i < 5; i++) {
      const dependent = f.updateProject(VIEWER, project.entity_id, { title: `again ${i}` }, { dep: root.id });
      expect(core.push(actor(VIEWER, "viewer"), [dependent]).verdicts[0]).toMatchObject({ status: "rejected", code: "depends_on_rejected", server_entity: null, last_change: null });
    }
    expect(textReads() - before).toBe(0);
  });

  it("a stale edit's rejection brings the entity back; its dependent, pushed later, does not bring it again", () => {
    const { store } = countingStore();
    close = () => store.close();
    const core = new BranchCore(store, "refusal-reads" as BranchId, () => Date.UTC(2026, 10, 25, 4), { defaultTimeZone: "UTC" });
    const f = makeEventFactory(43);
    const project = f.createProject(OWNER);
    expect(core.push(actor(OWNER, "owner"), [project]).verdicts[0]!.status).toBe("confirmed");
    expect(core.push(actor(OWNER, "owner"), [f.updateProject(OWNER, project.entity_id, { title: "owner's" }, { base: 1 })]).verdicts[0]!.status).toBe("confirmed");

    const stale = f.updateProject(VIEWER, project.entity_id, { title: "staff's" }, { base: 1 });
    const staff = actor(VIEWER, "staff");
    const first = core.push(staff, [stale]).verdicts[0]!;
    expect(first).toMatchObject({ status: "rejected", code: "version_conflict", server_entity: { version: 2, data: { title: "owner's" } } });
    const dependent = f.updateProject(VIEWER, project.entity_id, { notes: "and a note" }, { dep: stale.id });
    const second = core.push(staff, [dependent]).verdicts[0]!;
    expect(second).toMatchObject({ status: "rejected", code: "depends_on_rejected", server_entity: null, last_change: null });
    // Replayed (I3): the verdicts first given, each in a push of its own or together.
    expect(core.push(staff, [stale]).verdicts).toEqual([first]);
    expect(core.push(staff, [dependent]).verdicts).toEqual([second]);
    expect(core.push(staff, [stale, dependent]).verdicts).toEqual([first, second]);
  });

  it("a dependent's rejection given when it carried the entity (layout 13) is replayed with it, as first given (I3)", () => {
    const { store } = countingStore();
    const f = makeEventFactory(44);
    const project = f.createProject(OWNER);
    const stale = f.updateProject(VIEWER, project.entity_id, { title: "staff's" }, { base: 1 });
    const dependent = f.updateProject(VIEWER, project.entity_id, { notes: "and a note" }, { dep: stale.id });
    const staff = actor(VIEWER, "staff");
    {
      const core = new BranchCore(store, "refusal-reads" as BranchId, () => Date.UTC(2026, 10, 25, 4), { defaultTimeZone: "UTC" });
      core.push(actor(OWNER, "owner"), [project, f.updateProject(OWNER, project.entity_id, { title: "owner's" }, { base: 1 })]);
      expect(core.push(staff, [stale]).verdicts[0]).toMatchObject({ code: "version_conflict" });
      expect(core.push(staff, [dependent]).verdicts[0]).toMatchObject({ code: "depends_on_rejected", server_entity: null });
    }
    // The same rows as a layout-13 branch stored them (the stored verdict row is the same), then migrated.
    const old = asOlderLayout(store, 13);
    store.close();
    close = () => old.close();
    migrate(old);
    const core = new BranchCore(old, "refusal-reads" as BranchId, () => Date.UTC(2026, 10, 25, 4), { defaultTimeZone: "UTC" });
    const [replayed] = core.push(staff, [dependent]).verdicts;
    expect(replayed).toMatchObject({ status: "rejected", code: "depends_on_rejected", server_entity: { version: 2, data: { title: "owner's" } }, last_change: { seq: 2 } });
    // A dependent rejected after the migration carries nothing.
    const later = f.updateProject(VIEWER, project.entity_id, { notes: "another" }, { dep: stale.id });
    expect(core.push(staff, [later]).verdicts[0]).toMatchObject({ code: "depends_on_rejected", server_entity: null, last_change: null });
    expect(() => old.run("DELETE FROM dependents_sent_entity")).toThrow(/append_only/);
  });
});
