/**
 * The branch's settings over HTTP inside workerd (issue 14): an owner or manager reads and changes
 * the studio's details, every bad field is named in words and changes nothing, other roles are
 * refused, the change is audited, and a device connecting afterwards learns it in its welcome (v5).
 * The defaults come from the server's STUDIO_* vars (vitest.config.ts binds them like wrangler.toml's [vars]).
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { type Role } from "../../domain/index.js";
import { PROTOCOL_VERSION } from "../../protocol/index.js";
import { newId, openSocket, ORIGIN, tokenFor } from "./support.js";

let n = 0;
const fresh = () => `settings-${Date.now().toString(36)}-${++n}`;

async function call(method: string, branch: string, role: Role, body?: unknown, device = newId()) {
  const response = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/settings`, {
    method,
    headers: { Authorization: `Bearer ${await tokenFor(branch, device, role)}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any>, allow: response.headers.get("Allow") };
}

describe("studio settings over HTTP", () => {
  it("a new branch takes the server's defaults; a manager changes them, audited; a device connecting later is told in its welcome", async () => {
    const branch = fresh();
    expect(await call("GET", branch, "manager")).toEqual({
      status: 200,
      allow: null,
      body: { time_zone: "Asia/Colombo", studio: { name: "Lanka Light Studio", address: "12 Galle Road\nColombo 3", phone: null, tax_id: null } },
    });
    const put = await call("PUT", branch, "manager", { studio: { name: "Perera Photo", phone: "+94 11 234 5678", tax_id: "VAT 1234" } });
    expect(put).toMatchObject({
      status: 200,
      body: { time_zone: "Asia/Colombo", studio: { name: "Perera Photo", address: "12 Galle Road\nColombo 3", phone: "+94 11 234 5678", tax_id: "VAT 1234" } },
    });
    // Fields left out are kept; null clears a phone.
    expect((await call("PUT", branch, "owner", { studio: { address: "7 Kandy Road", phone: null } })).body.studio).toEqual({
      name: "Perera Photo",
      address: "7 Kandy Road",
      phone: null,
      tax_id: "VAT 1234",
    });

    const audit = await SELF.fetch(`${ORIGIN}/v1/branches/${branch}/audit?limit=100`, { headers: { Authorization: `Bearer ${await tokenFor(branch, newId(), "owner")}` } });
    const entries = ((await audit.json()) as { entries: Array<{ kind: string; role: string; message: string }> }).entries.filter((e) => e.kind === "settings_changed");
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ role: "manager", message: expect.stringContaining('name "Lanka Light Studio" → "Perera Photo"') });

    const device = newId();
    const till = await openSocket(branch, await tokenFor(branch, device, "cashier"));
    if (till instanceof Response) throw new Error(`upgrade refused: ${till.status}`);
    till.send({ type: "hello", protocol_version: PROTOCOL_VERSION, device_id: device, cursor: 0, app: "t/1", install_id: "0193a000-0000-7000-8000-00000000abcd", clock_ms: Date.now() });
    expect((await till.next("welcome")).studio).toEqual({ name: "Perera Photo", address: "7 Kandy Road", phone: null, tax_id: "VAT 1234" });
    till.close();
  });

  it("names every bad field in words and changes nothing", async () => {
    const branch = fresh();
    const bad = await call("PUT", branch, "manager", { studio: { name: "   ", phone: 7, tax_id: "x".repeat(41), colour: "red" } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("bad_request");
    expect(bad.body.message).toMatch(/^nothing was changed: /);
    for (const words of ["studio name: must not be blank", "phone: must be text (or null to clear it)", "tax id: at most 40 characters", "unknown field colour"]) {
      expect(bad.body.message).toContain(words);
    }
    expect((await call("PUT", branch, "manager", { studio: {} })).body.message).toContain("give at least one of name, address, phone, tax_id");
    expect((await call("PUT", branch, "manager", "{not json")).body.message).toMatch(/^the body is not JSON/);
    expect((await call("PUT", branch, "manager", { name: "x" })).body.message).toContain("studio: expected an object");
    expect((await call("GET", branch, "manager")).body.studio.name).toBe("Lanka Light Studio");
  });

  it("refuses a cashier, staff and viewer, reading or changing; answers 405 naming both methods", async () => {
    const branch = fresh();
    for (const role of ["cashier", "staff", "viewer"] as const) {
      expect(await call("GET", branch, role)).toMatchObject({ status: 403, body: { error: "forbidden" } });
      expect(await call("PUT", branch, role, { studio: { name: "Mine now" } })).toMatchObject({ status: 403, body: { error: "forbidden" } });
    }
    expect((await call("GET", branch, "owner")).body.studio.name).toBe("Lanka Light Studio");
    const post = await call("POST", branch, "owner", { studio: { name: "x" } });
    expect(post).toMatchObject({ status: 405, allow: "GET, PUT" });
  });
});
