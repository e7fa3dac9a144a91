/**
 * Small, strict argument parsing for our command lines (`studiovault` and `npm run token`): every
 * bad argument is one line in our own words, naming the flag, what was received and what was
 * expected. node:util's parseArgs does the parsing; its errors are several sentences, some on several
 * lines, so `describeParseError` rewords them. Both command lines go through `parseFlags`, so an
 * unknown flag reads the same everywhere.
 */
import { parseArgs } from "node:util";
import { AMOUNT_EXAMPLE, type AmountOptions, parseAmountMinor, parseQuantity, parseWholeNumber } from "../../domain/amounts.js";
import { parseDay } from "../../domain/clock.js";
import type { PosLine } from "../../domain/index.js";
import { MAX_LINE_QUANTITY, MAX_UNIT_PRICE_MINOR } from "../../domain/limits.js";
import { err, ok, type Result } from "../../lib/result.js";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** One flag: what parseArgs needs, and what the help text says about it. */
export interface FlagSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  readonly default?: boolean;
  /** The value's placeholder in help, e.g. `URL`; a switch has none. */
  readonly value?: string;
  /** One line for people. */
  readonly help: string;
}
export type FlagTable = Readonly<Record<string, FlagSpec>>;

/** The parsed flags of a table: a string, a list for `multiple`, a boolean for a switch; absent when not given. */
export type FlagValues<T extends FlagTable> = {
  [K in keyof T]?: T[K]["type"] extends "boolean" ? boolean : T[K]["multiple"] extends true ? string[] : string;
};

export interface Parsed<T extends FlagTable> {
  values: FlagValues<T>;
  positionals: string[];
}

export interface ParseOptions {
  /** How many positional arguments may follow the flags' owner; default none. */
  positionals?: number;
  /**
   * Refuse a flag given twice (not `multiple` ones). parseArgs keeps the last, and `--role viewer …
   * --role owner` is more likely a mistake than a wish. Off for `studiovault`, which always kept the last.
   */
  refuseRepeats?: boolean;
  /** Shown after an unexpected argument when no positionals are taken, e.g. `--branch colombo-main`. */
  example?: string;
}

/** `--server URL`, `--item DESC:QTY:PRICE`, `--json`: a flag as help text shows it. */
export function flagSynopsis(name: string, spec: FlagSpec): string {
  return spec.value === undefined ? `--${name}` : `--${name} ${spec.value}`;
}

/** One help line per flag of `table`, descriptions aligned, each line starting with `indent`. */
export function flagHelpLines(table: FlagTable, indent: string): string[] {
  const entries = Object.entries(table).map(([name, spec]) => [flagSynopsis(name, spec) + (spec.short ? `, -${spec.short}` : ""), spec.help] as const);
  const width = Math.max(0, ...entries.map(([left]) => left.length)) + 2;
  return entries.map(([left, help]) => `${indent}${left.padEnd(width)}${help}`);
}

/** The one wording for an unknown flag, wherever it is met. */
export function unknownFlagMessage(flag: string, table: FlagTable): string {
  const names = Object.keys(table).map((f) => `--${f}`);
  return names.length === 0 ? `unknown flag ${flag}: expected no flags` : `unknown flag ${flag}: expected one of ${names.join(", ")}`;
}

/** parseArgs errors are several sentences, some on several lines: one line in our own words instead. */
function describeParseError(e: unknown, table: FlagTable, opts: ParseOptions): string {
  const message = e instanceof Error ? e.message : String(e);
  const code = e instanceof Error && "code" in e ? e.code : undefined;
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return unknownFlagMessage(quoted, table);
    case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
      return unexpectedArgument(quoted, opts);
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE": {
      const flag = quoted.split(" ")[0] ?? quoted;
      return message.includes("does not take")
        ? `${flag}: received a value, expected none (it is a switch)`
        : `${flag}: received no value, expected a value after it (a value starting with "-" is written ${flag}=-value)`;
    }
    default:
      return message.split("\n")[0] ?? message;
  }
}

function unexpectedArgument(arg: string, opts: ParseOptions): string {
  const hint = (opts.positionals ?? 0) === 0 && opts.example ? `: every value follows its flag, e.g. ${opts.example}` : "";
  return `unexpected argument ${JSON.stringify(arg)}${hint}`;
}

/** `argv` against `table`: the values and positionals, or a one-line error. Never throws. */
export function parseFlags<T extends FlagTable>(argv: readonly string[], table: T, opts: ParseOptions = {}): Result<Parsed<T>, string> {
  const positionals = opts.positionals ?? 0;
  // Only what parseArgs knows about: `help` and `value` are ours.
  const options = Object.fromEntries(
    Object.entries(table).map(([name, f]) => [
      name,
      { type: f.type, ...(f.multiple ? { multiple: true } : {}), ...(f.short ? { short: f.short } : {}), ...(f.default !== undefined ? { default: f.default } : {}) },
    ]),
  );
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: positionals > 0, tokens: true });
  } catch (e) {
    return err(describeParseError(e, table, opts));
  }
  if (parsed.positionals.length > positionals) return err(unexpectedArgument(parsed.positionals[positionals]!, opts));
  if (opts.refuseRepeats) {
    const seen = new Set<string>();
    for (const t of parsed.tokens) {
      if (t.kind !== "option" || table[t.name]?.multiple) continue;
      if (seen.has(t.name)) return err(`--${t.name}: given more than once, expected it once`);
      seen.add(t.name);
    }
  }
  return ok({ values: parsed.values as FlagValues<T>, positionals: parsed.positionals });
}

/** `parseFlags` for `studiovault`'s commands, where a bad argument is a thrown UsageError (exit 2). */
export function parse<T extends FlagTable>(argv: string[], table: T, positionals = 0): Parsed<T> {
  const parsed = parseFlags(argv, table, { positionals });
  if (!parsed.ok) throw new UsageError(parsed.error);
  return parsed.value;
}

export function required(value: string | undefined, flag: string, expected: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag}: missing; expected ${expected}`);
  return value;
}

/**
 * A money amount in major units (`1500`, `1,500`, `1500.5`, `1500.50`) → integer minor units, for
 * currencies with two decimals. Read by the one parser of amounts (domain/amounts.ts), the same the
 * app's screens use; never goes through floating point.
 */
export function minorUnits(text: string, flag: string, opts: AmountOptions = {}): number {
  const parsed = parseAmountMinor(text, opts);
  if (!parsed.ok) throw new UsageError(`${flag}: received ${JSON.stringify(text)}, expected an amount like 1500 or 1500.50${because(parsed.error, AMOUNT_EXAMPLE)}`);
  return parsed.value;
}

/**
 * A whole number given on the command line (a count, an offset, seconds, an id, basis points), read
 * by the shared parser (domain/amounts.ts): `1,500` is 1500, `1e3` and `0x10` are refused. The error
 * is our words, `expected …`, and the parser's sentence after them.
 */
export function wholeNumber(text: string, flag: string, expected: string, opts: { min?: number; max?: number } = {}): number {
  const parsed = parseWholeNumber(text, opts);
  if (!parsed.ok) throw new UsageError(`${flag}: received ${JSON.stringify(text)}, expected ${expected}${because(parsed.error, "")}`);
  return parsed.value;
}

/** The parser's sentence as a note after our own words, unless it says no more than they do. */
function because(reason: string, generic: string): string {
  return reason === generic ? "" : ` (${reason.charAt(0).toLowerCase()}${reason.slice(1)})`;
}

/** `description:quantity:unit price`, e.g. `Passport photos:2:800.00`; a correction's quantity may be negative. */
export function posLine(text: string, flag = "--item"): PosLine {
  const parts = text.split(":");
  if (parts.length !== 3) throw new UsageError(`${flag}: received ${JSON.stringify(text)}, expected description:quantity:unit-price`);
  const [description, qty, price] = parts as [string, string, string];
  const quantity = parseQuantity(qty, { signed: true });
  if (!quantity.ok) throw new UsageError(`${flag}: quantity ${JSON.stringify(qty)} must be a non-zero whole number up to ${MAX_LINE_QUANTITY.toLocaleString("en-US")}`);
  return { sku: null, description: description.trim(), quantity: quantity.value, unit_price_minor: minorUnits(price, flag, { maxMinor: MAX_UNIT_PRICE_MINOR }) };
}

export function isoDate(text: string | undefined, flag: string): string | null {
  if (text === undefined) return null;
  // The one reader of days (domain/clock.ts), the app's date fields' too: 2026-02-30 does not exist.
  const day = parseDay(text);
  if (!day.ok) throw new UsageError(`${flag}: received ${JSON.stringify(text)}, expected a date YYYY-MM-DD`);
  return day.value;
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined || !allowed.includes(value as T)) {
    throw new UsageError(`${flag}: received ${JSON.stringify(value ?? "")}, expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}
