/** Device tokens with real WebCrypto: signing, verification and the development token command. */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { signDeviceToken, tokenFromRequest, verifyDeviceToken } from "../../durable/auth.js";
import { decodeTokenUnverified, type DeviceClaims } from "../../schema/token.js";
import { mintFromArgs } from "../../scripts/token.js";

const SECRET = "s".repeat(40);
const NOW_MS = Date.UTC(2026, 10, 25, 10, 0, 0);
const claims = {
  v: 1,
  branch: "colombo-main",
  device: "01936f3c-0000-7000-8000-00000000000a",
  user: "nimal",
  role: "cashier",
  iat: NOW_MS / 1000 - 60,
  exp: NOW_MS / 1000 + 3600,
} as DeviceClaims;

const failure = async (token: string | null, secret = SECRET, now = NOW_MS) => {
  const result = await verifyDeviceToken(token, secret, now);
  expect(result.ok).toBe(false);
  return result.ok ? null : result.error;
};

describe("device tokens", () => {
  it("round-trip: a signed token verifies to its claims", async () => {
    const token = await signDeviceToken(claims, SECRET);
    expect(token.startsWith("sv1.")).toBe(true);
    expect(await verifyDeviceToken(token, SECRET, NOW_MS)).toEqual({ ok: true, value: claims });
    expect(decodeTokenUnverified(token)).toEqual({ ok: true, value: claims });
  });

  it("a token signed with another secret has a bad signature", async () => {
    const token = await signDeviceToken(claims, "x".repeat(40));
    expect((await failure(token))?.code).toBe("bad_signature");
  });

  it("flipping any character of the claims or the signature never verifies", async () => {
    const token = await signDeviceToken(claims, SECRET);
    const positions = [4, 10, 25, token.indexOf(".", 4) - 2, token.indexOf(".", 4) + 3, token.length - 2];
    for (const at of positions) {
      const c = token[at]!;
      const flipped = token.slice(0, at) + (c === "A" ? "B" : "A") + token.slice(at + 1);
      const error = await failure(flipped);
      expect(["bad_signature", "malformed"], `position ${at}`).toContain(error?.code);
    }
  });

  it("expires at exactly exp and says when", async () => {
    const token = await signDeviceToken(claims, SECRET);
    const error = await failure(token, SECRET, claims.exp * 1000);
    expect(error).toEqual({ code: "expired", message: `token expired at ${new Date(claims.exp * 1000).toISOString()}` });
  });

  it("is not valid before it was issued, beyond a minute of clock skew", async () => {
    const token = await signDeviceToken({ ...claims, iat: NOW_MS / 1000 + 120 }, SECRET);
    expect((await failure(token))?.code).toBe("not_yet_valid");
    const skewed = await signDeviceToken({ ...claims, iat: NOW_MS / 1000 + 30 }, SECRET);
    expect((await verifyDeviceToken(skewed, SECRET, NOW_MS)).ok).toBe(true);
  });

  it("refuses missing, empty and garbage tokens as values, never by throwing", async () => {
    expect((await failure(null))?.code).toBe("missing");
    expect((await failure(""))?.code).toBe("missing");
    const b64 = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "");
    for (const garbage of [
      "nodots",
      "sv1.a.b.c",
      "x".repeat(3_000),
      "sv1.!!!.abc",
      `sv1.${b64([1, 2])}.abc`,
      `sv1.${b64({ ...claims, extra: 1 })}.abc`,
      `sv1.${btoa(`{"__proto__":{"role":"owner"},"v":1}`)}.abc`,
      "sv2.abc.def",
    ]) {
      expect((await failure(garbage))?.code, garbage.slice(0, 40)).toBe("malformed");
    }
  });

  it("takes the token from the Authorization header first, else from ?token=", () => {
    const both = new Request("https://x/v1/branches/b/changes?token=from-query", { headers: { Authorization: "Bearer from-header" } });
    expect(tokenFromRequest(both)).toBe("from-header");
    expect(tokenFromRequest(new Request("https://x/?token=from-query"))).toBe("from-query");
    expect(tokenFromRequest(new Request("https://x/"))).toBeNull();
  });
});

describe("npm run token", () => {
  const tmp = () => path.join(mkdtempSync(path.join(tmpdir(), "sv-token-")), ".dev.vars");

  it("creates a development secret once, then reuses it; the token verifies with it", async () => {
    const devVars = tmp();
    const first = await mintFromArgs(["--branch", "colombo-main", "--role", "manager"], { devVarsPath: devVars, nowMs: NOW_MS });
    const second = await mintFromArgs(["--branch", "colombo-main", "--role", "manager", "--ttl", "12h"], { devVarsPath: devVars, nowMs: NOW_MS });
    expect(first.ok && first.value.createdSecret).toBe(true);
    expect(second.ok && second.value.createdSecret).toBe(false);
    const secret = /TOKEN_SECRET=(\w+)/.exec(readFileSync(devVars, "utf8"))![1]!;
    const verified = await verifyDeviceToken(second.ok ? second.value.token : null, secret, NOW_MS);
    expect(verified.ok && verified.value).toMatchObject({ branch: "colombo-main", role: "manager", exp: NOW_MS / 1000 + 12 * 3600 });
  });

  it("keeps other lines of an existing .dev.vars", async () => {
    const devVars = tmp();
    writeFileSync(devVars, "OTHER=1");
    await mintFromArgs(["--branch", "b1", "--role", "owner"], { devVarsPath: devVars, nowMs: NOW_MS });
    expect(readFileSync(devVars, "utf8")).toMatch(/^OTHER=1\nTOKEN_SECRET=[0-9a-f]{64}\n$/);
  });

  it.each([
    [["--branch", "b1", "--role", "boss"], /--role: received "boss", expected one of owner, manager/],
    [["--branch", "b1", "--role", "owner", "--ttl", "forever"], /--ttl: received "forever"/],
    [["--branch", "b1", "--role", "owner", "--ttl", "400d"], /at most 365d/],
    [["--role", "owner"], /--branch: received nothing/],
    [["--branch", "Bad_Branch", "--role", "owner"], /--branch: received "Bad_Branch"/],
    [["--branch", "b1", "--role", "owner", "--colour", "red"], /Unknown option '--colour'/],
  ])("refuses %j with a clear error and writes nothing", async (argv, message) => {
    const devVars = tmp();
    const result = await mintFromArgs(argv, { devVarsPath: devVars, nowMs: NOW_MS });
    expect(result.ok).toBe(false);
    expect(result.ok ? "" : result.error).toMatch(message);
    expect(existsSync(devVars)).toBe(false);
  });
});
