/**
 * `studiovault`: the headless desktop for on-location crews, scripts and tests. The commands and
 * their flags are in registry.ts (`studiovault help` lists them, generated from the same tables).
 *
 * Global: --db PATH (default $STUDIOVAULT_DB or ./studiovault.sqlite), --json.
 * Exit codes: 0 done, 1 refused (a write the rules refuse, sync stopped, the server said no),
 * 2 bad arguments, 3 timed out or server unreachable.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { LocalStore } from "../store/local-store.js";
import { UsageError } from "./args.js";
import type { Io } from "./context.js";
import { helpText, runCommand } from "./registry.js";

export type { Io } from "./context.js";

/** Splits off the global flags, opens the store and runs one command. Returns the exit code. */
export async function main(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const rest: string[] = [];
  let dbPath = env.STUDIOVAULT_DB ?? "studiovault.sqlite";
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") json = true;
    else if (a === "--db") {
      const value = argv[++i];
      if (!value) {
        io.err("--db: missing; expected a path to the local database file");
        return 2;
      }
      dbPath = value;
    } else if (a.startsWith("--db=")) dbPath = a.slice(5);
    else rest.push(a);
  }
  if (rest.length === 0 || rest[0] === "help" || rest[0] === "--help") {
    io.out(helpText());
    return rest.length === 0 ? 2 : 0;
  }
  const resolved = path.resolve(dbPath);
  if (rest[0] !== "init" && !existsSync(resolved)) {
    io.err(`no local database at ${resolved}: run \`studiovault init --server URL --token TOKEN\` first (or pass --db)`);
    return 1;
  }
  let store: LocalStore;
  try {
    store = LocalStore.open(resolved);
  } catch (e) {
    io.err(`cannot open ${resolved}: ${(e as Error).message}`);
    return 1;
  }
  try {
    return await runCommand(rest, { store, io, json, env });
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${rest[0]}: ${e.message}`);
      return 2;
    }
    io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  } finally {
    store.close();
  }
}

if (process.argv[1] && /desktop[\\/]cli[\\/]main\.ts$/.test(process.argv[1])) {
  main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) }).then(
    (code) => process.exit(code),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
