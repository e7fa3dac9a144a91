/** A branch core on a real SQLite database (better-sqlite3) with a controllable clock. */
import type { BranchId, DeviceId, Role, UserId } from "../../domain/index.js";
import { nodeSqlStore } from "../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../durable/core/branch.js";
import { MIGRATIONS } from "../../durable/core/migrations.js";
import type { Actor } from "../../durable/core/push.js";
import type { SqlStore } from "../../durable/core/sql.js";
import { migrate as runMigrations } from "../../sqlite/migrate.js";

export function makeCore(path = ":memory:", opts: { timeZone?: string; nowMs?: number } = {}) {
  let nowMs = opts.nowMs ?? Date.UTC(2026, 10, 25, 4, 0, 0);
  const sql = nodeSqlStore(path);
  const core = new BranchCore(sql, "test-branch" as BranchId, () => nowMs, { defaultTimeZone: opts.timeZone ?? "UTC" });
  return {
    core,
    sql,
    advance: (ms: number) => void (nowMs += ms),
    close: () => sql.close(),
  };
}

export const actor = (device: string, role: Role = "owner", user = "u-" + device.slice(-4)): Actor => ({
  device_id: device as DeviceId,
  user_id: user as UserId,
  role,
});

export const DEVICES = {
  A: "01936f3c-0000-7000-8000-0000000000a1",
  B: "01936f3c-0000-7000-8000-0000000000b2",
  C: "01936f3c-0000-7000-8000-0000000000c3",
} as const;

/**
 * A copy of `from` as an older layout stored it: the first `layout` migrations, and every row of the
 * tables that layout has, but `skip`, in only the columns it has (later layouts add some, e.g. layout
 * 10's changes.delta). Layout 13 dropped `entities`, each entity's pointer at its last change's
 * version: an older layout's is rebuilt from that change. Close it when done.
 */
export function asOlderLayout(from: SqlStore, layout: number, skip: readonly string[] = []): SqlStore & { close(): void } {
  const to = nodeSqlStore(":memory:");
  runMigrations(to, MIGRATIONS.slice(0, layout), () => "too new");
  const tables = to.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('meta', 'sqlite_sequence')");
  for (const { name } of tables) {
    if (skip.includes(name)) continue;
    const columns = to.all<{ name: string }>(`SELECT name FROM pragma_table_info('${name}')`).map((c) => c.name);
    const source =
      name === "entities"
        ? "(SELECT entity_id, entity_type, version, operation = 'delete' AS deleted, seq AS updated_seq FROM changes c WHERE seq = (SELECT MAX(seq) FROM changes WHERE entity_id = c.entity_id))"
        : name;
    for (const row of from.all<Record<string, string | number | null>>(`SELECT ${columns.join(", ")} FROM ${source}`)) {
      to.run(`INSERT INTO ${name} (${columns.join(", ")}) VALUES (${columns.map(() => "?").join(", ")})`, ...columns.map((c) => row[c]!));
    }
  }
  return to;
}
