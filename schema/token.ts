/**
 * Device token vocabulary (I11): the claims a token carries, its text format and how to take it
 * apart. No secret and no I/O here: signing and verification need the secret and live on the server
 * (durable/auth.ts). The desktop imports this file to show its own branch and role before it has
 * ever connected.
 *
 * Format: `sv1.<base64url(UTF-8 JSON of the claims)>.<base64url(HMAC-SHA256 over "sv1.<claims part>")>`.
 * base64url is RFC 4648 §5 without padding. Bump TOKEN_PREFIX when the format or the claims change
 * shape; a server then refuses old tokens as malformed instead of misreading them.
 */
import { z } from "zod";
import { BranchId, DeviceId, UserId } from "./ids.js";
import { Role } from "./permissions.js";
import { err, ok, type Result } from "./result.js";

export const TOKEN_PREFIX = "sv1";
/** Tokens ride in a header or a query string; bounding them bounds the work done before the signature check. */
export const MAX_TOKEN_CHARS = 2048;
/** HMAC-SHA256 output. */
export const TOKEN_SIGNATURE_BYTES = 32;

// 2^40 s is about the year 36800: far beyond any real token, and small enough that
// `new Date(seconds * 1000).toISOString()` can never throw a RangeError while we build a message.
const unixSeconds = z.int().min(0).max(2 ** 40);

export const DeviceClaims = z
  .strictObject({
    v: z.literal(1),
    branch: BranchId,
    device: DeviceId,
    user: UserId,
    role: Role,
    /** Issued at, Unix seconds. */
    iat: unixSeconds,
    /** Expires at, Unix seconds. The token is refused from this second on. */
    exp: unixSeconds,
  })
  .refine((c) => c.exp > c.iat, { message: "must be after iat", path: ["exp"] });
export type DeviceClaims = z.infer<typeof DeviceClaims>;

export const TokenFailureCode = z.enum(["missing", "malformed", "bad_signature", "expired", "not_yet_valid"]);
export type TokenFailureCode = z.infer<typeof TokenFailureCode>;

/** Why a token was refused. `message` is for people and logs and may be reworded; `code` is stable. */
export interface TokenFailure {
  code: TokenFailureCode;
  message: string;
}

/** Unix seconds as an ISO instant, for messages. */
export const isoFromUnixSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** Bytes → unpadded base64url. btoa rather than Buffer: the same code runs in Node 20 and workerd. */
export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  // String.fromCharCode with a spread is limited by the argument count; go in slices.
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Unpadded base64url → bytes, or null for anything else. Strict on purpose: atob alone would accept
 * whitespace, `+`, `/` and padding, and the unused low bits of the last character would let one
 * signature be spelled several ways and still verify. Only the canonical spelling is accepted, so a
 * token has exactly one text form.
 */
export function base64UrlDecode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  let bytes: Uint8Array;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
    bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
  return base64UrlEncode(bytes) === text ? bytes : null;
}

export interface TokenParts {
  /** The ASCII text the signature covers: `sv1.<claims part>`. */
  signed: string;
  /** Parsed and schema-checked, NOT verified. */
  claims: DeviceClaims;
  signature: Uint8Array;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const malformed = (why: string) => err<TokenFailure>({ code: "malformed", message: `token is malformed: ${why}` });

/** Takes a token apart. Never throws: every kind of garbage is a `malformed` value. */
export function splitToken(token: string): Result<TokenParts, TokenFailure> {
  if (token.length > MAX_TOKEN_CHARS) return malformed(`it is ${token.length} characters; the limit is ${MAX_TOKEN_CHARS}`);
  const parts = token.split(".");
  if (parts.length !== 3) {
    return malformed(`expected 3 dot-separated parts (${TOKEN_PREFIX}.<claims>.<signature>), received ${parts.length}`);
  }
  const [prefix, claimsPart, signaturePart] = parts as [string, string, string];
  if (prefix !== TOKEN_PREFIX) return malformed(`expected prefix "${TOKEN_PREFIX}", received ${JSON.stringify(prefix.slice(0, 16))}`);
  const payload = base64UrlDecode(claimsPart);
  if (payload === null) return malformed("the claims part is not base64url");
  const signature = base64UrlDecode(signaturePart);
  if (signature === null) return malformed("the signature part is not base64url");
  if (signature.length !== TOKEN_SIGNATURE_BYTES) {
    return malformed(`the signature is ${signature.length} bytes, expected ${TOKEN_SIGNATURE_BYTES}`);
  }
  let json: unknown;
  try {
    // JSON.parse keeps a `__proto__` key as an ordinary own property (no prototype pollution), and
    // the strict schema below then refuses it as an unknown key.
    json = JSON.parse(utf8.decode(payload));
  } catch {
    return malformed("the claims are not UTF-8 JSON");
  }
  const claims = DeviceClaims.safeParse(json);
  if (!claims.success) {
    const issue = claims.error.issues[0];
    return malformed(`claims ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
  }
  return ok({ signed: `${prefix}.${claimsPart}`, claims: claims.data, signature });
}

/**
 * The claims of a token WITHOUT checking its signature or expiry. This proves nothing: anyone can
 * write such a token. It exists so the desktop can show its own branch, user and role before it has
 * ever reached the server; every decision is the server's, after `verifyDeviceToken`.
 */
export function decodeTokenUnverified(token: string): Result<DeviceClaims, TokenFailure> {
  const split = splitToken(token);
  return split.ok ? ok(split.value.claims) : split;
}
