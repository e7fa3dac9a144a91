/**
 * The storage contract the branch core is written against (durable/core/sql.ts), run against both
 * adapters: better-sqlite3 in Node (test/node/branch/sql-store.test.ts) and Durable Object SQLite in
 * workerd (test/workers/sql-store.test.ts). The core relies on exactly these behaviours; an adapter
 * that differs on one of them would make Node tests prove nothing about the Durable Object.
 *
 * Runtime-free: both vitest projects import it.
 */
import { describe, expect, it } from "vitest";
import { LAYOUT_VERSION, migrate, MIGRATIONS } from "../../../../durable/core/migrations.js";
import { migrate as runMigrations } from "../../../../sqlite/migrate.js";
import { LEDGER_SQL } from "../../../../sqlite/ledger.js";
import type { SqlStore } from "../../../../durable/core/sql.js";

export interface SqlStoreDriver {
  /** Runs `fn` on a fresh, empty store of this adapter (and disposes of it). */
  withStore<T>(fn: (store: SqlStore) => T | Promise<T>): Promise<T>;
}

export function sqlStoreContract(name: string, driver: SqlStoreDriver): void {
  const table = (sql: SqlStore) => sql.script("CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT, n INTEGER)");

  describe(`the SqlStore contract: ${name}`, () => {
    it("round-trips text, integers and null through run, one and all", () =>
      driver.withStore((sql) => {
        table(sql);
        sql.run("INSERT INTO t (id, s, n) VALUES (?, ?, ?)", 1, "ünïcödé 👍", Number.MAX_SAFE_INTEGER);
        sql.run("INSERT INTO t (id, s, n) VALUES (?, ?, ?)", 2, null, -1);
        expect(sql.one("SELECT * FROM t WHERE id = ?", 1)).toEqual({ id: 1, s: "ünïcödé 👍", n: Number.MAX_SAFE_INTEGER });
        expect(sql.all("SELECT id, s FROM t ORDER BY id")).toEqual([{ id: 1, s: "ünïcödé 👍" }, { id: 2, s: null }]);
      }));

    it("answers one with undefined and all with [] when nothing matches", () =>
      driver.withStore((sql) => {
        table(sql);
        expect(sql.one("SELECT * FROM t WHERE id = ?", 9)).toBeUndefined();
        expect(sql.all("SELECT * FROM t")).toEqual([]);
      }));

    it("names aggregate columns by their alias, and MAX of nothing is null", () =>
      driver.withStore((sql) => {
        table(sql);
        expect(sql.one("SELECT MAX(id) AS head, COUNT(*) AS n FROM t")).toEqual({ head: null, n: 0 });
      }));

    it("a transaction returns its function's value and keeps its writes", () =>
      driver.withStore((sql) => {
        table(sql);
        expect(sql.transaction(() => (sql.run("INSERT INTO t (id) VALUES (1)"), "done"))).toBe("done");
        expect(sql.all("SELECT id FROM t")).toEqual([{ id: 1 }]);
      }));

    it("a transaction whose function throws rolls back every write in it and rethrows the same error", () =>
      driver.withStore((sql) => {
        table(sql);
        sql.run("INSERT INTO t (id) VALUES (1)");
        const boom = new Error("boom");
        expect(() =>
          sql.transaction(() => {
            sql.run("INSERT INTO t (id) VALUES (2)");
            sql.run("UPDATE t SET s = 'changed' WHERE id = 1");
            throw boom;
          }),
        ).toThrow(boom);
        expect(sql.all("SELECT id, s FROM t ORDER BY id")).toEqual([{ id: 1, s: null }]);
      }));

    it("a statement that breaks a constraint throws, and inside a transaction rolls it back", () =>
      driver.withStore((sql) => {
        table(sql);
        sql.run("INSERT INTO t (id) VALUES (1)");
        expect(() => sql.run("INSERT INTO t (id) VALUES (1)")).toThrow();
        expect(() => sql.transaction(() => (sql.run("INSERT INTO t (id) VALUES (2)"), sql.run("INSERT INTO t (id) VALUES (1)")))).toThrow();
        expect(sql.all("SELECT id FROM t")).toEqual([{ id: 1 }]);
      }));

    it("runs a script of several statements", () =>
      driver.withStore((sql) => {
        sql.script("CREATE TABLE a (x INTEGER); CREATE TABLE b (y INTEGER); INSERT INTO a VALUES (1); INSERT INTO b VALUES (2);");
        expect(sql.one("SELECT (SELECT x FROM a) AS x, (SELECT y FROM b) AS y")).toEqual({ x: 1, y: 2 });
      }));

    it("takes the branch layout's migrations, once: a second run changes nothing", () =>
      driver.withStore((sql) => {
        migrate(sql);
        migrate(sql);
        expect(sql.one("SELECT value FROM meta WHERE key = 'layout_version'")).toEqual({ value: String(LAYOUT_VERSION) });
        // Append-only tables refuse changes (I6, I10) on both adapters: the triggers are SQLite's, not the adapter's.
        sql.run("INSERT INTO audit (at, kind, message) VALUES ('2026-01-01T00:00:00.000Z', 'void', 'x')");
        expect(() => sql.run("DELETE FROM audit")).toThrow();
      }));

    it("migrates a layout-6 branch to 7: its rejected verdicts become rejections in decision order, without who or what was attempted", () =>
      driver.withStore((sql) => {
        runMigrations(sql, MIGRATIONS.slice(0, 6), () => "too new");
        const entity = "01936f3c-1111-7000-8000-000000000001";
        sql.run("INSERT INTO entities (entity_id, entity_type, version, deleted, updated_seq) VALUES (?, 'project', 1, 0, 1)", entity);
        const verdict = (id: string, at: string, entityId: string, code: string) =>
          sql.run("INSERT INTO verdicts (event_id, device_id, entity_id, status, code, message, decided_at) VALUES (?, 'd1', ?, 'rejected', ?, 'm', ?)", id, entityId, code, at);
        verdict("01936f3c-4444-7000-8000-000000000001", "2026-11-25T05:00:00.000Z", entity, "version_conflict");
        verdict("01936f3c-4444-7000-8000-000000000002", "2026-11-25T04:00:00.000Z", "", "invalid_payload");
        sql.run("INSERT INTO verdicts (event_id, device_id, entity_id, status, seq, version, decided_at) VALUES ('01936f3c-4444-7000-8000-000000000003', 'd1', ?, 'confirmed', 1, 1, '2026-11-25T03:00:00.000Z')", entity);
        const order = (id: string, no: number, kind: string, device: string, total: number, day: string) =>
          sql.run(
            "INSERT INTO pos_orders (entity_id, official_receipt_no, kind, corrects_order_id, local_receipt_no, device_id, user_id, currency, total_minor, business_day, seq) VALUES (?, ?, ?, NULL, 'r', ?, 'u', 'LKR', ?, ?, ?)",
            id, no, kind, device, total, day, no,
          );
        order("o1", 1, "sale", "d1", 1_000, "2026-11-24");
        order("o2", 2, "sale", "d1", 2_500, "2026-11-24");
        order("o3", 3, "correction", "d1", -500, "2026-11-24");
        order("o4", 4, "sale", "d2", 7_000, "2026-11-25");
        sql.run("INSERT INTO pos_voids (entity_id, reason, device_id, user_id, seq) VALUES ('o2', 'mistake', 'd2', 'm', 5)");
        runMigrations(sql, MIGRATIONS.slice(0, 7), () => "too new");
        expect(sql.one("SELECT value FROM meta WHERE key = 'layout_version'")).toEqual({ value: "7" });
        // The ledger's running totals start as LEDGER_SQL computes them from the POS facts.
        expect(sql.all("SELECT * FROM ledger_days ORDER BY day, device_id, currency")).toEqual(sql.all(LEDGER_SQL, null, null));
        expect(sql.all("SELECT day, device_id, sales_count, voids_minor, net_minor FROM ledger_days ORDER BY day")).toEqual([
          { day: "2026-11-24", device_id: "d1", sales_count: 2, voids_minor: 2_500, net_minor: 500 },
          { day: "2026-11-25", device_id: "d2", sales_count: 1, voids_minor: 0, net_minor: 7_000 },
        ]);
        expect(sql.all("SELECT id, event_id, entity_type, user_id, operation, code, attempted_note FROM rejections ORDER BY id")).toEqual([
          { id: 1, event_id: "01936f3c-4444-7000-8000-000000000002", entity_type: null, user_id: null, operation: null, code: "invalid_payload", attempted_note: "decided before the branch kept attempted changes" },
          { id: 2, event_id: "01936f3c-4444-7000-8000-000000000001", entity_type: "project", user_id: null, operation: null, code: "version_conflict", attempted_note: "decided before the branch kept attempted changes" },
        ]);
        expect(sql.one("SELECT COUNT(*) AS n FROM devices")).toEqual({ n: 0 });
        expect(() => sql.run("DELETE FROM rejections")).toThrow();
      }));

    it("migrates a layout-7 branch to 8: confirmed verdicts are read from their commits, the rest keep their rows, the view lists them all", () =>
      driver.withStore((sql) => {
        runMigrations(sql, MIGRATIONS.slice(0, 7), () => "too new");
        const at = "2026-11-25T03:00:00.000Z";
        const id = (n: number) => `01936f3c-4444-7000-8000-00000000000${n}`;
        const change = (seq: number, event: string, entity: string, type: string) =>
          sql.run(
            "INSERT INTO changes (seq, event_id, device_id, user_id, entity_type, entity_id, operation, changed_fields, version, committed_at) VALUES (?, ?, 'd1', 'u', ?, ?, 'create', '[]', 1, ?)",
            seq, event, type, entity, at,
          );
        const confirmed = (event: string, entity: string, seq: number, receipt: number | null) =>
          sql.run("INSERT INTO verdicts (event_id, device_id, entity_id, status, seq, version, official_receipt_no, decided_at) VALUES (?, 'd1', ?, 'confirmed', ?, 1, ?, ?)", event, entity, seq, receipt, at);
        change(1, id(1), "p1", "project");
        confirmed(id(1), "p1", 1, null);
        change(2, id(2), "o1", "pos_order");
        sql.run("INSERT INTO pos_orders (entity_id, official_receipt_no, kind, corrects_order_id, local_receipt_no, device_id, user_id, currency, total_minor, business_day, seq) VALUES ('o1', 1, 'sale', NULL, 'r', 'd1', 'u', 'LKR', 100, '2026-11-25', 2)");
        confirmed(id(2), "o1", 2, 1);
        sql.run("INSERT INTO verdicts (event_id, device_id, entity_id, status, code, message, detail, server_version, decided_at) VALUES (?, 'd1', 'p1', 'rejected', 'version_conflict', 'm', NULL, 1, ?)", id(3), at);
        confirmed(id(4), "p2", 3, null); // no change vouches for it: kept as it was
        const before = sql.all("SELECT * FROM verdicts ORDER BY event_id");
        migrate(sql);
        expect(sql.one("SELECT value FROM meta WHERE key = 'layout_version'")).toEqual({ value: String(LAYOUT_VERSION) });
        expect(sql.all("SELECT event_id, status FROM stored_verdicts ORDER BY event_id")).toEqual([
          { event_id: id(3), status: "rejected" },
          { event_id: id(4), status: "confirmed" },
        ]);
        expect(sql.all("SELECT * FROM verdicts ORDER BY event_id")).toEqual(before);
        // Entities are read by id only: no index by type is kept up on every create.
        expect(sql.all("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entities' AND name NOT LIKE 'sqlite_autoindex%'")).toEqual([]);
      }));
  });
}
