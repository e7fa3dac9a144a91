/**
 * Yjs on partyserver, as a peer in the benchmarks (bench/race.ts): y-partyserver's YServer with
 * the save debounce the issue names (50 ms, at most 250 ms) persisting to the object's SQLite.
 * Benchmarks only; never deployed (bench/wrangler.bench.toml).
 *
 * Persistence is the usual incremental one: each save appends the update since the last save
 * (`encodeStateAsUpdate(doc, savedVector)`), cut into pieces under the 2 MB limit of a Durable
 * Object SQLite row; loading applies them all in order. Yjs has no acknowledgement of a write, so
 * after each save the room tells every client, with y-partyserver's own custom messages, how many
 * records were in the document it saved: "A's writes are durable" is the first such message that
 * counts all of them.
 */
import { YServer } from "y-partyserver";
import * as Y from "yjs";
import { RECORDS } from "../lib/peer-names.js";

/** A DO SQLite row holds at most 2 MB; pieces stay well under it. */
const PIECE_BYTES = 1_000_000;

export class YjsRoom extends YServer {
  static override callbackOptions = { debounceWait: 50, debounceMaxWait: 250 };
  #savedVector: Uint8Array | null = null;

  override async onLoad(): Promise<void> {
    const sql = this.ctx.storage.sql;
    sql.exec("CREATE TABLE IF NOT EXISTS yjs_updates (save INTEGER NOT NULL, piece INTEGER NOT NULL, bytes BLOB NOT NULL, PRIMARY KEY (save, piece))");
    const saves = new Map<number, Uint8Array[]>();
    for (const row of sql.exec<{ save: number; bytes: ArrayBuffer }>("SELECT save, bytes FROM yjs_updates ORDER BY save, piece")) {
      const pieces = saves.get(row.save) ?? [];
      pieces.push(new Uint8Array(row.bytes));
      saves.set(row.save, pieces);
    }
    for (const pieces of saves.values()) Y.applyUpdate(this.document, concat(pieces));
    this.#savedVector = Y.encodeStateVector(this.document);
  }

  override async onSave(): Promise<void> {
    const update = Y.encodeStateAsUpdate(this.document, this.#savedVector ?? undefined);
    const records = this.document.getMap(RECORDS).size;
    this.#savedVector = Y.encodeStateVector(this.document);
    const sql = this.ctx.storage.sql;
    const save = (sql.exec<{ n: number | null }>("SELECT MAX(save) AS n FROM yjs_updates").one().n ?? 0) + 1;
    for (let at = 0, piece = 0; at < update.length; at += PIECE_BYTES, piece++) {
      sql.exec("INSERT INTO yjs_updates (save, piece, bytes) VALUES (?, ?, ?)", save, piece, update.subarray(at, at + PIECE_BYTES));
    }
    this.broadcastCustomMessage(JSON.stringify({ saved: records }));
  }
}

function concat(pieces: Uint8Array[]): Uint8Array {
  if (pieces.length === 1) return pieces[0]!;
  const out = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of pieces) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
