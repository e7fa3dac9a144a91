/**
 * Every `studiovault` command, in the order help lists them. The dispatcher, the help text and each
 * command's own `--help` are all made from this list and each command's flag table, so they cannot
 * drift apart.
 */
import { flagHelpLines, flagSynopsis, type FlagTable, UsageError } from "./args.js";
import type { Command } from "./command.js";
import { conflicts } from "./commands/conflicts.js";
import { day } from "./commands/day.js";
import { device, devices } from "./commands/devices.js";
import { init } from "./commands/init.js";
import { invoice } from "./commands/invoice.js";
import { lease } from "./commands/lease.js";
import { ledger } from "./commands/ledger.js";
import { pos } from "./commands/pos.js";
import { project } from "./commands/project.js";
import { queue } from "./commands/queue.js";
import { settings } from "./commands/settings.js";
import { snapshot } from "./commands/snapshot.js";
import { status } from "./commands/status.js";
import { signin } from "./commands/signin.js";
import { sync, watch } from "./commands/sync.js";
import type { Ctx } from "./context.js";
import { EXIT_CODE_LINES } from "./exit-codes.js";

export const COMMANDS: readonly Command[] = [init, signin, status, sync, watch, queue, conflicts, ledger, day, snapshot, devices, device, settings, lease, project, pos, invoice];

/** Flags that go anywhere on the command line, taken off by main.ts before a command sees the rest. */
export const GLOBAL_FLAGS = {
  db: { type: "string", value: "PATH", help: "the local database file (default $STUDIOVAULT_DB or ./studiovault.sqlite)" },
  json: { type: "boolean", help: "machine-readable output: one JSON value per result; every error is {\"ok\":false,\"error\":CODE,\"message\":…}" },
  help: { type: "boolean", short: "h", help: "this help; after a command, that command's usage (opens no database)" },
} as const satisfies FlagTable;

const FOOTER = ["Amounts are in major units with up to two decimals (1500.50).", "", "exit codes:", ...EXIT_CODE_LINES.map((l) => `  ${l}`)].join("\n");

export const commandNamed = (name: string): Command | undefined => COMMANDS.find((c) => c.name === name);

/**
 * Whether `argv` (after the global flags) asks for help: `--help` or `-h` anywhere before a `--`.
 * Decided before the database is opened, so help works anywhere, database or not.
 */
export function asksForHelp(argv: readonly string[]): boolean {
  const end = argv.indexOf("--");
  return (end === -1 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/** Runs the command `argv[0]` with the rest of `argv`. An unknown command is a usage error (exit 2). */
export function runCommand(argv: string[], ctx: Ctx): number | Promise<number> {
  const [name, ...rest] = argv as [string, ...string[]];
  const command = commandNamed(name);
  if (!command) throw unknownCommand(name);
  return command.run(rest, ctx);
}

export const unknownCommand = (name: string) => new UsageError(`unknown command ${JSON.stringify(name)}; expected one of ${COMMANDS.map((c) => c.name).join(", ")} (\`studiovault help\`)`);

/** Each form of `command` as help shows it: the words, then its flags, then what it does. */
function usageLines(command: Command): string[] {
  const lines: string[] = [];
  for (const form of command.usage) {
    const flag = (name: string) => {
      const spec = command.flags[name]!;
      return spec.multiple ? `${flagSynopsis(name, spec)} [--${name} …]` : flagSynopsis(name, spec);
    };
    const words = [form.words, ...(form.required ?? []).map(flag), ...(form.optional ?? []).map((n) => `[${flag(n)}]`)];
    lines.push(`  ${words.join(" ")}`, `      ${form.help}`);
  }
  return lines;
}

const globalSynopsis = () => Object.entries(GLOBAL_FLAGS).map(([n, f]) => `[${flagSynopsis(n, f)}]`).join(" ");

/** `studiovault help`: every form of every command, then every flag, generated from the tables. */
export function helpText(commands: readonly Command[] = COMMANDS): string {
  const lines = [`usage: studiovault ${globalSynopsis()} <command>`, "", "commands:", ...commands.flatMap(usageLines)];
  lines.push("", "flags:", ...flagHelpLines(GLOBAL_FLAGS, "  "));
  for (const command of commands) {
    if (Object.keys(command.flags).length === 0) continue;
    lines.push(`  ${command.name}:`, ...flagHelpLines(command.flags, "    "));
  }
  lines.push("", FOOTER);
  return lines.join("\n");
}

/** `studiovault COMMAND --help` (or `help COMMAND`): that command's forms and flags, from the same tables. */
export function commandHelp(command: Command): string {
  const lines = [`usage: studiovault ${globalSynopsis()} ${command.name} …`, "", ...usageLines(command)];
  if (Object.keys(command.flags).length > 0) lines.push("", "flags:", ...flagHelpLines(command.flags, "  "));
  lines.push("", "global flags:", ...flagHelpLines(GLOBAL_FLAGS, "  "), "", FOOTER);
  return lines.join("\n");
}
