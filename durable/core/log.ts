/**
 * The branch's change log: every commit is a row of `changes` with the branch's next sequence number
 * (I4). Its head is where pushes append and what pulls page up to.
 */
import type { SqlStore } from "./sql.js";

/** The seq of the newest commit (0 for an empty branch). */
export function headSeq(sql: SqlStore): number {
  return sql.one<{ head: number | null }>("SELECT MAX(seq) AS head FROM changes")?.head ?? 0;
}
