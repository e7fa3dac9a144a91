/** The bindings `cloudflare:test`'s `env` exposes: the Worker's own. */
import type { Env as WorkerEnv } from "../../durable/branch-do.js";

declare global {
  namespace Cloudflare {
    interface Env extends WorkerEnv {}
  }
}
