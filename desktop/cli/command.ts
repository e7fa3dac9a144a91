/**
 * The shape of a `studiovault` command: its flag table, the usage lines help shows, and its handler.
 * The registry (registry.ts) dispatches on `name` and generates the help text from `flags` and
 * `usage`, so a flag cannot be added without appearing in `studiovault help`.
 */
import type { FlagTable } from "./args.js";
import type { Ctx } from "./context.js";

export interface Usage<Flag extends string = string> {
  /** The words after `studiovault`, positionals included: `conflicts resolve ID dismiss|reapply`. */
  readonly words: string;
  /** Flags this form needs, shown as `--flag VALUE`. */
  readonly required?: readonly Flag[];
  /** Flags this form takes, shown as `[--flag VALUE]`. */
  readonly optional?: readonly Flag[];
  /** What it does, for people. */
  readonly help: string;
}

export interface Command<F extends FlagTable = FlagTable> {
  /** The first word of the command line. */
  readonly name: string;
  /** Every flag the handler accepts; the handler parses `argv` against exactly this table. */
  readonly flags: F;
  readonly usage: readonly Usage<keyof F & string>[];
  /** `argv` is what follows `name`. Returns the exit code; a UsageError thrown is exit 2. */
  readonly run: (argv: string[], ctx: Ctx) => number | Promise<number>;
}

/**
 * Ties a command's usage lines to its own flag names, checked by the compiler, and hands back the
 * plain `Command` the registry lists (its handler parses with the precise table itself).
 */
export const defineCommand = <F extends FlagTable>(command: Command<F>): Command => command as unknown as Command;
