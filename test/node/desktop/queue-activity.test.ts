/**
 * The queue as the Sync activity view and `studiovault queue` read it (queue-read.ts): by kind of
 * record and by state, in send order or newest first, a page at a time with the total, each change
 * with its record's name. Real SQLite files; the kind filter is read from queue_by_type (layout 5).
 */
import { describe, expect, it } from "vitest";
import { inspectStore } from "../../../desktop/store/inspect.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import Database from "better-sqlite3";
import { queueStatements } from "../../../desktop/store/queue-read.js";
import { corruptQueuedPayload, rewindToLayout1 } from "../../../desktop/store/testing.js";
import type { ProjectData } from "../../../domain/index.js";
import { openStore, tempDbPath } from "../../support/desktop.js";
import { newProject } from "../../../desktop/renderer/defaults.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";

const project = (title: string): ProjectData => newProject(title, "Client");

function must<T>(r: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!r.ok) throw new Error(r.error.message);
  return r.value;
}

/** 300 sales with a project every 30 (10 projects, each then edited once), the first 45 events sent. */
async function seeded(path = tempDbPath("queue-activity")) {
  const { store } = await openStore({ device: A, role: "manager", path });
  const projects: string[] = [];
  for (let i = 0; i < 300; i++) {
    must(store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Print", quantity: 1, unit_price_minor: 100 }], method: "cash", tendered_minor: null }));
    if (i % 30 === 0) projects.push(must(store.createProject(project(`Project ${projects.length + 1}`))).entity.entity_id);
  }
  for (const id of projects) must(store.updateProject(id, { notes: "edited" }));
  expect(store.nextBatch(45)?.events).toHaveLength(45);
  return { store, projects };
}

describe("the queue by kind and state", () => {
  it("filters by kind, by kind and state, in either order, with the total over every page", async () => {
    const { store } = await seeded();
    const all = store.queue({ limit: 1_000 });
    expect(all.total).toBe(320);
    const sales = store.queue({ entity_type: "pos_order", limit: 50, offset: 250 });
    expect(sales.total).toBe(300);
    expect(sales.events.map((e) => e.name)).toEqual(Array.from({ length: 50 }, (_, i) => `D00A1-${String(251 + i).padStart(6, "0")}`));
    expect(sales.events.every((e) => e.entity_type === "pos_order")).toBe(true);

    // Newest first: the edits (written last), the last project's first.
    const newest = store.queue({ entity_type: "project", newest_first: true, limit: 3 });
    expect(newest.total).toBe(20);
    expect(newest.events.map((e) => [e.operation, e.name])).toEqual([
      ["update", "Project 10"],
      ["update", "Project 9"],
      ["update", "Project 8"],
    ]);
    expect(newest.events.map((e) => e.position)).toEqual([320, 319, 318]);

    // Sent, of one kind: the first 45 events held 2 projects (written after sales 1 and 31) and 43 sales.
    expect(store.queue({ entity_type: "project", status: "sent", limit: 10 })).toMatchObject({ total: 2, events: [{ name: "Project 1" }, { name: "Project 2" }] });
    expect(store.queue({ entity_type: "pos_order", status: "sent", limit: 1 }).total).toBe(43);
    expect(store.queue({ entity_type: "invoice", status: "pending", limit: 10 })).toEqual({ events: [], total: 0 });
    // Past the end: no rows, the total still said.
    expect(store.queue({ entity_type: "pos_order", limit: 10, offset: 300 })).toEqual({ events: [], total: 300 });
    store.close();
  });

  it("names a deleted project from its create event, and gives no name rather than failing on a payload it cannot read", async () => {
    const { store } = await openStore({ device: A, role: "manager" });
    const kept = must(store.createProject(project("Wedding Silva"))).entity.entity_id;
    const gone = must(store.createProject(project("Perera engagement"))).entity.entity_id;
    const created = store.queue({ limit: 10 }).events[1]!;
    must(store.deleteProject(gone, "cancelled"));
    must(store.deleteProject(kept, "cancelled"));
    expect(store.queue({ newest_first: true, limit: 2 }).events.map((e) => [e.operation, e.name])).toEqual([
      ["delete", "Wedding Silva"],
      ["delete", "Perera engagement"],
    ]);
    corruptQueuedPayload(store, created.event_id, "{not json");
    const names = store.queue({ entity_type: "project", limit: 10 }).events.map((e) => [e.entity_id, e.operation, e.name]);
    expect(names).toEqual([
      [kept, "create", "Wedding Silva"],
      [gone, "create", null],
      [gone, "delete", null],
      [kept, "delete", "Wedding Silva"],
    ]);
    store.close();
  });

  it("a database from before layout 5 gets queue_by_type, and reads by kind from it", async () => {
    const path = tempDbPath("queue-layout");
    const { store } = await seeded(path);
    store.close();
    rewindToLayout1(path);
    expect(inspectStore(path, (i) => i.layout().indexes)).not.toContain("queue_by_type");
    const upgraded = LocalStore.open(path);
    expect(inspectStore(path, (i) => i.layout().indexes)).toContain("queue_by_type");
    expect(upgraded.queue({ entity_type: "project", limit: 1 }).total).toBe(20);
    upgraded.close();
  });

  it("reads a page without walking the queue: by kind from queue_by_type, the page's rows only after its positions", async () => {
    const { store } = await seeded();
    const path = store.path;
    store.close();
    const db = new Database(path, { readonly: true });
    const plan = (s: { sql: string; params: object }) => (db.prepare(`EXPLAIN QUERY PLAN ${s.sql}`).all(s.params) as Array<{ detail: string }>).map((r) => r.detail);
    try {
      const kinds = [{ entity_type: "project" as const }, { entity_type: "project" as const, status: "pending" as const }, { entity_type: "project" as const, status: "sent" as const }];
      for (const query of kinds) {
        for (const newest_first of [true, false]) {
          const { page, count } = queueStatements({ ...query, newest_first, limit: 50, offset: 0 });
          // The kind's entries in position order (pending and sent: on either side of the batches' end),
          // the state read from the index: nothing sorted, no row read.
          expect(plan(page).join(" ")).toMatch(/SEARCH sync_queue USING COVERING INDEX queue_by_type \(entity_type=\?( AND position[<>]\?)?\)/);
          expect(plan(page)).not.toContain("USE TEMP B-TREE FOR ORDER BY");
          expect(plan(count).join(" ")).toMatch(/USING COVERING INDEX queue_by_type \(entity_type=\?/);
        }
      }
      // Every filter: the page's positions first (a co-routine), then one primary-key lookup per row;
      // never a scan of the queue's rows to satisfy the order (a plain JOIN planned that: 40 ms a page at 30,000).
      for (const query of [{}, { status: "pending" as const }, { status: "sent" as const }, { entity_type: "pos_order" as const }]) {
        const steps = plan(queueStatements({ ...query, newest_first: true, limit: 50, offset: 0 }).page);
        expect(steps[0]).toBe("CO-ROUTINE page");
        expect(steps).toContain("SEARCH q USING INTEGER PRIMARY KEY (rowid=?)");
        expect(steps).not.toContain("SCAN q");
      }
    } finally {
      db.close();
    }
  });
});
