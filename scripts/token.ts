/**
 * `npm run token -- --branch <id> --role <role> [--user <id>] [--device <uuid>] [--ttl 30d] [--json]`
 *
 * Mints a device token for LOCAL development from TOKEN_SECRET in .dev.vars, creating a random
 * development secret there on first use. .dev.vars is git-ignored; a real deployment sets its secret
 * with `wrangler secret put TOKEN_SECRET` and it is never committed.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { signDeviceToken } from "../durable/auth.js";
import { BranchId, DeviceId, err, ok, type Result, Role, UserId, uuidv7 } from "../schema/index.js";
import type { DeviceClaims } from "../schema/token.js";

export const USAGE = `usage: npm run token -- --branch <branch-id> --role <owner|manager|staff|cashier|viewer>
                         [--user <id>] [--device <uuid>] [--ttl <90s|15m|12h|30d>] [--json]`;

const MAX_TTL_S = 365 * 24 * 3600;
const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

export function parseTtl(text: string): number | null {
  const m = /^(\d{1,6})([smhd])$/.exec(text);
  if (!m) return null;
  const seconds = Number(m[1]) * UNIT_S[m[2]!]!;
  return seconds > 0 && seconds <= MAX_TTL_S ? seconds : null;
}

/** The development secret in .dev.vars, created if missing. */
export function ensureDevSecret(devVarsPath: string): { secret: string; created: boolean } {
  const text = existsSync(devVarsPath) ? readFileSync(devVarsPath, "utf8") : "";
  const line = /^TOKEN_SECRET\s*=\s*"?([^"\n]+)"?\s*$/m.exec(text);
  if (line) return { secret: line[1]!, created: false };
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  const secret = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  const prefix = text === "" || text.endsWith("\n") ? text : `${text}\n`;
  writeFileSync(devVarsPath, `${prefix}TOKEN_SECRET=${secret}\n`, { mode: 0o600 });
  return { secret, created: true };
}

export interface Minted {
  token: string;
  claims: DeviceClaims;
  createdSecret: boolean;
}

export async function mintFromArgs(argv: string[], opts: { devVarsPath: string; nowMs: number }): Promise<Result<Minted, string>> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        branch: { type: "string" },
        role: { type: "string" },
        user: { type: "string", default: "dev" },
        device: { type: "string" },
        ttl: { type: "string", default: "30d" },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    }));
  } catch (e) {
    return err(`${(e as Error).message}\n${USAGE}`);
  }
  if (values.help) return err(USAGE);
  const bad = (flag: string, received: string | undefined, expected: string) =>
    err(`--${flag}: received ${received === undefined ? "nothing" : JSON.stringify(received)}, expected ${expected}`);
  if (values.branch === undefined) return bad("branch", undefined, "a branch id such as colombo-main");
  const branch = BranchId.safeParse(values.branch);
  if (!branch.success) return bad("branch", values.branch, "1-63 characters of a-z, 0-9 and '-'");
  const role = Role.safeParse(values.role);
  if (!role.success) return bad("role", values.role, `one of ${Role.options.join(", ")}`);
  const user = UserId.safeParse(values.user);
  if (!user.success) return bad("user", values.user, "1-64 characters of letters, digits and . _ @ -");
  const deviceText = values.device ?? uuidv7(opts.nowMs, (b) => crypto.getRandomValues(b));
  const device = DeviceId.safeParse(deviceText);
  if (!device.success) return bad("device", values.device, "a lower-case UUID");
  const ttl = parseTtl(values.ttl!);
  if (ttl === null) return bad("ttl", values.ttl, "a duration like 90s, 15m, 12h or 30d, at most 365d");

  const { secret, created } = ensureDevSecret(opts.devVarsPath);
  const iat = Math.floor(opts.nowMs / 1000);
  const claims: DeviceClaims = { v: 1, branch: branch.data, device: device.data, user: user.data, role: role.data, iat, exp: iat + ttl };
  return ok({ token: await signDeviceToken(claims, secret), claims, createdSecret: created });
}

async function main() {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
  const argv = process.argv.slice(2);
  const result = await mintFromArgs(argv, { devVarsPath: path.join(root, ".dev.vars"), nowMs: Date.now() });
  if (!result.ok) {
    console.error(result.error);
    process.exit(argv.includes("--help") ? 0 : 2);
  }
  const { token, claims, createdSecret } = result.value;
  if (createdSecret) console.error("created .dev.vars with a random development TOKEN_SECRET (git-ignored)");
  console.log(argv.includes("--json") ? JSON.stringify({ token, claims }) : token);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) void main();
