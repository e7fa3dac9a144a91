/**
 * The branch's settings in the core, on a real SQLite database: the studio's details start as the
 * server's defaults (STUDIO_* vars), settings stored before studios existed are read with those
 * defaults, and a manager's change is stored and audited with what changed (nothing when nothing did).
 */
import { describe, expect, it } from "vitest";
import type { BranchId } from "../../../domain/index.js";
import { nodeSqlStore } from "../../../durable/adapters/node-sqlite.js";
import { BranchCore } from "../../../durable/core/branch.js";
import { BranchHttpApi } from "../../../durable/core/http-api.js";
import { actor, DEVICES } from "../../support/branch.js";

const core = (sql = nodeSqlStore(":memory:"), defaultStudio?: ConstructorParameters<typeof BranchCore>[3] extends infer O ? (O extends { defaultStudio?: infer S } ? S : never) : never) =>
  new BranchCore(sql, "galle-fort" as BranchId, () => Date.UTC(2026, 10, 25, 4), { defaultTimeZone: "Asia/Colombo", defaultStudio });

describe("studio settings in the branch core", () => {
  it("a new branch takes STUDIO_NAME, STUDIO_ADDRESS, STUDIO_PHONE, STUDIO_TAX_ID; empty ones mean the branch id and none", () => {
    expect(core(undefined, { name: "Lanka Light", address: "1 Church St\nGalle", phone: "091 222 3333", tax_id: "VAT-9" }).settings().studio).toEqual({
      name: "Lanka Light",
      address: "1 Church St\nGalle",
      phone: "091 222 3333",
      tax_id: "VAT-9",
    });
    expect(core(undefined, { name: "", address: "", phone: "", tax_id: "" }).settings().studio).toEqual({ name: "galle-fort", address: "", phone: null, tax_id: null });
  });

  it("a bad default is a clear error naming the variable to set", () => {
    expect(() => core(undefined, { name: "x".repeat(121) }).settings()).toThrow(/studio name is not valid: .*set STUDIO_NAME/);
  });

  it("settings stored before studios existed keep their time zone and take the defaults, stored from then on", () => {
    const sql = nodeSqlStore(":memory:");
    core(sql).setMeta("settings", { time_zone: "Europe/London" });
    expect(core(sql, { name: "Old Town Photo" }).settings()).toEqual({ time_zone: "Europe/London", studio: { name: "Old Town Photo", address: "", phone: null, tax_id: null } });
    // Stored: a server started later with other defaults does not rename the studio.
    expect(core(sql, { name: "Something else" }).settings().studio.name).toBe("Old Town Photo");
  });

  it("a change is stored and audited with what changed; the same values again change and audit nothing", () => {
    const sql = nodeSqlStore(":memory:");
    const c = core(sql, { name: "Lanka Light" });
    c.updateStudio(actor(DEVICES.A, "manager", "nimal"), { name: "Lanka Light Studio", phone: "091 222 3333" });
    expect(core(sql).settings().studio).toEqual({ name: "Lanka Light Studio", address: "", phone: "091 222 3333", tax_id: null });
    c.updateStudio(actor(DEVICES.A, "manager", "nimal"), { name: "Lanka Light Studio" });
    const entries = c.readAudit(0, 100).entries.filter((e) => e.kind === "settings_changed");
    expect(entries).toEqual([
      expect.objectContaining({ user_id: "nimal", role: "manager", message: 'studio name "Lanka Light" → "Lanka Light Studio"; phone null → "091 222 3333"' }),
    ]);
  });

  it("over the HTTP API: a manager reads and changes them; every bad field is worded; a cashier is refused", async () => {
    const c = core(undefined, { name: "Lanka Light" });
    const api = new BranchHttpApi(c, { publish: () => {}, disconnectDevice: () => {}, exportSnapshot: () => Promise.reject(new Error("no")), newRequestId: () => "x", mintToken: () => Promise.reject(new Error("no tokens here")), newDeviceId: () => DEVICES.C, randomBytes: (bytes) => void bytes.fill(7) });
    const request = (method: string, role: "manager" | "cashier", body = "") =>
      api.handle({ method, url: new URL("https://s.test/v1/branches/galle-fort/settings"), claims: { v: 1, branch: "galle-fort", device: DEVICES.B, user: "u", role, iat: 0, exp: 2e9 } as never, text: () => Promise.resolve(body) });
    expect(await request("GET", "manager")).toEqual({ status: 200, body: { time_zone: "Asia/Colombo", studio: { name: "Lanka Light", address: "", phone: null, tax_id: null } } });
    expect(await request("PUT", "manager", JSON.stringify({ studio: { address: "1 Church St\nGalle" } }))).toMatchObject({ status: 200, body: { studio: { name: "Lanka Light", address: "1 Church St\nGalle" } } });
    const bad = await request("PUT", "manager", JSON.stringify({ studio: { name: "Two\nlines", address: "x".repeat(501), tax_id: "" } }));
    expect(bad).toEqual({
      status: 400,
      body: {
        error: "bad_request",
        message: "nothing was changed: studio name: must be a single line without control characters; address: at most 500 characters; tax id: must not be empty",
      },
    });
    expect(await request("PUT", "cashier", JSON.stringify({ studio: { name: "Mine" } }))).toEqual({ status: 403, body: { error: "forbidden", message: "role cashier may not manage settings" } });
    expect(c.settings().studio.name).toBe("Lanka Light");
  });
});
