/**
 * The benchmark Worker: StudioVault's Worker unchanged, plus the bare baseline Durable Object at
 * /baseline/<branch>/(sync|changes). Both run in the same workerd, so one run measures both.
 */
import worker, { BranchDurableObject } from "../../durable/worker.js";
import type { Env } from "../../durable/branch-do.js";

export { BranchDurableObject };
export { BaselineDurableObject } from "./baseline-do.js";

interface BenchEnv extends Env {
  BASELINE: DurableObjectNamespace;
}

export default {
  fetch(request: Request, env: BenchEnv): Response | Promise<Response> {
    const match = /^\/baseline\/([a-z0-9-]{1,64})\/(sync|changes)$/.exec(new URL(request.url).pathname);
    if (match) return env.BASELINE.get(env.BASELINE.idFromName(match[1]!)).fetch(request);
    return worker.fetch(request, env);
  },
} satisfies ExportedHandler<BenchEnv>;
