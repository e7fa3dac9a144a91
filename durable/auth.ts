/**
 * Device tokens (I11): minted as standard JWTs (HS256) with `jose`, which runs unchanged in the
 * Node dev tools and tests and in workerd. The Worker verifies every request's token before anything
 * reaches a branch. Legacy `sv1.` tokens, signed by this file before the switch to JWTs, still
 * verify until they expire (WebCrypto HMAC, as before). Formats and claims: protocol/token.ts.
 */
import { errors, jwtVerify, SignJWT, type JWTVerifyGetKey } from "jose";
import { assert, err, ok, type Result } from "../lib/result.js";
import {
  DeviceClaims,
  isoFromUnixSeconds,
  jwtClaimsOf,
  type LegacyTokenParts,
  splitToken,
  TOKEN_ALG,
  TOKEN_AUDIENCE,
  TOKEN_ISSUER,
  type TokenFailure,
} from "../protocol/token.js";

/**
 * A token minted on one machine may reach a server whose clock is a little behind: one issued up to
 * a minute "in the future" is still accepted. Applies to both formats (checked here, not by jose).
 */
export const CLOCK_SKEW_MS = 60_000;
/**
 * jose's `clockTolerance` for a JWT's `exp`: a JWT is refused as expired from `exp` + 5 s on, so a
 * server clock a few seconds ahead of the minting machine's does not cut a token short. Small on
 * purpose: it is how long a token outlives its stated expiry. Legacy sv1 tokens keep their exact
 * rule (refused from `exp` on), as they were issued under it.
 */
export const TOKEN_CLOCK_TOLERANCE_S = 5;
/** 32 characters of a random hex secret is 128 bits; anything shorter is a misconfiguration. */
export const MIN_SECRET_CHARS = 32;

/** The largest time a Date can hold (ECMA-262 §21.4.1.1); NaN fails `<=` as well. */
const MAX_DATE_MS = 8.64e15;

const encoder = new TextEncoder();

/**
 * Where verification keys come from. Today: the one shared TOKEN_SECRET (`sharedSecretKeys`). Later a
 * studio's own identity provider can sign tokens instead: `jose.createRemoteJWKSet(new URL(jwksUrl))`
 * already is a `JWTVerifyGetKey`, so such a source is `{ algorithms: ["RS256", "ES256"], keyFor:
 * createRemoteJWKSet(url) }` (plus its own issuer and a claims mapping), and the verifier below does
 * not change. Not built yet.
 */
export interface TokenKeySource {
  /** The only `alg` values accepted; anything else, `none` included, is refused before a key is looked up. */
  readonly algorithms: readonly string[];
  /** The key for a token's protected header (jose calls it once per verification). */
  readonly keyFor: JWTVerifyGetKey;
  /** The HMAC secret legacy `sv1.` tokens were signed with; without one they are refused as malformed. */
  readonly legacySecret?: string;
}

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

/** The key source of a server configured with one shared TOKEN_SECRET: HS256 JWTs and legacy sv1 tokens. */
export function sharedSecretKeys(secret: string): TokenKeySource {
  assertSecret(secret);
  return { algorithms: [TOKEN_ALG], keyFor: () => hmacKey(secret), legacySecret: secret };
}

/**
 * A signed JWT for `claims`. Throws only on programming errors: claims that fail the schema or a
 * secret shorter than MIN_SECRET_CHARS.
 */
export async function signDeviceToken(claims: DeviceClaims, secret: string): Promise<string> {
  assertSecret(secret);
  const valid = DeviceClaims.safeParse(claims);
  assert(valid.success, `cannot sign invalid claims: ${valid.error?.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  return new SignJWT(jwtClaimsOf(valid.data)).setProtectedHeader({ alg: TOKEN_ALG, typ: "JWT" }).sign(await hmacKey(secret));
}

/**
 * The verified claims of `token` at server time `nowMs`, or why it is refused, checked in this order:
 * missing → malformed → bad_signature → not_yet_valid → expired. `keys` is a key source or, as the
 * Worker passes it, the shared secret itself.
 *
 * Never throws for any token, whatever its type or content. A secret shorter than MIN_SECRET_CHARS
 * or a `nowMs` that is not a time (NaN, negative, beyond Date's range) is a server bug and throws:
 * a NaN clock would otherwise make every token immortal, as every comparison with NaN is false.
 */
export async function verifyDeviceToken(
  token: string | null | undefined,
  keys: string | TokenKeySource,
  nowMs: number,
): Promise<Result<DeviceClaims, TokenFailure>> {
  const source = typeof keys === "string" ? sharedSecretKeys(keys) : keys;
  assert(nowMs >= 0 && nowMs <= MAX_DATE_MS, `nowMs must be Unix milliseconds, received ${nowMs}`);
  if (typeof token !== "string" || token === "") {
    return err({ code: "missing", message: "no device token (send Authorization: Bearer <token> or ?token=<token>)" });
  }
  const split = splitToken(token);
  if (!split.ok) return split;
  const parts = split.value;
  const { claims } = parts;

  const signed = parts.format === "legacy" ? await verifyLegacySignature(parts, source) : await verifyJwt(token, source, nowMs);
  if (!signed.ok) return signed;

  if (claims.iat * 1000 > nowMs + CLOCK_SKEW_MS) {
    return err({
      code: "not_yet_valid",
      message: `token issued at ${isoFromUnixSeconds(claims.iat)}, more than ${CLOCK_SKEW_MS / 1000} s after server time ${new Date(nowMs).toISOString()}`,
    });
  }
  // A JWT's expiry was checked by jose, with TOKEN_CLOCK_TOLERANCE_S; a legacy token's is exact.
  if (signed.value === "expired" || (parts.format === "legacy" && claims.exp * 1000 <= nowMs)) {
    return err({ code: "expired", message: `token expired at ${isoFromUnixSeconds(claims.exp)}` });
  }
  return ok(claims);
}

const badSignature = (): TokenFailure => ({
  code: "bad_signature",
  message: "token signature does not match: it was altered or signed with another secret",
});

async function verifyLegacySignature(parts: LegacyTokenParts, source: TokenKeySource): Promise<Result<"valid", TokenFailure>> {
  if (source.legacySecret === undefined) {
    return err({ code: "malformed", message: "token is malformed: sv1 tokens are not accepted by this server's key source" });
  }
  // crypto.subtle.verify compares in constant time; comparing re-signed text with === would leak
  // through timing how much of a forged signature is right.
  const valid = await crypto.subtle.verify(
    "HMAC",
    await hmacKey(source.legacySecret),
    parts.signature as Uint8Array<ArrayBuffer>,
    encoder.encode(parts.signed),
  );
  return valid ? ok("valid") : err(badSignature());
}

/**
 * Signature, alg, issuer, audience and expiry by jose. An expired token comes back as a value, not
 * a refusal yet, so that the not-yet-valid check keeps its place in the order above.
 */
async function verifyJwt(token: string, source: TokenKeySource, nowMs: number): Promise<Result<"valid" | "expired", TokenFailure>> {
  try {
    await jwtVerify(token, source.keyFor, {
      algorithms: [...source.algorithms],
      issuer: TOKEN_ISSUER,
      audience: TOKEN_AUDIENCE,
      currentDate: new Date(nowMs),
      clockTolerance: TOKEN_CLOCK_TOLERANCE_S,
    });
    return ok("valid");
  } catch (e) {
    if (e instanceof errors.JWTExpired) return ok("expired");
    if (e instanceof errors.JWSSignatureVerificationFailed) return err(badSignature());
    if (e instanceof errors.JOSEAlgNotAllowed) {
      return err({ code: "malformed", message: `token is malformed: its alg is not accepted; expected ${source.algorithms.join(" or ")}` });
    }
    if (e instanceof errors.JOSEError) return err({ code: "malformed", message: `token is malformed: ${e.message}` });
    // Anything else (a key source that failed, a bug) is not the token's fault: let it surface.
    throw e;
  }
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
