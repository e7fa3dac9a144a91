/**
 * The Worker's edge inside workerd: what a refused, malformed or hostile request may reach (nothing
 * behind the token check), the answers it gets, and device revocation over HTTP.
 *
 * How "no Durable Object was touched" is observed: `listDurableObjectIds(env.BRANCH)` lists the
 * objects of the namespace that have storage. A branch object writes storage as soon as it starts
 * (partyserver's name record and the branch's migrations), so an object that was woken even once is
 * listed; the control case below checks that a branch reached with a valid token is.
 */
import { env, listDurableObjectIds, runInDurableObject, SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { signDeviceToken } from "../../durable/auth.js";
import { type BranchDurableObject, useClock } from "../../durable/branch-do.js";
import type { DeviceClaims } from "../../protocol/token.js";
import { connect, newId, openSocket, ORIGIN, tokenFor } from "./support.js";

let n = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;
/** A client address of its own per test (TEST-NET-2), so the refusal budgets of tests do not mix. */
const address = () => `198.51.100.${(++n % 250) + 1}`;

const call = (method: string, branch: string, path: string, opts: { token?: string; ip?: string; body?: string; headers?: Record<string, string> } = {}) =>
  SELF.fetch(`${ORIGIN}/v1/branches/${branch}/${path}`, {
    method,
    body: opts.body,
    headers: {
      ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.ip ? { "CF-Connecting-IP": opts.ip } : {}),
      ...opts.headers,
    },
  });

async function branchObjectExists(branch: string): Promise<boolean> {
  const wanted = env.BRANCH.idFromName(branch);
  return (await listDurableObjectIds(env.BRANCH)).some((id) => id.equals(wanted));
}

async function auditOf(branch: string) {
  const response = await call("GET", branch, "audit?limit=1000", { token: await tokenFor(branch, newId(), "owner") });
  expect(response.status).toBe(200);
  return ((await response.json()) as { entries: Array<{ kind: string; code: string | null; device_id: string | null; user_id: string | null; message: string }> }).entries;
}

/** Every kind of refused token for `branch`: none, garbage, a forged signature, expired, not yet valid, another branch. */
async function refusedTokens(branch: string): Promise<Array<string | undefined>> {
  const good = await tokenFor(branch, newId(), "owner");
  const [prefix, claims, signature] = good.split(".");
  const forgedClaims = claims!.slice(0, -2) + (claims!.endsWith("AA") ? "BB" : "AA");
  const iat = Math.floor(Date.now() / 1000);
  const notYet = await signDeviceToken({ v: 1, branch, device: newId(), user: "u", role: "owner", iat: iat + 3_600, exp: iat + 7_200 } as DeviceClaims, env.TOKEN_SECRET);
  return [
    undefined,
    "garbage",
    `${prefix}.${forgedClaims}.${signature}`,
    await signDeviceToken({ v: 1, branch, device: newId(), user: "u", role: "owner", iat: iat - 1, exp: iat } as DeviceClaims, "a-secret-that-is-not-the-servers-0123456789"),
    await tokenFor(branch, newId(), "owner", 60, 120), // validly signed, expired a minute ago
    notYet,
    await tokenFor("elsewhere", newId(), "owner"), // validly signed, another branch
  ];
}

describe("refused tokens never reach a branch (I11, I12)", () => {
  // The Worker logs each refusal with console.warn: kept out of the test output, read by the tests.
  let warn: MockInstance<typeof console.warn>;
  beforeEach(() => {
    warn = vi.spyOn(console, "warn").mockImplementation(() => {});
  });
  afterEach(() => warn.mockRestore());
  const refusalLines = () => warn.mock.calls.map((args) => String(args[0])).filter((l) => l.includes('"token_refused"'));

  it("200 refused requests to made-up branch names create no Durable Object", async () => {
    const control = fresh("edge-control");
    expect(await branchObjectExists(control)).toBe(false);
    expect((await call("GET", control, "changes", { token: await tokenFor(control, newId()) })).status).toBe(200);
    expect(await branchObjectExists(control), "a branch reached with a valid token is listed").toBe(true);

    const ghosts: string[] = [];
    const signatures: string[] = [];
    const statuses = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const ghost = fresh("ghost");
      ghosts.push(ghost);
      const tokens = await refusedTokens(ghost);
      const token = tokens[i % tokens.length];
      if (token?.includes(".")) signatures.push(token.split(".").at(-1)!);
      const path = ["changes", "audit", "push", "ledger", "devices", "snapshots", "sync"][i % 7]!;
      const method = path === "push" || path === "snapshots" ? "POST" : "GET";
      const headers: Record<string, string> = path === "sync" ? { Upgrade: "websocket" } : {};
      const response = await call(method, ghost, path, { token, ip: `203.0.113.${(i % 200) + 1}`, body: method === "POST" ? "{}" : undefined, headers });
      statuses.add(response.status);
      await response.body?.cancel();
    }
    for (const ghost of ghosts) expect(await branchObjectExists(ghost), ghost).toBe(false);
    expect([...statuses].sort()).toEqual([401, 403]);
    // One log line per refusal, and never a token in it.
    const lines = refusalLines();
    expect(lines).toHaveLength(200);
    for (const signature of signatures) expect(lines.some((l) => l.includes(signature))).toBe(false);
  });

  it("refusals for a real branch write nothing to its audit or its device list", async () => {
    const branch = fresh("edge-real");
    const before = await auditOf(branch);
    for (let i = 0; i < 60; i++) {
      const tokens = await refusedTokens(branch);
      const response = await call("GET", branch, "changes", { token: tokens[i % tokens.length], ip: `192.0.2.${(i % 200) + 1}` });
      expect([401, 403]).toContain(response.status);
    }
    const after = await auditOf(branch);
    expect(after.filter((e) => e.kind === "token_failure")).toEqual([]);
    expect(after.length).toBe(before.length);
    const devices = await call("GET", branch, "devices", { token: await tokenFor(branch, newId(), "manager") });
    expect(((await devices.json()) as { devices: unknown[] }).devices).toEqual([]);
  });

  it("past the limit of refusals from one address the answer is 429 with Retry-After, and a valid token still passes", async () => {
    const ip = address();
    const branch = fresh("ghost-limit");
    const seen: number[] = [];
    // The limiter counts in fixed windows; at most two windows' worth is needed to cross the limit.
    for (let i = 0; i < 125 && !seen.includes(429); i++) {
      const response = await call("GET", branch, "changes", { ip });
      seen.push(response.status);
      if (response.status === 429) {
        expect(response.headers.get("Retry-After")).toBe("60");
        expect(await response.json()).toEqual({ error: "rate_limited", message: expect.stringMatching(/too many refused tokens/) });
      } else {
        await response.body?.cancel();
      }
    }
    expect(seen.at(-1)).toBe(429);
    expect(seen.slice(0, -1).every((s) => s === 401)).toBe(true);
    expect(seen.length).toBeGreaterThan(60);
    // Another address is not affected, and a valid token from the limited address is served.
    expect((await call("GET", branch, "changes", { ip: address() })).status).toBe(401);
    expect((await call("GET", branch, "changes", { ip, token: await tokenFor(branch, newId(), "viewer") })).status).toBe(200);
    expect(await branchObjectExists(branch)).toBe(true); // only the valid request woke it
  });
});

describe("HTTP edges answer with their documented errors (I12)", () => {
  it("refuses a ledger day that is not a calendar date", async () => {
    const branch = fresh("edge-ledger");
    const token = await tokenFor(branch, newId(), "manager");
    const bad = await call("GET", branch, "ledger?day=2026-02-30", { token });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: "bad_request", message: 'day must be a calendar date YYYY-MM-DD, received "2026-02-30"' });
    expect((await call("GET", branch, "ledger?day=2028-02-29", { token })).status).toBe(200);
    expect((await call("GET", branch, "ledger?day=2027-02-29", { token })).status).toBe(400);
  });

  it("answers a branch id that is not percent-encoding with a 400 JSON error, no stack trace", async () => {
    const response = await SELF.fetch(`${ORIGIN}/v1/branches/%/changes`);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: string; message: string };
    expect(body).toEqual({ error: "bad_request", message: 'branch id "%": not valid percent-encoding' });
    const surrogate = await SELF.fetch(`${ORIGIN}/v1/branches/%ED%A0%80/changes`);
    expect(surrogate.status).toBe(400);
  });

  it("does not let a client's x-partykit-* headers or _pk reach the branch", async () => {
    const branch = fresh("edge-partykit");
    const token = await tokenFor(branch, newId(), "owner");
    const response = await call("GET", branch, "changes?_pk=mine", {
      token,
      headers: { "x-partykit-props": "!!not base64!!", "x-partykit-room": "another-room", "x-partykit-namespace": "x" },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ type: "changes", changes: [] });
    const socket = await openSocket(branch, token);
    if (socket instanceof Response) throw new Error(`expected an upgrade, got ${socket.status}`);
    socket.close();
  });

  it("answers a wrong method with 405 and Allow, before reading the token or the body", async () => {
    const branch = fresh("ghost-method");
    const response = await call("POST", branch, "changes", { body: "x".repeat(100_000) });
    expect(response.status).toBe(405);
    expect(response.headers.get("Allow")).toBe("GET");
    expect(await response.json()).toMatchObject({ error: "method_not_allowed" });
    expect((await call("DELETE", branch, "push")).status).toBe(405);
    expect(await branchObjectExists(branch)).toBe(false);
  });

  it("refuses a push body over FRAME_LIMIT_BYTES at the Worker with 413, and a bad request_id with 400", async () => {
    const branch = fresh("edge-413");
    const token = await tokenFor(branch, newId(), "owner");
    const big = await call("POST", branch, "push", { token, body: "x".repeat(900_001) });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ error: "frame_too_large" });
    const badId = await call("GET", branch, "changes?request_id=not-a-uuid", { token });
    expect(badId.status).toBe(400);
  });

  it("answers an exception inside the branch's onRequest as a JSON 500 without a stack trace", async () => {
    const branch = fresh("edge-500");
    const token = await tokenFor(branch, newId(), "manager");
    expect((await call("GET", branch, "changes", { token })).status).toBe(200);
    // A broken clock (NaN) makes a timestamp throw RangeError inside the request handler: the only
    // honest way to make it throw from outside. The stack goes to the log (silenced here), not the client.
    const stub = env.BRANCH.get(env.BRANCH.idFromName(branch));
    await runInDurableObject(stub, (instance: BranchDurableObject) => useClock(instance, () => Number.NaN));
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    try {
      const response = await call("POST", branch, "snapshots", { token });
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(JSON.parse(text)).toEqual({ error: "internal_error", message: expect.stringMatching(/^the branch could not answer this request \(logged as [0-9a-f-]{36}\)$/) });
      expect(text).not.toMatch(/RangeError|\.ts:|at /);
      expect(logged.mock.calls.some((args) => String(args[0]).startsWith("internal error ") && args[1] instanceof RangeError)).toBe(true);
    } finally {
      logged.mockRestore();
      await runInDurableObject(stub, (instance: BranchDurableObject) => useClock(instance, () => Date.now()));
    }
    expect((await call("GET", branch, "changes", { token })).status).toBe(200);
  });
});

describe("revoking a device over HTTP", () => {
  it("closes the device's socket with 4016, refuses its next connection and its HTTP requests, and audits who and why", async () => {
    const branch = fresh("edge-revoke");
    const manager = newId();
    const till = newId();
    const managerToken = await tokenFor(branch, manager, "manager");
    const tillToken = await tokenFor(branch, till, "cashier");
    const tillSocket = await connect(branch, till, "cashier");

    const list = await call("GET", branch, "devices", { token: managerToken });
    expect(list.status).toBe(200);
    const { devices } = (await list.json()) as { devices: Array<{ device_id: string; revoked_at: string | null; role: string }> };
    expect(devices).toEqual([expect.objectContaining({ device_id: till, role: "cashier", revoked_at: null })]);

    const revoke = await call("POST", branch, `devices/${till}/revoke`, { token: managerToken, body: JSON.stringify({ reason: "till stolen" }) });
    expect(revoke.status).toBe(200);
    const revoked = (await revoke.json()) as { device_id: string; revoked_at: string; already: boolean };
    expect(revoked).toEqual({ device_id: till, revoked_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), already: false });

    const fatal = await tillSocket.next("error");
    expect(fatal).toMatchObject({ code: "device_revoked", fatal: true, message: expect.stringContaining("till stolen") });
    expect(await tillSocket.waitClosed()).toEqual({ code: 4016, reason: "device_revoked" });

    const again = await openSocket(branch, tillToken);
    if (again instanceof Response) throw new Error(`expected an upgrade, got ${again.status}`);
    expect((await again.next("error")).code).toBe("device_revoked");
    expect((await again.waitClosed()).code).toBe(4016);
    again.close();
    tillSocket.close();

    for (const path of ["changes", "ledger"]) {
      const refused = await call("GET", branch, path, { token: tillToken });
      expect(refused.status, path).toBe(403);
      expect(await refused.json()).toEqual({ error: "device_revoked", message: `device ${till} was revoked; ask a manager for a token for a new device` });
    }
    const pushed = await call("POST", branch, "push", { token: tillToken, body: JSON.stringify({ type: "push", batch_id: newId(), events: [] }) });
    expect(pushed.status).toBe(403);
    // Snapshots are served from R2 by the Worker, which asks the branch first.
    for (const path of ["snapshots/latest", "snapshots/1/data"]) {
      const refused = await call("GET", branch, path, { token: tillToken });
      expect(refused.status, path).toBe(403);
      expect(await refused.json()).toMatchObject({ error: "device_revoked" });
    }
    expect((await call("GET", branch, "snapshots/latest", { token: managerToken })).status).toBe(404); // none yet, but allowed

    const audit = (await auditOf(branch)).filter((e) => e.kind === "device_revoked");
    expect(audit).toEqual([
      expect.objectContaining({ device_id: till, user_id: `user-${manager.slice(-4)}`, code: "device_revoked", message: expect.stringContaining("till stolen") }),
    ]);
    expect(audit[0]!.message).toContain(manager);

    const twice = await call("POST", branch, `devices/${till}/revoke`, { token: managerToken, body: JSON.stringify({ reason: "again" }) });
    expect(await twice.json()).toEqual({ ...revoked, already: true });
    const after = (await (await call("GET", branch, "devices", { token: managerToken })).json()) as { devices: Array<{ device_id: string; revoked_at: string | null; revoke_reason: string | null }> };
    expect(after.devices.find((d) => d.device_id === till)).toMatchObject({ revoked_at: revoked.revoked_at, revoke_reason: "till stolen" });
  });

  it("is for owners and managers only: a cashier gets 403 on both endpoints", async () => {
    const branch = fresh("edge-revoke-role");
    const token = await tokenFor(branch, newId(), "cashier");
    const list = await call("GET", branch, "devices", { token });
    expect(list.status).toBe(403);
    expect(await list.json()).toEqual({ error: "forbidden", message: "role cashier may not manage devices" });
    const revoke = await call("POST", branch, `devices/${newId()}/revoke`, { token, body: JSON.stringify({ reason: "x" }) });
    expect(revoke.status).toBe(403);
    for (const role of ["staff", "viewer"] as const) {
      expect((await call("GET", branch, "devices", { token: await tokenFor(branch, newId(), role) })).status, role).toBe(403);
    }
  });

  it("refuses a self-revocation and a bad body or device id with a 400 that names what is wrong", async () => {
    const branch = fresh("edge-revoke-bad");
    const me = newId();
    const token = await tokenFor(branch, me, "owner");
    const revoke = (device: string, body: string) => call("POST", branch, `devices/${device}/revoke`, { token, body });

    const self = await revoke(me, JSON.stringify({ reason: "testing" }));
    expect(self.status).toBe(400);
    expect(await self.json()).toEqual({ error: "bad_request", message: "a device cannot revoke itself; revoke it from another manager's device" });

    const cases: Array<[string, string, RegExp]> = [
      [newId(), "{}", /^reason: /],
      [newId(), JSON.stringify({ reason: "" }), /^reason: .*>=1/],
      [newId(), JSON.stringify({ reason: "x".repeat(501) }), /^reason: .*<=500/],
      [newId(), JSON.stringify({ reason: "two\nlines" }), /^reason: must be a single line/],
      [newId(), JSON.stringify({ reason: "ok", extra: 1 }), /extra/],
      [newId(), JSON.stringify({ reason: 7 }), /^reason: /],
      [newId(), "not json", /^the body is not JSON/],
      ["NOT-A-UUID", JSON.stringify({ reason: "ok" }), /^device id "NOT-A-UUID": must be a lower-case canonical UUID/],
    ];
    for (const [device, body, message] of cases) {
      const response = await revoke(device, body);
      expect(response.status, body).toBe(400);
      expect(((await response.json()) as { message: string }).message, body).toMatch(message);
    }
    const ok = await revoke(newId(), JSON.stringify({ reason: "x".repeat(500) }));
    expect(ok.status).toBe(200);
    const entries = await auditOf(branch);
    expect(entries.filter((e) => e.kind === "device_revoked")).toHaveLength(1);
  });
});

describe("cross-origin callers (CORS)", () => {
  const origin = { Origin: "https://studio-site.example" };

  it("a preflight is answered by the Worker alone, for any route and origin, and wakes no branch", async () => {
    const branch = fresh("cors-preflight");
    const response = await call("OPTIONS", branch, "dashboard/devices", {
      headers: { ...origin, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization" },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get("Access-Control-Allow-Origin")).toBe("*");
    expect(response.headers.get("Access-Control-Allow-Methods")).toBe("GET, POST, PUT");
    expect(response.headers.get("Access-Control-Allow-Headers")).toContain("Authorization");
    expect(await branchObjectExists(branch)).toBe(false);
  });

  it("every answer may be read by a page on another origin: the branch's, a refusal's, a 404's and /health's, with Retry-After readable", async () => {
    const branch = fresh("cors-answers");
    const token = await tokenFor(branch, newId(), "owner");
    const answers = [
      await call("GET", branch, "dashboard/devices", { token, headers: origin }),
      await call("GET", branch, "changes?since=0", { token: "not-a-token", ip: address(), headers: origin }),
      await call("GET", branch, "nothing-here", { token, headers: origin }),
      await SELF.fetch(`${ORIGIN}/health`, { headers: origin }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 404, 200]);
    for (const answer of answers) {
      expect(answer.headers.get("Access-Control-Allow-Origin")).toBe("*");
      expect(answer.headers.get("Access-Control-Expose-Headers")).toContain("Retry-After");
      await answer.body?.cancel();
    }
  });
});
