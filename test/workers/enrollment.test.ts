/**
 * One-time sign-in codes through the real Worker and branch Durable Object: a manager issues one, a
 * till exchanges it (typed as a person types it) for a device token that the Worker accepts; wrong,
 * used, expired and cancelled codes are told apart; guessing is bounded per code and per address;
 * everything is audited.
 */
import { env, runInDurableObject, SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type BranchDurableObject, useClock } from "../../durable/branch-do.js";
import { ENROLLED_TOKEN_TTL_S, MAX_WRONG_TRIES } from "../../protocol/enrollment.js";
import { decodeTokenUnverified } from "../../protocol/token.js";
import { newId, ORIGIN, tokenFor } from "./support.js";

let n = 0;
const fresh = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++n}`;
/** A client address of its own per test (TEST-NET-3), so the rate-limit budgets of tests do not mix. */
const address = () => `203.0.113.${(++n % 250) + 1}`;

const post = (branch: string, path: string, body: unknown, opts: { token?: string; ip?: string } = {}) =>
  SELF.fetch(`${ORIGIN}/v1/branches/${branch}/${path}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { ...(opts.token ? { Authorization: `Bearer ${opts.token}` } : {}), ...(opts.ip ? { "CF-Connecting-IP": opts.ip } : {}) },
  });

async function issue(branch: string, managerToken: string, body: unknown = { role: "cashier", user: "nimal" }) {
  const response = await post(branch, "enrollments", body, { token: managerToken });
  expect(response.status, await response.clone().text()).toBe(201);
  return (await response.json()) as { code: string; expires_at: string; role: string; user: string };
}

/** How a person types `K7QF-9M2X` off a screen: lower case, a space for the dash. */
const typed = (code: string) => code.toLowerCase().replace("-", " ");

async function auditOf(branch: string) {
  const response = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/audit?limit=1000`, { headers: { Authorization: `Bearer ${await tokenFor(branch, newId(), "owner")}` } });
  return ((await response.json()) as { entries: Array<{ kind: string; code: string | null; device_id: string | null; message: string }> }).entries;
}

async function atTime(branch: string, clockMs: () => number) {
  const stub = env.BRANCH.get(env.BRANCH.idFromName(branch));
  await runInDurableObject(stub, (instance: BranchDurableObject) => useClock(instance, clockMs));
}

describe("one-time sign-in codes", () => {
  it("a manager's code, typed in lower case with a space, gives a new till a token the Worker accepts, once", async () => {
    const branch = fresh("enroll-new");
    const managerToken = await tokenFor(branch, newId(), "manager");
    const issued = await issue(branch, managerToken, { role: "cashier", user: "nimal", ttl_minutes: 30 });
    expect(issued).toEqual({ code: expect.stringMatching(/^[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}$/), expires_at: expect.stringMatching(/Z$/), role: "cashier", user: "nimal" });
    const minutes = (Date.parse(issued.expires_at) - Date.now()) / 60_000;
    expect(minutes).toBeGreaterThan(29);
    expect(minutes).toBeLessThanOrEqual(30);

    const ip = address();
    const response = await post(branch, "enroll", { code: typed(issued.code) }, { ip });
    expect(response.status).toBe(200);
    const enrolled = (await response.json()) as { token: string; device_id: string; branch: string; role: string; user: string; expires_at: string };
    expect(enrolled).toMatchObject({ branch, role: "cashier", user: "nimal", device_id: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    const claims = decodeTokenUnverified(enrolled.token);
    if (!claims.ok) throw new Error(claims.error.message);
    expect(claims.value).toMatchObject({ branch, device: enrolled.device_id, user: "nimal", role: "cashier" });
    expect(claims.value.exp - claims.value.iat).toBe(ENROLLED_TOKEN_TTL_S);
    expect(enrolled.expires_at).toBe(new Date(claims.value.exp * 1000).toISOString());

    const changes = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/changes`, { headers: { Authorization: `Bearer ${enrolled.token}` } });
    expect(changes.status).toBe(200);

    const again = await post(branch, "enroll", { code: issued.code }, { ip });
    expect(again.status).toBe(410);
    expect(await again.json()).toEqual({ error: "enrollment_code_used", message: expect.stringMatching(/^this code was already used at .*; ask a manager for a new one$/) });

    const audit = await auditOf(branch);
    expect(audit.map((e) => e.kind).filter((k) => k.startsWith("enrollment_"))).toEqual(["enrollment_issued", "enrollment_used", "enrollment_refused"]);
    expect(audit.find((e) => e.kind === "enrollment_used")).toMatchObject({ device_id: enrolled.device_id });
    // The branch keeps a hash, never the code itself, not even in its audit log.
    expect(JSON.stringify(audit)).not.toContain(issued.code);
  });

  it("signs an existing device in again under the same device id, and never a revoked one", async () => {
    const branch = fresh("enroll-again");
    const managerToken = await tokenFor(branch, newId(), "manager");
    const till = newId();
    const first = await issue(branch, managerToken);
    const response = await post(branch, "enroll", { code: first.code, device_id: till }, { ip: address() });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ device_id: till });

    const revoke = await post(branch, `devices/${till}/revoke`, { reason: "till stolen" }, { token: managerToken });
    expect(revoke.status).toBe(200);
    const second = await issue(branch, managerToken);
    const refused = await post(branch, "enroll", { code: second.code, device_id: till }, { ip: address() });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ error: "device_revoked", message: `device ${till} was revoked; this code can still set it up as a new device` });
    // The code was not spent on the refusal: the till joins as a new device with it.
    const asNew = await post(branch, "enroll", { code: second.code }, { ip: address() });
    expect(asNew.status).toBe(200);
    expect(((await asNew.json()) as { device_id: string }).device_id).not.toBe(till);
  });

  it("tells an expired code from a wrong one", async () => {
    const branch = fresh("enroll-expired");
    const managerToken = await tokenFor(branch, newId(), "manager");
    const issued = await issue(branch, managerToken);
    try {
      await atTime(branch, () => Date.now() + 15 * 60_000 + 1);
      const response = await post(branch, "enroll", { code: issued.code }, { ip: address() });
      expect(response.status).toBe(410);
      expect(await response.json()).toEqual({ error: "enrollment_code_expired", message: `this code expired at ${issued.expires_at}; ask a manager for a new one` });
    } finally {
      await atTime(branch, () => Date.now());
    }
    const wrong = await post(branch, "enroll", { code: "AAAA-AAAA" }, { ip: address() });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: "enrollment_code_wrong", message: "no such sign-in code on this branch; check it and type it again, or ask a manager for a new one" });
  });

  it(`cancels a live code after ${MAX_WRONG_TRIES} wrong codes; a code that cannot be one is refused without counting`, async () => {
    const branch = fresh("enroll-guess");
    const managerToken = await tokenFor(branch, newId(), "manager");
    const issued = await issue(branch, managerToken);
    const malformed = await post(branch, "enroll", { code: "O0O0-1I1L" }, { ip: address() });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: "enrollment_code_malformed" });
    // Guesses from many addresses: the per-address limit does not see them, the branch does.
    const guesses = ["AAAA-AAAA", "BBBB-BBBB", "CCCC-CCCC", "DDDD-DDDD", "EEEE-EEEE"].filter((g) => g !== issued.code);
    for (const guess of guesses.slice(0, MAX_WRONG_TRIES)) expect((await post(branch, "enroll", { code: guess }, { ip: address() })).status).toBe(401);
    const late = await post(branch, "enroll", { code: issued.code }, { ip: address() });
    expect(late.status).toBe(410);
    expect(await late.json()).toMatchObject({ error: "enrollment_code_cancelled" });
    const refusals = (await auditOf(branch)).filter((e) => e.kind === "enrollment_refused");
    expect(refusals.at(-2)?.message).toContain("1 code(s) now cancelled");
  });

  it("rate-limits code exchanges per client address before the branch is touched", async () => {
    const branch = fresh("enroll-rate");
    const ip = address();
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++) statuses.push((await post(branch, "enroll", { code: "AAAA-AAAA" }, { ip })).status);
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses[10]).toBe(429);
    const limited = await post(branch, "enroll", { code: "AAAA-AAAA" }, { ip });
    expect(limited.headers.get("Retry-After")).toBe("60");
    expect(await limited.json()).toEqual({ error: "rate_limited", message: "too many sign-in codes tried from this address; wait 60 s and try again" });
  });

  it("is a manager's: a cashier may not ask for a code, a manager not for an owner's, and a bad body says what is wrong", async () => {
    const branch = fresh("enroll-roles");
    const cashier = await post(branch, "enrollments", { role: "cashier", user: "x" }, { token: await tokenFor(branch, newId(), "cashier") });
    expect(cashier.status).toBe(403);
    expect(await cashier.json()).toEqual({ error: "forbidden", message: "role cashier may not manage devices" });
    const managerToken = await tokenFor(branch, newId(), "manager");
    const owner = await post(branch, "enrollments", { role: "owner", user: "x" }, { token: managerToken });
    expect(owner.status).toBe(403);
    expect(await owner.json()).toEqual({ error: "forbidden", message: "role manager may not issue a code for role owner, which is above its own" });
    expect((await post(branch, "enrollments", { role: "manager", user: "ruwan" }, { token: managerToken })).status).toBe(201);
    const cases: Array<[unknown, RegExp]> = [
      [{ role: "chef", user: "x" }, /^role: /],
      [{ role: "cashier", user: "x", ttl_minutes: 24 * 60 + 1 }, /^ttl_minutes: /],
      [{ role: "cashier" }, /^user: /],
      ["not json", /^the body is not JSON/],
    ];
    for (const [body, message] of cases) {
      const response = await post(branch, "enrollments", body, { token: managerToken });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(((await response.json()) as { message: string }).message).toMatch(message);
    }
    const noToken = await post(branch, "enrollments", { role: "cashier", user: "x" });
    expect(noToken.status).toBe(401);
    const get = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/enroll`);
    expect(get.status).toBe(405);
  });
});
