/**
 * Pull: the commits after a sequence number, in order, paged by count and by bytes (I4, I9).
 * A page always carries at least one change, so a single change larger than the byte target still
 * moves the cursor (it is then sent in chunks).
 *
 * A page is read as JSON text (log.ts changeJson: each entity as stored, never parsed); the `changes`
 * message is built from that text for a connection, and parsed into objects only for the HTTP API and
 * older protocol versions (pullPage).
 */
import { type Change, PULL_PAGE_TARGET_BYTES, type WholeChanges } from "../../protocol/index.js";
import { changeJsonFromRow, changeRowsAfter, type DeltasFor, headSeq } from "./log.js";
import type { SqlStore } from "./sql.js";

/** Rows are read a few at a time so that a page of huge entities is never all in memory at once. */
const ROWS_PER_READ = 64;

/** A page of the log: each change as JSON text, and where the page leaves the puller. */
export interface PageText {
  changes: string[];
  cursor: number;
  head: number;
  more: boolean;
}

/** `reader`: who gets changes as deltas where the log has them (log.ts DeltasFor); null for whole changes. */
export function readPage(sql: SqlStore, since: number, limit: number, targetBytes: number = PULL_PAGE_TARGET_BYTES, reader: DeltasFor = null): PageText {
  const head = headSeq(sql);
  const changes: string[] = [];
  let bytes = 0;
  let cursor = since;
  let full = false;
  while (!full && changes.length < limit) {
    const rows = changeRowsAfter(sql, cursor, Math.min(ROWS_PER_READ, limit - changes.length), reader);
    if (rows.length === 0) break;
    for (const row of rows) {
      const json = changeJsonFromRow(sql, row, reader);
      const size = json.length;
      if (changes.length > 0 && bytes + size > targetBytes) {
        full = true;
        break;
      }
      changes.push(json);
      bytes += size;
      cursor = row.seq;
    }
  }
  return { changes, cursor, head, more: cursor < head };
}

/** The `changes` message answering a pull, as JSON text: byte for byte JSON.stringify(pullPage(…)). */
export function pageMessageText(page: PageText, requestId: string): string {
  return `{"type":"changes","request_id":${JSON.stringify(requestId)},"changes":[${page.changes.join(",")}],"cursor":${page.cursor},"head":${page.head},"more":${page.more}}`;
}

/** The `changes` message answering a pull, as objects (the HTTP API, older protocol versions). */
export function pullPage(sql: SqlStore, since: number, limit: number, requestId: string, targetBytes: number = PULL_PAGE_TARGET_BYTES): WholeChanges {
  const page = readPage(sql, since, limit, targetBytes);
  return { type: "changes", request_id: requestId, changes: page.changes.map((json) => JSON.parse(json) as Change), cursor: page.cursor, head: page.head, more: page.more };
}
