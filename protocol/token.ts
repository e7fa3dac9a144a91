/**
 * Device token vocabulary (I11): the claims a token carries, its two text formats and how to take
 * them apart. No secret, no crypto and no I/O here: signing and verification need a key and live on
 * the server (durable/auth.ts, with the `jose` library). The desktop imports this file to show its
 * own branch and role before it has ever connected, so it stays dependency-free.
 *
 * Formats, told apart by the first dot-separated part:
 *
 * - A standard JWT (RFC 7519), JWS compact form, HS256 (RFC 7518 §3.2): every token minted today.
 *   Claims (`JwtDeviceClaims`): `iss` TOKEN_ISSUER, `aud` TOKEN_AUDIENCE, `sub` the device id, `iat`
 *   and `exp` in Unix seconds, and the private claims `branch`, `user`, `role`.
 * - Legacy `sv1.<base64url(UTF-8 JSON of DeviceClaims)>.<base64url(HMAC-SHA256 over "sv1.<claims part>")>`,
 *   the home-made format before the JWT. Still verified so that tokens already handed out keep
 *   working until they expire (at most 365 days after the JWT switch; then this path can go).
 *
 * base64url is RFC 4648 §5 without padding, and only its canonical spelling is accepted in either
 * format, so a token has exactly one text form. Either way the server works with one shape,
 * `DeviceClaims`, which is also what it forwards to the branch.
 */
import { z } from "zod";
import { BranchId, DeviceId, UserId } from "../domain/ids.js";
import { Role } from "../domain/permissions.js";
import { base64UrlDecode } from "../lib/bytes.js";
import { err, ok, type Result } from "../lib/result.js";

/** The first part of a legacy token. Never bumped again: new formats are JWTs. */
export const LEGACY_TOKEN_PREFIX = "sv1";
/** Tokens ride in a header or a query string; bounding them bounds the work done before the signature check. */
export const MAX_TOKEN_CHARS = 2048;
/** HMAC-SHA256 output: the size of a legacy token's signature. */
export const TOKEN_SIGNATURE_BYTES = 32;
/** The one algorithm our own JWTs use: HMAC-SHA256 with the shared TOKEN_SECRET. */
export const TOKEN_ALG = "HS256";
/** Who minted the token (`iss`). A studio's own identity provider would have its own issuer. */
export const TOKEN_ISSUER = "studiovault";
/** Who the token is for (`aud`): the sync server, whatever branch. The branch is a claim of its own. */
export const TOKEN_AUDIENCE = "studiovault-sync";

// 2^40 s is about the year 36800: far beyond any real token, and small enough that
// `new Date(seconds * 1000).toISOString()` can never throw a RangeError while we build a message.
const unixSeconds = z.int().min(0).max(2 ** 40);

/** What a verified token says, in either format. This exact shape is forwarded to the branch. */
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

/**
 * The claims set of a JWT device token. Strict: an unknown claim is refused, as in the legacy format.
 * Registered claim names where RFC 7519 has one (sub, iat, exp, iss, aud); the rest are ours.
 */
export const JwtDeviceClaims = z
  .strictObject({
    iss: z.literal(TOKEN_ISSUER),
    aud: z.literal(TOKEN_AUDIENCE),
    /** The device the token was issued to. */
    sub: DeviceId,
    branch: BranchId,
    user: UserId,
    role: Role,
    iat: unixSeconds,
    exp: unixSeconds,
  })
  .refine((c) => c.exp > c.iat, { message: "must be after iat", path: ["exp"] });
export type JwtDeviceClaims = z.infer<typeof JwtDeviceClaims>;

/** DeviceClaims → the JWT claims set that carries them. */
export const jwtClaimsOf = (c: DeviceClaims): JwtDeviceClaims => ({
  iss: TOKEN_ISSUER,
  aud: TOKEN_AUDIENCE,
  sub: c.device,
  branch: c.branch,
  user: c.user,
  role: c.role,
  iat: c.iat,
  exp: c.exp,
});

/** A JWT claims set → DeviceClaims, the one shape the server works with. */
export const deviceClaimsOf = (c: JwtDeviceClaims): DeviceClaims => ({
  v: 1,
  branch: c.branch,
  device: c.sub,
  user: c.user,
  role: c.role,
  iat: c.iat,
  exp: c.exp,
});

export const TokenFailureCode = z.enum(["missing", "malformed", "bad_signature", "expired", "not_yet_valid"]);
export type TokenFailureCode = z.infer<typeof TokenFailureCode>;

/** Why a token was refused. `message` is for people and logs and may be reworded; `code` is stable. */
export interface TokenFailure {
  code: TokenFailureCode;
  message: string;
}

/** Unix seconds as an ISO instant, for messages. */
export const isoFromUnixSeconds = (seconds: number): string => new Date(seconds * 1000).toISOString();

/** A legacy token taken apart. */
export interface LegacyTokenParts {
  format: "legacy";
  /** The ASCII text the signature covers: `sv1.<claims part>`. */
  signed: string;
  /** Parsed and schema-checked, NOT verified. */
  claims: DeviceClaims;
  signature: Uint8Array;
}

/** A JWT taken apart: its shape and claims are checked here, its signature and times by jose. */
export interface JwtTokenParts {
  format: "jwt";
  /** The JOSE header, a JSON object with a string `alg` (which algorithms are accepted is the verifier's business). */
  header: { alg: string } & Record<string, unknown>;
  /** Parsed, schema-checked and mapped to DeviceClaims, NOT verified. */
  claims: DeviceClaims;
}

export type TokenParts = LegacyTokenParts | JwtTokenParts;

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const malformed = (why: string) => err<TokenFailure>({ code: "malformed", message: `token is malformed: ${why}` });

/** UTF-8 JSON bytes → a value, or undefined. */
function parseJson(bytes: Uint8Array): unknown {
  try {
    // JSON.parse keeps a `__proto__` key as an ordinary own property (no prototype pollution), and
    // the strict schemas then refuse it as an unknown key.
    return JSON.parse(utf8.decode(bytes));
  } catch {
    return undefined;
  }
}

function schemaFailure(error: z.ZodError) {
  const issue = error.issues[0];
  return malformed(`claims ${issue?.path.join(".") || "(root)"}: ${issue?.message ?? "invalid"}`);
}

/**
 * Takes a token of either format apart, checking everything that needs no key: its size, its
 * shape, canonical base64url, JSON and the claims schema. Never throws: every kind of garbage is a
 * `malformed` value.
 */
export function splitToken(token: string): Result<TokenParts, TokenFailure> {
  if (token.length > MAX_TOKEN_CHARS) return malformed(`it is ${token.length} characters; the limit is ${MAX_TOKEN_CHARS}`);
  const parts = token.split(".");
  if (parts.length !== 3) {
    return malformed(`expected 3 dot-separated parts (<header>.<claims>.<signature>), received ${parts.length}`);
  }
  const [first, claimsPart, signaturePart] = parts as [string, string, string];
  const payload = base64UrlDecode(claimsPart);
  if (payload === null) return malformed("the claims part is not base64url");
  const signature = base64UrlDecode(signaturePart);
  if (signature === null) return malformed("the signature part is not base64url");

  if (first === LEGACY_TOKEN_PREFIX) {
    if (signature.length !== TOKEN_SIGNATURE_BYTES) {
      return malformed(`the signature is ${signature.length} bytes, expected ${TOKEN_SIGNATURE_BYTES}`);
    }
    const json = parseJson(payload);
    if (json === undefined) return malformed("the claims are not UTF-8 JSON");
    const claims = DeviceClaims.safeParse(json);
    if (!claims.success) return schemaFailure(claims.error);
    return ok({ format: "legacy", signed: `${first}.${claimsPart}`, claims: claims.data, signature });
  }

  const headerBytes = base64UrlDecode(first);
  if (headerBytes === null) return malformed("the header part is not base64url");
  const header = parseJson(headerBytes);
  if (header === null || typeof header !== "object" || Array.isArray(header)) return malformed("the header is not a UTF-8 JSON object");
  if (typeof (header as { alg?: unknown }).alg !== "string") return malformed("the header has no alg");
  const json = parseJson(payload);
  if (json === undefined) return malformed("the claims are not UTF-8 JSON");
  const claims = JwtDeviceClaims.safeParse(json);
  if (!claims.success) return schemaFailure(claims.error);
  return ok({ format: "jwt", header: header as JwtTokenParts["header"], claims: deviceClaimsOf(claims.data) });
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
