/**
 * Pull: the commits after a sequence number, in order, paged by count and by bytes (I4, I9).
 * A page always carries at least one change, so a single change larger than the byte target still
 * moves the cursor (it is then sent in chunks).
 */
import { type Change, PULL_PAGE_TARGET_BYTES, type Changes } from "../../protocol/index.js";
import { changeFromRow, changeRowsAfter, headSeq } from "./log.js";
import type { SqlStore } from "./sql.js";

/** Rows are read a few at a time so that a page of huge entities is never all in memory at once. */
const ROWS_PER_READ = 64;

export function pullPage(
  sql: SqlStore,
  since: number,
  limit: number,
  requestId: string,
  targetBytes: number = PULL_PAGE_TARGET_BYTES,
): Changes {
  const head = headSeq(sql);
  const changes: Change[] = [];
  let bytes = 0;
  let cursor = since;
  let full = false;
  while (!full && changes.length < limit) {
    const rows = changeRowsAfter(sql, cursor, Math.min(ROWS_PER_READ, limit - changes.length));
    if (rows.length === 0) break;
    for (const row of rows) {
      const change = changeFromRow(sql, row);
      const size = JSON.stringify(change).length;
      if (changes.length > 0 && bytes + size > targetBytes) {
        full = true;
        break;
      }
      changes.push(change);
      bytes += size;
      cursor = row.seq;
    }
  }
  return { type: "changes", request_id: requestId, changes, cursor, head, more: cursor < head };
}
