/**
 * TinyBase's Durable Object synchronizer, as a peer in the benchmarks (bench/race.ts): its
 * WsServerDurableObject with its Durable Object SQL persister in fragmented mode (the JSON mode
 * keeps the whole store in one row, over the 2 MB row limit at 10,000 records). Benchmarks only;
 * never deployed (bench/wrangler.bench.toml).
 *
 * TinyBase's protocol has no acknowledgement of a write, so the room answers one extra request,
 * `GET …/durable?rows=N`, when the table of records has N rows saved in SQLite: the check runs in
 * the persister's own queue after the saves queued before it, so it never runs ahead of a save.
 */
import { createMergeableStore, type MergeableStore } from "tinybase";
import { createDurableObjectSqlStoragePersister, type DurableObjectSqlStoragePersister } from "tinybase/persisters/persister-durable-object-sql-storage";
import { WsServerDurableObject } from "tinybase/synchronizers/synchronizer-ws-server-durable-object";
import { RECORDS } from "../lib/peer-names.js";


export class TinyBaseRoom extends WsServerDurableObject {
  #store: MergeableStore | null = null;
  #persister: DurableObjectSqlStoragePersister | null = null;

  override createPersister(): DurableObjectSqlStoragePersister {
    this.#store = createMergeableStore();
    this.#persister = createDurableObjectSqlStoragePersister(this.#store, this.ctx.storage.sql, { mode: "fragmented" });
    return this.#persister;
  }

  override fetch(request: Request): Response | Promise<Response> {
    const url = new URL(request.url);
    if (!url.pathname.endsWith("/durable")) return super.fetch!(request); // WsServerDurableObject has one; the base type makes it optional
    return this.#durable(Number(url.searchParams.get("rows")));
  }

  /** Answers once `rows` records are saved. Registered after the persister's own listener, so its checks queue behind the saves. */
  async #durable(rows: number): Promise<Response> {
    const store = this.#store!;
    const persister = this.#persister!;
    await new Promise<void>((resolve) => {
      let listener = "";
      const check = () => {
        const now = store.getRowCount(RECORDS);
        void persister.schedule(async () => {
          if (now < rows || listener === "") return;
          store.delListener(listener);
          listener = "";
          resolve();
        });
      };
      listener = store.addDidFinishTransactionListener(check);
      check();
    });
    return new Response(JSON.stringify({ rows }), { headers: { "content-type": "application/json" } });
  }
}
