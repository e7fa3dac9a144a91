/**
 * The CLI of issue 14's print part against the real server. A manager sets the studio's details with `studiovault settings` against the real server (workerd),
 * and a till that syncs afterwards keeps them in its local store (from the v5 welcome), ready to
 * head the receipts it prints offline. Bad flags are refused before anything is sent; a cashier is
 * refused by the server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../desktop/cli/main.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { tempDbPath } from "../../support/desktop.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

let server: LocalServer;
beforeAll(async () => {
  server = await startServer();
  // The first request compiles the Worker (over a second on a busy machine), longer than init's health check waits.
  await fetch(new URL("/health", server.url));
}, 60_000);
afterAll(async () => server?.stop());

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const MANAGER = "01936f3c-0000-7000-8000-0000000000e1";
const CASHIER = "01936f3c-0000-7000-8000-0000000000c3";

describe("studiovault settings", () => {
  it("shows the defaults, changes them, refuses bad flags and a cashier; a till learns them when it syncs", async () => {
    const branch = `settings-${Date.now().toString(36)}`;
    const manager = tempDbPath("manager");
    const till = tempDbPath("till");
    const init = await run("--db", manager, "init", "--server", server.url.origin, "--token", await tokenFor(branch, MANAGER, "manager"));
    expect(init.code, init.out + init.err).toBe(0);
    expect((await run("--db", till, "init", "--server", server.url.origin, "--token", await tokenFor(branch, CASHIER, "cashier"))).code).toBe(0);

    // wrangler.toml leaves STUDIO_NAME empty: the studio is named after the branch until a manager names it.
    const shown = await run("--db", manager, "settings");
    expect(shown.code, shown.err).toBe(0);
    expect(shown.out).toBe([`studio name: ${branch}`, "address:     (none)", "phone:       (none)", "tax id:      (none)", "time zone:   Asia/Colombo (fixed for the branch)"].join("\n"));

    const set = await run("--db", manager, "settings", "--studio-name", "Lanka Light Studio", "--address", "12 Galle Road", "--address", "Colombo 3", "--phone", "+94 11 234 5678");
    expect(set.code, set.err).toBe(0);
    expect(set.out).toBe(
      ["saved; devices get it when they next connect", "studio name: Lanka Light Studio", "address:     12 Galle Road", "             Colombo 3", "phone:       +94 11 234 5678", "tax id:      (none)", "time zone:   Asia/Colombo (fixed for the branch)"].join("\n"),
    );
    const json = JSON.parse((await run("--db", manager, "--json", "settings", "--tax-id", "VAT 114-7")).out);
    expect(json).toEqual({ ok: true, time_zone: "Asia/Colombo", studio: { name: "Lanka Light Studio", address: "12 Galle Road\nColombo 3", phone: "+94 11 234 5678", tax_id: "VAT 114-7" } });

    // Checked here, with the server's schema: every bad flag named, nothing sent (exit 2).
    const bad = await run("--db", manager, "settings", "--studio-name", "  ", "--phone", "x".repeat(41));
    expect(bad).toMatchObject({ code: 2, err: expect.stringContaining("nothing was changed: --studio-name: must not be blank; --phone: at most 40 characters") });
    expect((await run("--db", till, "settings")).out).toBe("refused: your role (cashier) may not read the branch's settings");
    expect((await run("--db", till, "settings", "--studio-name", "Mine")).out).toBe("refused: your role (cashier) may not change the branch's settings");

    // The till syncs: the welcome carries the studio, and the store keeps it for printing offline.
    expect(LocalStore.open(till).studio()).toBeNull();
    const synced = await run("--db", till, "sync", "--timeout", "30");
    expect(synced.code, synced.err).toBe(0);
    const store = LocalStore.open(till);
    expect(store.studio()).toEqual({ name: "Lanka Light Studio", address: "12 Galle Road\nColombo 3", phone: "+94 11 234 5678", tax_id: "VAT 114-7" });
    store.close();
  }, 60_000);
});

describe("studiovault invoice list", () => {
  it("says an invoice is not numbered yet until it syncs, then shows the branch's number; a draft is never numbered", async () => {
    const branch = `invno-cli-${Date.now().toString(36)}`;
    const db = tempDbPath("invoices");
    const init = await run("--db", db, "init", "--server", server.url.origin, "--token", await tokenFor(branch, MANAGER, "manager"), "--no-bootstrap");
    expect(init.code, init.out + init.err).toBe(0);
    const create = (client: string, status: string) => run("--db", db, "--json", "invoice", "create", "--client", client, "--line", "Gold package:1:250000", "--status", status);
    const issued = JSON.parse((await create("Anusha Perera", "issued")).out);
    const draft = JSON.parse((await create("Nimal Silva", "draft")).out);
    const line = async (id: string) => (await run("--db", db, "invoice", "list")).out.split("\n").find((l) => l.startsWith(id));
    expect(await line(issued.entity.entity_id)).toContain("(not numbered yet) (no reference) · Anusha Perera · issued");
    const synced = await run("--db", db, "sync", "--timeout", "30");
    expect(synced.code, synced.err).toBe(0);
    expect(await line(issued.entity.entity_id)).toContain("no. 1 (no reference) · Anusha Perera · issued");
    expect(await line(draft.entity.entity_id)).toContain("(draft, not numbered) (no reference) · Nimal Silva · draft");
  }, 60_000);
});
