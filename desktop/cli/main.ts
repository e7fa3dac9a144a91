/**
 * `studiovault`: the headless desktop for on-location crews, scripts and tests. The commands and
 * their flags are in registry.ts (`studiovault help` lists them, generated from the same tables;
 * `studiovault COMMAND --help` one command). Exit codes: exit-codes.ts.
 *
 * Global: --db PATH (default $STUDIOVAULT_DB or ./studiovault.sqlite), --json, --help/-h.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { LocalStore } from "../store/local-store.js";
import { UsageError } from "./args.js";
import type { Io } from "./context.js";
import { EXIT } from "./exit-codes.js";
import { fail } from "./output.js";
import { processIo } from "./process-io.js";
import { asksForHelp, commandHelp, commandNamed, helpText, runCommand, unknownCommand } from "./registry.js";

export type { Io } from "./context.js";

/** Splits off the global flags, opens the store and runs one command. Returns the exit code. */
export async function main(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const rest: string[] = [];
  let dbPath = env.STUDIOVAULT_DB ?? "studiovault.sqlite";
  let json = false;
  let dbFlagMissing = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") json = true;
    else if (a === "--db") {
      const value = argv[++i];
      if (!value) dbFlagMissing = true;
      else dbPath = value;
    } else if (a.startsWith("--db=")) dbPath = a.slice(5);
    else rest.push(a);
  }
  const usage = (message: string) => fail(io, json, EXIT.usage, { error: "usage", message });
  if (dbFlagMissing) return usage("--db: missing; expected a path to the local database file");

  // Help never opens a database: it works before `init`, and anywhere.
  const [first, second] = rest;
  if (first === undefined) {
    if (json) return usage("no command given; run `studiovault help`");
    io.out(helpText());
    return EXIT.usage;
  }
  if (first === "help" || first === "--help" || first === "-h") {
    if (first === "help" && second !== undefined) {
      const command = commandNamed(second);
      if (!command) return usage(unknownCommand(second).message);
      io.out(commandHelp(command));
    } else io.out(helpText());
    return EXIT.done;
  }
  if (asksForHelp(rest)) {
    const command = commandNamed(first);
    if (!command) return usage(unknownCommand(first).message);
    io.out(commandHelp(command));
    return EXIT.done;
  }
  if (!commandNamed(first)) return usage(unknownCommand(first).message);

  const resolved = path.resolve(dbPath);
  if (first !== "init" && !existsSync(resolved)) {
    const message = `no local database at ${resolved}: run \`studiovault init --server URL --token TOKEN\` first (or pass --db)`;
    return fail(io, json, EXIT.refused, { error: "no_database", message, path: resolved });
  }
  let store: LocalStore;
  try {
    store = LocalStore.open(resolved);
  } catch (e) {
    return fail(io, json, EXIT.refused, { error: "cannot_open", message: `cannot open ${resolved}: ${(e as Error).message}`, path: resolved });
  }
  try {
    return await runCommand(rest, { store, io, json, env });
  } catch (e) {
    if (e instanceof UsageError) {
      // A message that names its command already ("pos: expected sale, …", "lease take: …") is not named twice.
      const named = e.message.startsWith(`${first}:`) || e.message.startsWith(`${first} `);
      return fail(io, json, EXIT.usage, { error: "usage", message: named ? e.message : `${first}: ${e.message}` });
    }
    return fail(io, json, EXIT.refused, { error: "internal", message: `error: ${e instanceof Error ? e.message : String(e)}` });
  } finally {
    store.close();
  }
}

/**
 * The real process: `main` on its stdout and stderr, then waits until every byte has left before
 * handing back the exit code (process-io.ts says why). For bin.mjs and `npm run cli`.
 */
export async function runCli(argv: string[]): Promise<number> {
  const io = processIo(argv.includes("--json"));
  let code: number;
  try {
    code = await main(argv, io);
  } catch (e) {
    io.err(String(e instanceof Error ? (e.stack ?? e.message) : e));
    code = EXIT.refused;
  }
  await io.flushed();
  return code;
}

if (process.argv[1] && /desktop[\\/]cli[\\/]main\.ts$/.test(process.argv[1])) {
  void runCli(process.argv.slice(2)).then((code) => process.exit(code));
}
