/** Small, strict argument parsing for the CLI: every bad argument is one clear line. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import type { PosLine } from "../../schema/index.js";

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function parse<O extends NonNullable<ParseArgsConfig["options"]>>(argv: string[], options: O, positionals = 0) {
  try {
    const parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: positionals > 0 });
    if (parsed.positionals.length > positionals) {
      throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[positionals])}`);
    }
    return parsed;
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message.split("\n")[0]!);
  }
}

export function required(value: string | undefined, flag: string, expected: string): string {
  if (value === undefined || value === "") throw new UsageError(`${flag}: missing; expected ${expected}`);
  return value;
}

/**
 * A money amount in major units (`1500`, `1500.5`, `1500.50`) → integer minor units, for currencies
 * with two decimals. Never goes through floating point.
 */
export function minorUnits(text: string, flag: string): number {
  const m = /^(-?)(\d{1,13})(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: received ${JSON.stringify(text)}, expected an amount like 1500 or 1500.50`);
  const minor = Number(m[2]) * 100 + Number((m[3] ?? "").padEnd(2, "0") || "0");
  return m[1] === "-" ? -minor : minor;
}

/** `description:quantity:unit price`, e.g. `Passport photos:2:800.00`. */
export function posLine(text: string, flag = "--item"): PosLine {
  const parts = text.split(":");
  if (parts.length !== 3) throw new UsageError(`${flag}: received ${JSON.stringify(text)}, expected description:quantity:unit-price`);
  const [description, qty, price] = parts as [string, string, string];
  if (!/^-?\d{1,5}$/.test(qty) || Number(qty) === 0) {
    throw new UsageError(`${flag}: quantity ${JSON.stringify(qty)} must be a non-zero whole number`);
  }
  return { sku: null, description: description.trim(), quantity: Number(qty), unit_price_minor: minorUnits(price, flag) };
}

export function isoDate(text: string | undefined, flag: string): string | null {
  if (text === undefined) return null;
  if (!/^\d{4}-\d{2}-\d{2}$/.test(text) || Number.isNaN(Date.parse(`${text}T00:00:00Z`))) {
    throw new UsageError(`${flag}: received ${JSON.stringify(text)}, expected a date YYYY-MM-DD`);
  }
  return text;
}

export function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, fallback?: T): T {
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined || !allowed.includes(value as T)) {
    throw new UsageError(`${flag}: received ${JSON.stringify(value ?? "")}, expected one of ${allowed.join(", ")}`);
  }
  return value as T;
}
