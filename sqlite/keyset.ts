/**
 * The one keyset pager: reads a table in key order, a page at a time, without OFFSET (which rereads
 * every skipped row) and without holding a statement open across yields (a Durable Object's cursor
 * and better-sqlite3's iterator both forbid writes while one is open).
 */

/**
 * Every row that `page(after)` returns, page after page: `page` reads the rows whose key is after
 * `after` (the empty string first), in key order, at most a page of them; the pager stops at an
 * empty page.
 */
export function* keysetRows<R>(page: (after: string) => readonly R[], keyOf: (row: R) => string): Generator<R> {
  for (let after = ""; ; ) {
    const rows = page(after);
    if (rows.length === 0) return;
    yield* rows;
    after = keyOf(rows[rows.length - 1]!);
  }
}
