/**
 * TinyBase in the race: a MergeableStore with TinyBase's WebSocket synchronizer (over `ws`) to its
 * Durable Object synchronizer, each record a row of one table, A writing each batch in one
 * transaction. Clients keep the store in memory (no local persistence).
 * A's writes are durable when the room answers that its SQLite has them all
 * (bench/baseline/tinybase-room.ts: TinyBase's protocol has no acknowledgement).
 */
import { createMergeableStore, type Row } from "tinybase";
import { createWsSynchronizer, type WsSynchronizer } from "tinybase/synchronizers/synchronizer-ws-client";
import { WebSocket } from "ws";
import { benchProject } from "../../lib/payload.js";
import { RECORDS } from "../../lib/peer-names.js";
import { Waiters } from "../../lib/waiters.js";
import { batches, now, type RaceDevice, tick } from "./race-device.js";

/**
 * A record as one row of one cell, its JSON text: like the Yjs client's map entry, the record is
 * one value of the CRDT. (Its fields as nine cells, each with its own clock stamp and hash, took
 * about three times as long on this machine: 14.5 s against 5.0 s for A's 10,000 records to be
 * durable, one run each, with the other cores' load alike.)
 */
/**
 * How long a synchronizer request waits for an answer. TinyBase's default, 1 s, drops a request
 * silently when it expires and never asks again: on this loaded 2-core machine a cold device's
 * row diff of 10,000 rows sometimes took longer, and that device never got the rows.
 */
const REQUEST_TIMEOUT_S = 30;

const row = (i: number): Row => ({ json: JSON.stringify(benchProject(i)) });

export class TinyBaseRace implements RaceDevice {
  readonly #w = new Waiters();
  readonly #store = createMergeableStore();
  #synchronizer: WsSynchronizer<WebSocket> | null = null;

  constructor(
    readonly server: string,
    readonly room: string,
  ) {
    this.#store.addDidFinishTransactionListener(() => this.#w.poke());
  }

  #url(path = ""): URL {
    const url = new URL(`/tinybase/${this.room}${path}`, this.server);
    return url;
  }

  async #connect(): Promise<void> {
    const url = this.#url();
    url.protocol = "ws:";
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => ws.once("open", () => resolve()).once("error", reject));
    this.#synchronizer = await createWsSynchronizer(this.#store, ws, REQUEST_TIMEOUT_S);
    await this.#synchronizer.startSync();
  }

  async live() {
    await this.#connect();
  }

  async write(n: number, batch: number) {
    const first_at = now();
    // Asked first, answered when the room's SQLite has all n rows.
    const durable = fetch(this.#url(`/durable?rows=${n}`)).then(async (r) => {
      if (!r.ok) throw new Error(`durable? ${r.status} ${await r.text()}`);
      return now();
    });
    for (const [start, end] of batches(n, batch)) {
      this.#store.transaction(() => {
        for (let i = start; i < end; i++) this.#store.setRow(RECORDS, crypto.randomUUID(), row(i));
      });
      await tick();
    }
    return { first_at, durable_at: await durable };
  }

  async has(n: number) {
    await this.#w.wait(() => this.#store.getRowCount(RECORDS) >= n);
    return { at: now() };
  }

  async join(n: number) {
    const start = now();
    await this.#connect();
    await this.#w.wait(() => this.#store.getRowCount(RECORDS) >= n);
    return { start, end: now() };
  }

  close() {
    void this.#synchronizer?.destroy();
  }
}
