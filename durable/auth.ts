/**
 * Device tokens: HMAC-SHA256 with WebCrypto, so the same code runs in workerd and in Node.
 * A token is verified by the Worker before anything reaches a branch (I11).
 */
import { assert, err, ok, type Result } from "../schema/result.js";
import {
  base64UrlEncode,
  DeviceClaims,
  splitToken,
  TOKEN_PREFIX,
  type TokenFailure,
} from "../schema/token.js";

/** Device clocks drift: a token issued up to a minute "in the future" is still accepted. */
export const CLOCK_SKEW_MS = 60_000;
export const MIN_SECRET_CHARS = 32;

// importKey is costly on a hot path (every request verifies a token): one key per secret.
const keys = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

export async function signDeviceToken(claims: DeviceClaims, secret: string): Promise<string> {
  assert(secret.length >= MIN_SECRET_CHARS, `token secret must be at least ${MIN_SECRET_CHARS} characters`);
  const valid = DeviceClaims.safeParse(claims);
  assert(valid.success, `invalid claims: ${valid.error?.message}`);
  const signed = `${TOKEN_PREFIX}.${base64UrlEncode(new TextEncoder().encode(JSON.stringify(valid.data)))}`;
  const signature = await crypto.subtle.sign("HMAC", await hmacKey(secret), new TextEncoder().encode(signed));
  return `${signed}.${base64UrlEncode(new Uint8Array(signature))}`;
}

/** Never throws: every failure is a value with a code and a message for people. */
export async function verifyDeviceToken(
  token: string | null | undefined,
  secret: string,
  nowMs: number,
): Promise<Result<DeviceClaims, TokenFailure>> {
  if (!token) return err({ code: "missing", message: "no device token (Authorization: Bearer … or ?token=…)" });
  const split = splitToken(token);
  if (!split.ok) return split;
  const { signed, claims, signature } = split.value;
  // crypto.subtle.verify compares in constant time.
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(secret),
    signature as Uint8Array<ArrayBuffer>,
    new TextEncoder().encode(signed),
  );
  if (!valid) return err({ code: "bad_signature", message: "token signature does not match: it was altered or signed with another secret" });
  if (claims.iat * 1000 > nowMs + CLOCK_SKEW_MS) {
    return err({ code: "not_yet_valid", message: `token issued in the future (${new Date(claims.iat * 1000).toISOString()})` });
  }
  if (claims.exp * 1000 <= nowMs) {
    return err({ code: "expired", message: `token expired at ${new Date(claims.exp * 1000).toISOString()}` });
  }
  return ok(claims);
}

/** The token of a request: `Authorization: Bearer …`, else `?token=` (browsers cannot set WebSocket headers). */
export function tokenFromRequest(request: Request): string | null {
  const header = request.headers.get("Authorization");
  if (header?.startsWith("Bearer ")) return header.slice("Bearer ".length).trim() || null;
  return new URL(request.url).searchParams.get("token");
}
