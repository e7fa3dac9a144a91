/**
 * The benchmark Worker: StudioVault's Worker unchanged, plus the bare baseline Durable Object at
 * /baseline/<branch>/(sync|changes), and the peers of bench/race.ts: Yjs on partyserver at
 * /parties/yjs-room/<room> (partyserver's own routing) and TinyBase's Durable Object synchronizer
 * at /tinybase/<room> (its own fetch handler; /tinybase/<room>/durable is the bench's question
 * "saved yet?"). All run in the same workerd, so one run measures them all.
 */
import { routePartykitRequest } from "partyserver";
import worker, { BranchDurableObject } from "../../durable/worker.js";
import type { Env } from "../../durable/branch-do.js";

export { BranchDurableObject };
export { BaselineDurableObject } from "./baseline-do.js";
export { YjsRoom } from "./yjs-room.js";
export { TinyBaseRoom } from "./tinybase-room.js";

interface BenchEnv extends Env {
  BASELINE: DurableObjectNamespace;
  YjsRoom: DurableObjectNamespace;
  TINYBASE: DurableObjectNamespace;
}

export default {
  async fetch(request: Request, env: BenchEnv): Promise<Response> {
    const pathname = new URL(request.url).pathname;
    const baseline = /^\/baseline\/([a-z0-9-]{1,64})\/(sync|changes)$/.exec(pathname);
    if (baseline) return env.BASELINE.get(env.BASELINE.idFromName(baseline[1]!)).fetch(request);
    const tinybase = /^\/tinybase\/([a-z0-9-]{1,64})(\/durable)?$/.exec(pathname);
    if (tinybase) return env.TINYBASE.get(env.TINYBASE.idFromName(tinybase[1]!)).fetch(request);
    if (pathname.startsWith("/parties/")) return (await routePartykitRequest(request, env as never)) ?? new Response("not found", { status: 404 });
    return worker.fetch(request, env);
  },
} satisfies ExportedHandler<BenchEnv>;
