/**
 * Device tokens (I11): HMAC-SHA256 with WebCrypto (`crypto.subtle`) only, no Node or Workers APIs,
 * so the same code signs in the Node dev tools and tests and verifies in workerd. The Worker verifies
 * every request's token before anything reaches a branch. The format is in schema/token.ts.
 */
import { assert, err, ok, type Result } from "../schema/result.js";
import {
  base64UrlEncode,
  DeviceClaims,
  isoFromUnixSeconds,
  splitToken,
  TOKEN_PREFIX,
  type TokenFailure,
} from "../schema/token.js";

/**
 * A token minted on one machine may reach a server whose clock is a little behind: one issued up to
 * a minute "in the future" is still accepted.
 */
export const CLOCK_SKEW_MS = 60_000;
/** 32 characters of a random hex secret is 128 bits; anything shorter is a misconfiguration. */
export const MIN_SECRET_CHARS = 32;

/** The largest time a Date can hold (ECMA-262 §21.4.1.1); NaN fails `<=` as well. */
const MAX_DATE_MS = 8.64e15;

const encoder = new TextEncoder();

// importKey is costly and every request verifies a token: one key per secret, imported once.
// The map stays tiny (a Worker has one secret, two while rotating). The promise is cached so that
// concurrent first requests share one import; a failed import is forgotten so it can be retried.
const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
    key.catch(() => keys.delete(secret));
    keys.set(secret, key);
  }
  return key;
}

function assertSecret(secret: string): void {
  assert(
    typeof secret === "string" && secret.length >= MIN_SECRET_CHARS,
    `token secret must be at least ${MIN_SECRET_CHARS} characters (set TOKEN_SECRET)`,
  );
}

/**
 * A signed token for `claims`. Throws only on programming errors: claims that fail the schema or a
 * secret shorter than MIN_SECRET_CHARS.
 */
export async function signDeviceToken(claims: DeviceClaims, secret: string): Promise<string> {
  assertSecret(secret);
  const valid = DeviceClaims.safeParse(claims);
  assert(valid.success, `cannot sign invalid claims: ${valid.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const signed = `${TOKEN_PREFIX}.${base64UrlEncode(encoder.encode(JSON.stringify(valid.data)))}`;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(signed));
  return `${signed}.${base64UrlEncode(new Uint8Array(signature))}`;
}

/**
 * The verified claims of `token` at server time `nowMs`, or why it is refused, checked in this order:
 * missing → malformed → bad_signature → not_yet_valid → expired.
 *
 * Never throws for any token, whatever its type or content. A secret shorter than MIN_SECRET_CHARS
 * or a `nowMs` that is not a time (NaN, negative, beyond Date's range) is a server bug and throws:
 * a NaN clock would otherwise make every token immortal, as every comparison with NaN is false.
 */
export async function verifyDeviceToken(
  token: string | null | undefined,
  secret: string,
  nowMs: number,
): Promise<Result<DeviceClaims, TokenFailure>> {
  assertSecret(secret);
  assert(nowMs >= 0 && nowMs <= MAX_DATE_MS, `nowMs must be Unix milliseconds, received ${nowMs}`);
  if (typeof token !== "string" || token === "") {
    return err({ code: "missing", message: "no device token (send Authorization: Bearer <token> or ?token=<token>)" });
  }
  const split = splitToken(token);
  if (!split.ok) return split;
  const { signed, claims, signature } = split.value;

  // crypto.subtle.verify compares in constant time; comparing re-signed text with === would leak
  // through timing how much of a forged signature is right.
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    signature as Uint8Array<ArrayBuffer>,
    encoder.encode(signed),
  );
  if (!valid) {
    return err({ code: "bad_signature", message: "token signature does not match: it was altered or signed with another secret" });
  }

  if (claims.iat * 1000 > nowMs + CLOCK_SKEW_MS) {
    return err({
      code: "not_yet_valid",
      message: `token issued at ${isoFromUnixSeconds(claims.iat)}, more than ${CLOCK_SKEW_MS / 1000} s after server time ${new Date(nowMs).toISOString()}`,
    });
  }
  if (claims.exp * 1000 <= nowMs) {
    return err({ code: "expired", message: `token expired at ${isoFromUnixSeconds(claims.exp)}` });
  }
  return ok(claims);
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The token a request carries: `Authorization: Bearer <token>` first, else the `token` query
 * parameter, because browsers cannot set headers on a WebSocket upgrade. Null when neither is there.
 * Uses the global `Request`, which the DOM lib (Node tsconfig) and workers-types both declare.
 */
export function tokenFromRequest(request: Request): string | null {
  const bearer = BEARER.exec(request.headers.get("Authorization") ?? "");
  if (bearer) return bearer[1]!;
  return new URL(request.url).searchParams.get("token") || null;
}
