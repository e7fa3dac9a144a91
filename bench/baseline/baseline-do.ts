/**
 * The bare baseline: the least a Durable Object can do for sync. Each record a client pushes is
 * inserted into DO SQLite and forwarded to the other sockets; a paged read returns records after a
 * sequence number. No validation, no versions, no permissions, no verdicts, no audit: the limit of
 * the platform on this machine, measured in the same run as StudioVault so every figure is also a
 * ratio. Benchmarks only; never deployed (bench/wrangler.bench.toml).
 *
 *   client → {"type":"push","batch_id":"…","records":[{…}, …]}
 *   client ← {"type":"ack","batch_id":"…","head":N}              (after the inserts are durable)
 *   others ← {"type":"live","changes":[{"seq":N,"record":{…}}, …]}
 *   client → {"type":"pull","since":N,"limit":L}
 *   client ← {"type":"changes","changes":[…],"more":true|false}
 *
 * Like the branch Durable Object it uses the hibernation WebSocket API, and records are stored and
 * sent as the JSON text they arrived as (no parse/re-serialise per record on the way out).
 */
import { DurableObject } from "cloudflare:workers";

export class BaselineDurableObject extends DurableObject {
  constructor(ctx: DurableObjectState, env: unknown) {
    super(ctx, env as never);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS log (seq INTEGER PRIMARY KEY, body TEXT NOT NULL)");
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (request.headers.get("upgrade") === "websocket") {
      const pair = new WebSocketPair();
      this.ctx.acceptWebSocket(pair[1]);
      return new Response(null, { status: 101, webSocket: pair[0] });
    }
    if (url.pathname.endsWith("/changes")) {
      const since = Number(url.searchParams.get("since") ?? 0);
      const limit = Math.min(Number(url.searchParams.get("limit") ?? 1000), 1000);
      return new Response(this.#page(since, limit), { headers: { "content-type": "application/json" } });
    }
    return new Response("not found", { status: 404 });
  }

  override webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): void {
    const m = JSON.parse(typeof message === "string" ? message : new TextDecoder().decode(message)) as
      | { type: "push"; batch_id: string; records: unknown[] }
      | { type: "pull"; since: number; limit: number };
    if (m.type === "pull") {
      ws.send(this.#page(m.since, Math.min(m.limit, 1000)));
      return;
    }
    const sql = this.ctx.storage.sql;
    const changes: string[] = [];
    let head = 0;
    for (const record of m.records) {
      const body = JSON.stringify(record);
      head = sql.exec<{ seq: number }>("INSERT INTO log (body) VALUES (?) RETURNING seq", body).one().seq;
      changes.push(`{"seq":${head},"record":${body}}`);
    }
    ws.send(`{"type":"ack","batch_id":${JSON.stringify(m.batch_id)},"head":${head}}`);
    const live = `{"type":"live","changes":[${changes.join(",")}]}`;
    for (const other of this.ctx.getWebSockets()) if (other !== ws) other.send(live);
  }

  override webSocketClose(ws: WebSocket, code: number): void {
    ws.close(code === 1005 ? 1000 : code, "bye");
  }

  #page(since: number, limit: number): string {
    const rows = this.ctx.storage.sql.exec<{ seq: number; body: string }>("SELECT seq, body FROM log WHERE seq > ? ORDER BY seq LIMIT ?", since, limit + 1).toArray();
    const more = rows.length > limit;
    const page = rows.slice(0, limit).map((r) => `{"seq":${r.seq},"record":${r.body}}`);
    return `{"type":"changes","changes":[${page.join(",")}],"more":${more}}`;
  }
}
