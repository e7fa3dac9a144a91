/**
 * `npm run token -- --branch <id> --role <role> [--user <id>] [--device <uuid>] [--ttl 30d] [--json]`
 *
 * Mints a device token (a standard JWT, HS256; durable/auth.ts) for LOCAL development, signed with TOKEN_SECRET from .dev.vars at the repo
 * root (what `wrangler dev` reads). On first use it appends a random development secret there.
 * .dev.vars is git-ignored. A real deployment sets its own secret with
 * `wrangler secret put TOKEN_SECRET`; that secret is never written to a file and never committed.
 *
 * The token goes to stdout alone (scripts/start.mjs captures it); notices and errors go to stderr.
 */
import { appendFileSync, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { MIN_SECRET_CHARS, signDeviceToken } from "../durable/auth.js";
import { flagHelpLines, flagSynopsis, type FlagTable, parseFlags } from "../desktop/cli/args.js";
import { BranchId, DeviceId, Role, UserId, uuidv7 } from "../domain/index.js";
import { hex } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";
import type { DeviceClaims } from "../protocol/token.js";

const DEFAULT_USER = "dev";
const DEFAULT_TTL = "30d";
export const MAX_TTL_S = 365 * 86_400;
const UNIT_S = { s: 1, m: 60, h: 3_600, d: 86_400 } as const;

const OPTIONS = {
  branch: { type: "string", value: "<branch-id>", help: "the branch the token is for, e.g. colombo-main (required)" },
  role: { type: "string", value: `<${Role.options.join("|")}>`, help: "the role the server will enforce (required)" },
  user: { type: "string", value: "<id>", help: `the person, default "${DEFAULT_USER}"` },
  device: { type: "string", value: "<uuid>", help: "the device id (a UUID), default a fresh UUIDv7" },
  ttl: { type: "string", value: "<90s|15m|12h|30d>", help: `how long the token is valid, default ${DEFAULT_TTL}, at most 365d` },
  json: { type: "boolean", help: 'print {"token": ..., "claims": {...}} instead of the token alone' },
  help: { type: "boolean", short: "h", help: "print this and mint nothing" },
} as const satisfies FlagTable;

/** Generated from OPTIONS, so a flag cannot be added without being documented. */
export const USAGE = [
  `usage: npm run token -- ${(["branch", "role"] as const).map((f) => flagSynopsis(f, OPTIONS[f])).join(" ")}`,
  `                        ${(["user", "device", "ttl", "json"] as const).map((f) => `[${flagSynopsis(f, OPTIONS[f])}]`).join(" ")}`,
  "",
  ...flagHelpLines(OPTIONS, "  "),
].join("\n");

/** `90s`, `15m`, `12h`, `30d` → seconds; null unless between 1 s and 365 d. */
export function parseTtlSeconds(text: string): number | null {
  const m = /^([1-9]\d{0,7})([smhd])$/.exec(text);
  if (!m) return null;
  const seconds = Number(m[1]) * UNIT_S[m[2] as keyof typeof UNIT_S];
  return seconds <= MAX_TTL_S ? seconds : null;
}

export type TokenCommand =
  | { kind: "help" }
  | { kind: "mint"; branch: BranchId; role: Role; user: UserId; device: DeviceId; ttlS: number; json: boolean };

const bad = (flag: string, received: string | undefined, expected: string) =>
  err(`--${flag}: received ${received === undefined ? "nothing" : JSON.stringify(received)}, expected ${expected}`);

/**
 * The command line → what to mint, or a one-line error naming the flag, the value received and what
 * was expected. Pure apart from the random default device id.
 */
export function parseTokenArgs(argv: readonly string[], nowMs: number): Result<TokenCommand, string> {
  // The same parser and wording as `studiovault` (desktop/cli/args.ts); a repeated flag is refused.
  const parsed = parseFlags(argv, OPTIONS, { refuseRepeats: true, example: "--branch colombo-main" });
  if (!parsed.ok) return parsed;
  const { values } = parsed.value;
  if (values.help) return ok({ kind: "help" });

  if (values.branch === undefined) return bad("branch", undefined, "a branch id such as colombo-main");
  const branch = BranchId.safeParse(values.branch);
  if (!branch.success) return bad("branch", values.branch, "1-63 characters of a-z, 0-9 and '-', not starting with '-'");
  const role = Role.safeParse(values.role);
  if (!role.success) return bad("role", values.role, `one of ${Role.options.join(", ")}`);
  const user = UserId.safeParse(values.user ?? DEFAULT_USER);
  if (!user.success) return bad("user", values.user, "1-64 characters of letters, digits and . _ @ -");
  const device = DeviceId.safeParse(values.device ?? uuidv7(nowMs, (b) => crypto.getRandomValues(b)));
  if (!device.success) return bad("device", values.device, "a lower-case UUID such as 01936f3c-0000-7000-8000-00000000000a");
  const ttlText = values.ttl ?? DEFAULT_TTL;
  const ttlS = parseTtlSeconds(ttlText);
  if (ttlS === null) return bad("ttl", ttlText, "a duration like 90s, 15m, 12h or 30d, from 1s to at most 365d");

  return ok({ kind: "mint", branch: branch.data, role: role.data, user: user.data, device: device.data, ttlS, json: values.json ?? false });
}

/**
 * TOKEN_SECRET from the .dev.vars file, or a new random one appended to it (creating the file) when
 * it has no TOKEN_SECRET line. An existing line is never rewritten: a short secret is an error.
 */
export function ensureDevSecret(devVarsPath: string): Result<{ secret: string; created: boolean }, string> {
  let text = "";
  try {
    if (existsSync(devVarsPath)) text = readFileSync(devVarsPath, "utf8");
  } catch (e) {
    return err(`${devVarsPath}: cannot read it (${e instanceof Error ? e.message : String(e)})`);
  }
  // dotenv syntax as wrangler reads it: KEY=value, optionally quoted.
  const line = /^[ \t]*TOKEN_SECRET[ \t]*=(.*)$/m.exec(text);
  if (line) {
    const raw = line[1]!.trim();
    const secret = /^(["']).*\1$/.test(raw) ? raw.slice(1, -1) : raw;
    if (secret.length < MIN_SECRET_CHARS) {
      return err(
        `${devVarsPath}: TOKEN_SECRET is ${secret.length} characters, expected at least ${MIN_SECRET_CHARS} (delete the line to have one generated)`,
      );
    }
    return ok({ secret, created: false });
  }
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = hex(bytes);
  const separator = text === "" || text.endsWith("\n") ? "" : "\n";
  try {
    // Append rather than rewrite: other lines stay byte for byte. 0600 applies when the file is created.
    appendFileSync(devVarsPath, `${separator}TOKEN_SECRET=${secret}\n`, { mode: 0o600 });
  } catch (e) {
    return err(`${devVarsPath}: cannot write it (${e instanceof Error ? e.message : String(e)})`);
  }
  return ok({ secret, created: true });
}

export interface Minted {
  token: string;
  claims: DeviceClaims;
  /** True when this call created TOKEN_SECRET in .dev.vars. */
  createdSecret: boolean;
}

/** Mints the token a parsed command asks for. Only here is .dev.vars read or written. */
export async function mintToken(
  command: Extract<TokenCommand, { kind: "mint" }>,
  opts: { devVarsPath: string; nowMs: number },
): Promise<Result<Minted, string>> {
  const dev = ensureDevSecret(opts.devVarsPath);
  if (!dev.ok) return dev;
  const iat = Math.floor(opts.nowMs / 1000);
  const claims: DeviceClaims = {
    v: 1,
    branch: command.branch,
    device: command.device,
    user: command.user,
    role: command.role,
    iat,
    exp: iat + command.ttlS,
  };
  return ok({ token: await signDeviceToken(claims, dev.value.secret), claims, createdSecret: dev.value.created });
}

/**
 * Parse and mint in one step, for tests. Every argument is checked before .dev.vars is touched, so a
 * bad command line writes nothing. `--help` comes back as an error carrying the usage text.
 */
export async function mintFromArgs(
  argv: readonly string[],
  opts: { devVarsPath: string; nowMs: number },
): Promise<Result<Minted, string>> {
  const command = parseTokenArgs(argv, opts.nowMs);
  if (!command.ok) return command;
  if (command.value.kind === "help") return err(USAGE);
  return mintToken(command.value, opts);
}

async function main(): Promise<number> {
  const nowMs = Date.now();
  const command = parseTokenArgs(process.argv.slice(2), nowMs);
  if (!command.ok) {
    console.error(`npm run token: ${command.error} (see --help)`);
    return 2;
  }
  if (command.value.kind === "help") {
    console.log(USAGE);
    return 0;
  }
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const devVarsPath = path.join(root, ".dev.vars");
  const minted = await mintToken(command.value, { devVarsPath, nowMs });
  if (!minted.ok) {
    console.error(`npm run token: ${minted.error}`);
    return 2;
  }
  const { token, claims, createdSecret } = minted.value;
  if (createdSecret) {
    console.error(`added a random development TOKEN_SECRET to ${devVarsPath} (git-ignored; restart wrangler dev to use it)`);
  }
  console.log(command.value.json ? JSON.stringify({ token, claims }) : token);
  return 0;
}

// Run only when executed (`tsx scripts/token.ts`), not when a test imports the module.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  void main().then((code) => {
    process.exitCode = code;
  });
}
