/** What every `studiovault` command runs with: the open local store, where output goes, and the environment. */
import type { StoreConfig } from "../store/context.js";
import type { LocalStore } from "../store/local-store.js";
import { UsageError } from "./args.js";

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
  /**
   * A status line redrawn in place while a long command runs (`sync`): given only when stderr is a
   * terminal and not under --json, so a pipe or a script never sees it. `final` ends the line.
   */
  progress?: (line: string, final?: boolean) => void;
}

export interface Ctx {
  store: LocalStore;
  io: Io;
  /** `--json`: one JSON value per result on `out` instead of words. */
  json: boolean;
  env: NodeJS.ProcessEnv;
}

/** The database's binding to a branch and device; a usage error (exit 2) before `init`. */
export function configOf(ctx: Ctx): StoreConfig {
  const cfg = ctx.store.config();
  if (!cfg) throw new UsageError("not initialised: run `studiovault init --server URL --token TOKEN`");
  return cfg;
}
