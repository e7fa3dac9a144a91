/** The Worker refuses every request without a valid token for the branch, before it reaches the branch (edge.test.ts checks that no refusal touches a Durable Object). */
import { SELF } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { newId, openSocket, ORIGIN, tokenFor } from "./support.js";

const branch = "auth-branch";

const get = (path: string, token?: string) =>
  SELF.fetch(`${ORIGIN}/v1/branches/${branch}/${path}`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });

describe("device tokens at the Worker (I11)", () => {
  it("refuses a missing token with 401 and says why", async () => {
    const response = await get("changes");
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ error: "unauthorized", code: "missing" });
  });

  it("refuses a tampered token", async () => {
    const token = await tokenFor(branch, newId(), "owner");
    const [prefix, payload, signature] = token.split(".");
    const claims = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/")));
    const forged = btoa(JSON.stringify({ ...claims, role: "owner", branch })).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const response = await get("changes", `${prefix}.${forged}x.${signature}`);
    expect(response.status).toBe(401);
    const body = (await response.json()) as { code: string };
    expect(["bad_signature", "malformed"]).toContain(body.code);
  });

  it("refuses an expired token and names the expiry", async () => {
    const token = await tokenFor(branch, newId(), "owner", 60, 100); // issued 100 s ago, valid for 60 s
    const response = await get("changes", token);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ code: "expired", message: expect.stringMatching(/expired/) });
  });

  it("refuses a token for another branch with 403", async () => {
    const response = await get("changes", await tokenFor("other-branch", newId(), "owner"));
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: "forbidden", message: "token is for branch other-branch, not auth-branch" });
  });

  it("refuses a WebSocket upgrade without a valid token", async () => {
    const refused = await openSocket(branch, null);
    expect(refused).toBeInstanceOf(Response);
    expect((refused as Response).status).toBe(401);
  });

  it("logs token failures at the Worker, one line without the token, and writes nothing to the branch", async () => {
    const warn = vi.spyOn(console, "warn");
    try {
      const wrong = await tokenFor("other-branch", newId(), "owner");
      await get("changes");
      await get("changes", wrong);
      const lines = warn.mock.calls.map((args) => String(args[0])).filter((l) => l.includes('"token_refused"'));
      expect(lines.map((l) => JSON.parse(l))).toEqual([
        expect.objectContaining({ event: "token_refused", code: "missing", branch, path: `/v1/branches/${branch}/changes`, device: null }),
        expect.objectContaining({ event: "token_refused", code: "wrong_branch", branch, token_branch: "other-branch", rate_limited: false }),
      ]);
      expect(lines.join("\n")).not.toContain(wrong.split(".")[2]);
    } finally {
      warn.mockRestore();
    }
    const response = await get("audit?limit=100", await tokenFor(branch, newId(), "manager"));
    expect(response.status).toBe(200);
    const { entries } = (await response.json()) as { entries: Array<{ kind: string; code: string }> };
    expect(entries.filter((e) => e.kind === "token_failure")).toEqual([]);
  });

  it("lets a role read only what the matrix allows", async () => {
    expect((await get("audit", await tokenFor(branch, newId(), "cashier"))).status).toBe(403);
    expect((await get("ledger", await tokenFor(branch, newId(), "viewer"))).status).toBe(403);
    expect((await get("ledger", await tokenFor(branch, newId(), "cashier"))).status).toBe(200);
  });

  it("answers a bad branch id and a plain GET of the sync endpoint clearly", async () => {
    const bad = await SELF.fetch(`${ORIGIN}/v1/branches/Not_A_Branch/changes`);
    expect(bad.status).toBe(400);
    const plain = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/sync`);
    expect(plain.status).toBe(426);
  });
});
