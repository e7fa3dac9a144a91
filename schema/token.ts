/**
 * Device token claims (I11). A token names its branch, device, user and role and expires. Signing
 * and verification (which need the secret) live on the server, in durable/auth.ts; this file holds
 * only the vocabulary, so the desktop can read its own token's branch and role before it ever
 * connects.
 *
 * Format: `sv1.<base64url(JSON claims)>.<base64url(HMAC-SHA256 over "sv1.<claims part>")>`.
 */
import { z } from "zod";
import { BranchId, DeviceId, UserId } from "./ids.js";
import { Role } from "./permissions.js";
import { err, ok, type Result } from "./result.js";

export const TOKEN_PREFIX = "sv1";
export const MAX_TOKEN_CHARS = 2048;

export const DeviceClaims = z
  .strictObject({
    v: z.literal(1),
    branch: BranchId,
    device: DeviceId,
    user: UserId,
    role: Role,
    /** Issued at, Unix seconds. */
    iat: z.int().min(0).max(2 ** 40),
    /** Expires at, Unix seconds. */
    exp: z.int().min(0).max(2 ** 40),
  })
  .refine((c) => c.exp > c.iat, { message: "exp must be after iat", path: ["exp"] });
export type DeviceClaims = z.infer<typeof DeviceClaims>;

export const TokenFailureCode = z.enum(["missing", "malformed", "bad_signature", "expired", "not_yet_valid"]);
export type TokenFailureCode = z.infer<typeof TokenFailureCode>;
export interface TokenFailure {
  code: TokenFailureCode;
  message: string;
}

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function base64UrlDecode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

/** The parts of a token, and its claims parsed but NOT verified. */
export function splitToken(token: string): Result<{ signed: string; claims: DeviceClaims; signature: Uint8Array }, TokenFailure> {
  const malformed = (why: string) => err<TokenFailure>({ code: "malformed", message: `token is malformed: ${why}` });
  if (token.length > MAX_TOKEN_CHARS) return malformed(`longer than ${MAX_TOKEN_CHARS} characters`);
  const parts = token.split(".");
  if (parts.length !== 3 || parts[0] !== TOKEN_PREFIX) return malformed(`expected ${TOKEN_PREFIX}.<claims>.<signature>`);
  const payload = base64UrlDecode(parts[1]!);
  const signature = base64UrlDecode(parts[2]!);
  if (!payload || !signature) return malformed("not base64url");
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(payload));
  } catch {
    return malformed("claims are not JSON");
  }
  const claims = DeviceClaims.safeParse(json);
  if (!claims.success) {
    const issue = claims.error.issues[0];
    return malformed(`claims: ${issue?.path.join(".") || "(root)"}: ${issue?.message}`);
  }
  return ok({ signed: `${parts[0]}.${parts[1]}`, claims: claims.data, signature });
}

/** The claims of a token WITHOUT checking its signature or expiry: for display only, proves nothing. */
export function decodeTokenUnverified(token: string): Result<DeviceClaims, TokenFailure> {
  const split = splitToken(token);
  return split.ok ? ok(split.value.claims) : split;
}
