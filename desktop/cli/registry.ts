/**
 * Every `studiovault` command, in the order help lists them. The dispatcher and the help text are
 * both made from this list and each command's flag table, so they cannot drift apart.
 */
import { flagHelpLines, flagSynopsis, type FlagTable, UsageError } from "./args.js";
import type { Command } from "./command.js";
import { conflicts } from "./commands/conflicts.js";
import { device, devices } from "./commands/devices.js";
import { init } from "./commands/init.js";
import { invoice } from "./commands/invoice.js";
import { ledger } from "./commands/ledger.js";
import { pos } from "./commands/pos.js";
import { project } from "./commands/project.js";
import { snapshot } from "./commands/snapshot.js";
import { status } from "./commands/status.js";
import { sync, watch } from "./commands/sync.js";
import type { Ctx } from "./context.js";

export const COMMANDS: readonly Command[] = [init, status, sync, watch, conflicts, ledger, snapshot, devices, device, project, pos, invoice];

/** Flags that go anywhere on the command line, taken off by main.ts before a command sees the rest. */
export const GLOBAL_FLAGS = {
  db: { type: "string", value: "PATH", help: "the local database file (default $STUDIOVAULT_DB or ./studiovault.sqlite)" },
  json: { type: "boolean", help: "machine-readable output: one JSON value per result" },
} as const satisfies FlagTable;

const FOOTER = `Amounts are in major units with up to two decimals (1500.50).
Exit codes: 0 done, 1 refused (a rule refused a write; sync stopped: token refused, device revoked,
token used by another install, app too old), 2 bad arguments, 3 timed out or server unreachable.`;

/** Runs the command `argv[0]` with the rest of `argv`. An unknown command is a usage error (exit 2). */
export function runCommand(argv: string[], ctx: Ctx): number | Promise<number> {
  const [name, ...rest] = argv as [string, ...string[]];
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) throw new UsageError(`unknown command ${JSON.stringify(name)}; run \`studiovault help\``);
  return command.run(rest, ctx);
}

/** `studiovault help`: every form of every command, then every flag, generated from the tables. */
export function helpText(commands: readonly Command[] = COMMANDS): string {
  const lines = [`usage: studiovault ${Object.entries(GLOBAL_FLAGS).map(([n, f]) => `[${flagSynopsis(n, f)}]`).join(" ")} <command>`, "", "commands:"];
  for (const command of commands) {
    for (const form of command.usage) {
      const flag = (name: string) => {
        const spec = command.flags[name]!;
        return spec.multiple ? `${flagSynopsis(name, spec)} [--${name} …]` : flagSynopsis(name, spec);
      };
      const words = [form.words, ...(form.required ?? []).map(flag), ...(form.optional ?? []).map((n) => `[${flag(n)}]`)];
      lines.push(`  ${words.join(" ")}`, `      ${form.help}`);
    }
  }
  lines.push("", "flags:", ...flagHelpLines(GLOBAL_FLAGS, "  "));
  for (const command of commands) {
    if (Object.keys(command.flags).length === 0) continue;
    lines.push(`  ${command.name}:`, ...flagHelpLines(command.flags, "    "));
  }
  lines.push("", FOOTER);
  return lines.join("\n");
}
