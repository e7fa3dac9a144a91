/**
 * Issue 14, what crews and scripts saw: output cut in a pipe, lists stuck at 100 rows, `--help` that
 * failed, text errors under --json, `init` exiting 0 on failure, a spinner without counts, and no
 * way to read the queue. Each block is one item.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signDeviceToken } from "../../../durable/auth.js";
import { main } from "../../../desktop/cli/main.js";
import { pageFooter } from "../../../desktop/cli/paging.js";
import { COMMANDS, commandHelp } from "../../../desktop/cli/registry.js";
import { countsSince, describeProgress } from "../../../desktop/cli/commands/sync-progress.js";
import type { DeviceClaims } from "../../../protocol/token.js";
import { openStore, tempDbPath } from "../../support/desktop.js";
import { type LocalServer, startServer, TEST_SECRET, tokenFor } from "../../support/server.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const C = "01936f3c-0000-7000-8000-0000000000c3";
const ROOT = path.resolve(import.meta.dirname, "../../..");

async function run(argv: string[], opts: { progress?: string[] } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const progress = opts.progress;
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), ...(progress ? { progress: (l: string) => progress.push(l) } : {}) };
  const code = await main(argv, io, {});
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const project = (title: string, notes = "") => ({
  title,
  client: { name: "Client", email: null, phone: null },
  status: "inquiry" as const,
  starts_on: null,
  ends_on: null,
  location: null,
  package: null,
  notes,
  media_selection: { items: [] },
});

/** A database with `n` projects, closed, ready for the CLI. */
async function withProjects(n: number, notes = "") {
  const { store } = await openStore({ device: A });
  for (let i = 0; i < n; i++) {
    const r = store.createProject(project(`Project ${String(i).padStart(5, "0")}`, notes));
    if (!r.ok) throw new Error(r.error.message);
  }
  const db = store.path;
  store.close();
  return db;
}

describe("item 1: --json output into a pipe is never cut", () => {
  it("the real CLI writes a 64 KiB+ result into a pipe in full, and it parses", async () => {
    const db = await withProjects(300, "n".repeat(400));
    const child = spawn(process.execPath, [path.join(ROOT, "desktop/cli/bin.mjs"), "--db", db, "--json", "project", "list", "--limit", "1000"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (d: Buffer) => chunks.push(d));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const bytes = Buffer.concat(chunks);
    expect(code).toBe(0);
    expect(bytes.length).toBeGreaterThan(65_536 * 2);
    const value = JSON.parse(bytes.toString("utf8"));
    expect(value.items).toHaveLength(300);
    expect(value.total).toBe(300);
  }, 60_000);
});

describe("item 2: lists page and say how many there are", () => {
  it("project list: 100 at a time, the total, and where the next page starts", async () => {
    const db = await withProjects(250);
    const first = await run(["--db", db, "project", "list"]);
    const lines = first.out.split("\n");
    expect(lines).toHaveLength(101);
    expect(lines.at(-1)).toBe("showing 1–100 of 250; --offset 100 for more");
    expect((await run(["--db", db, "project", "list", "--offset", "200"])).out.split("\n").at(-1)).toBe("showing 201–250 of 250");
    const page = JSON.parse((await run(["--db", db, "--json", "project", "list", "--limit", "40", "--offset", "80"])).out);
    expect(page).toMatchObject({ total: 250, offset: 80, limit: 40, next_offset: 120 });
    expect(page.items).toHaveLength(40);
    expect(page.items[0].entity.data.title).toBe("Project 00080");
    const last = JSON.parse((await run(["--db", db, "--json", "project", "list", "--offset", "240"])).out);
    expect(last).toMatchObject({ total: 250, next_offset: null });
    expect(JSON.parse((await run(["--db", db, "--json", "project", "list", "--offset", "900"])).out)).toMatchObject({ items: [], total: 250 });
    expect((await run(["--db", db, "project", "list", "--limit", "0"])).code).toBe(2);
  });

  it("pos list and invoice list say their totals too", async () => {
    const { store } = await openStore({ device: A });
    for (let i = 0; i < 3; i++) store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Prints", quantity: 1, unit_price_minor: 100 }], method: "cash", tendered_minor: null });
    const db = store.path;
    store.close();
    expect((await run(["--db", db, "pos", "list", "--limit", "2"])).out.split("\n").at(-1)).toBe("showing 1–2 of 3; --offset 2 for more");
    expect(JSON.parse((await run(["--db", db, "--json", "invoice", "list"])).out)).toEqual({ items: [], total: 0, offset: 0, limit: 100, next_offset: null });
  });

  it("words a page: where it starts, its size and the total", () => {
    expect(pageFooter({ offset: 0, limit: 100 }, 100, 2000)).toBe("showing 1–100 of 2,000; --offset 100 for more");
  });
});

describe("item 3: --help and -h on every command print its usage and open no database", () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))("%s --help, -h", async (_name, command) => {
    const db = tempDbPath();
    for (const flag of ["--help", "-h"]) {
      const r = await run(["--db", db, command.name, ...(command.name === "device" ? ["revoke"] : []), flag]);
      expect(r.code, r.err).toBe(0);
      expect(r.out).toBe(commandHelp(command));
      for (const [name] of Object.entries(command.flags)) expect(r.out).toContain(`--${name}`);
    }
    expect((await run(["--db", db, "help", command.name])).out).toBe(commandHelp(command));
    expect(existsSync(db)).toBe(false);
  });
});

describe("item 4: under --json every error is one JSON object, with the same exit code", () => {
  it.each([
    [["pos", "sale", "--colour", "red"], 2, "usage", /^pos: unknown flag --colour/],
    [["frobnicate"], 2, "usage", /unknown command "frobnicate"/],
    [["project", "list", "--limit", "x"], 2, "usage", /--limit: received "x"/],
    [["--db"], 2, "usage", /--db: missing/],
  ])("%j", async (argv, exit, error, message) => {
    const db = await withProjects(0);
    const r = await run(argv[0] === "--db" ? ["--json", ...argv] : ["--json", "--db", db, ...argv]);
    expect(r.code).toBe(exit);
    expect(r.err).toBe("");
    const value = JSON.parse(r.out);
    expect(value).toMatchObject({ ok: false, error });
    expect(value.message).toMatch(message);
  });

  it("no database, and no command", async () => {
    const missing = await run(["--json", "--db", tempDbPath(), "status"]);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.out)).toMatchObject({ ok: false, error: "no_database" });
    const none = await run(["--json"]);
    expect(none.code).toBe(2);
    expect(JSON.parse(none.out)).toMatchObject({ ok: false, error: "usage" });
  });
});

describe("item 5: init and sync exit codes tell success from refusal, unreachable and rejections", () => {
  let server: LocalServer;
  beforeAll(async () => {
    server = await startServer();
  }, 60_000);
  afterAll(async () => server.stop());

  it("an expired token: refused in words with its expiry, exit 1, nothing bound", async () => {
    const iat = Math.floor(Date.now() / 1000) - 7200;
    const expired = await signDeviceToken({ v: 1, branch: "cli-expired", device: A, user: "x", role: "owner", iat, exp: iat + 3600 } as DeviceClaims, TEST_SECRET);
    const db = tempDbPath();
    const r = await run(["--db", db, "init", "--server", server.url.origin, "--token", expired]);
    expect(r.code).toBe(1);
    expect(r.out).toBe(`refused: this token expired at ${new Date((iat + 3600) * 1000).toISOString()}, so the server would refuse it; ask a manager for a new one (nothing was changed)`);
    expect(r.out).not.toMatch(/HTTP 401/);
    const json = await run(["--db", db, "--json", "init", "--server", server.url.origin, "--token", expired]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ ok: false, error: "token_expired" });
    expect((await run(["--db", db, "status"])).code).toBe(2); // not initialised
  });

  it("a token the server refuses: exit 1, in words", async () => {
    const iat = Math.floor(Date.now() / 1000);
    const forged = await signDeviceToken({ v: 1, branch: "cli-forged-init", device: A, user: "x", role: "owner", iat, exp: iat + 600 } as DeviceClaims, "another-secret-0123456789abcdef0123456");
    const r = await run(["--db", tempDbPath(), "--json", "init", "--server", server.url.origin, "--token", forged]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: "token_refused", bound: true, message: expect.stringMatching(/token was refused/) });
  });

  it("an unreachable server: exit 3, the database bound for offline work; sync then times out with 3", async () => {
    const db = tempDbPath();
    const r = await run(["--db", db, "--json", "init", "--server", "http://127.0.0.1:1", "--token", await tokenFor("cli-offline", A)]);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.out)).toMatchObject({ ok: false, error: "unreachable", bound: true });
    expect((await run(["--db", db, "pos", "sale", "--item", "Prints:1:100", "--method", "cash"])).code).toBe(0);
    const synced = await run(["--db", db, "--json", "sync", "--timeout", "1"]);
    expect(synced.code).toBe(3);
    expect(JSON.parse(synced.out)).toMatchObject({ ok: false, error: "timeout", pending: 1 });
  }, 30_000);

  it("a good token: exit 0", async () => {
    const r = await run(["--db", tempDbPath(), "init", "--server", server.url.origin, "--token", await tokenFor("cli-good", A)]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^initialised: branch cli-good/);
  });

  describe("item 7: sync shows counts and a rate on a terminal only", () => {
    it("on a terminal: a progress line with pushed, confirmed, rejected, pulled; piped or --json: none", async () => {
      const db = tempDbPath();
      const branch = `cli-progress-${Date.now().toString(36)}`;
      const token = await tokenFor(branch, A, "manager");
      expect((await run(["--db", db, "init", "--server", server.url.origin, "--token", token])).code).toBe(0);
      // Another till rang two sales first: this one pulls them. Its own commits are not pulled back
      // (protocol v11, echo off: their verdicts stand for them), so "pulled" counts only the other till's.
      const other = tempDbPath();
      expect((await run(["--db", other, "init", "--server", server.url.origin, "--token", await tokenFor(branch, C, "cashier")])).code).toBe(0);
      for (let i = 0; i < 2; i++) await run(["--db", other, "pos", "sale", "--item", "Prints:1:100", "--method", "cash"]);
      expect((await run(["--db", other, "sync", "--timeout", "30"])).code).toBe(0);
      for (let i = 0; i < 5; i++) await run(["--db", db, "pos", "sale", "--item", "Prints:1:100", "--method", "cash"]);
      const progress: string[] = [];
      const r = await run(["--db", db, "sync", "--timeout", "30"], { progress });
      expect(r.code, r.out).toBe(0);
      expect(progress.at(-1)).toMatch(/^sync live: pushed 5 · confirmed 5 · rejected 0 · pulled 2( · [\d,]+ events\/s)?$/);
      await run(["--db", db, "pos", "sale", "--item", "Prints:1:100", "--method", "cash"]);
      const piped = await run(["--db", db, "sync", "--timeout", "30"]);
      expect(piped.err).not.toMatch(/pushed/);
      expect(piped.out).toBe("synced: nothing pending, cursor 8, open conflicts 0");
      await run(["--db", db, "pos", "sale", "--item", "Prints:1:100", "--method", "cash"]);
      const json = JSON.parse((await run(["--db", db, "--json", "sync", "--timeout", "30"])).out);
      expect(json).toMatchObject({ ok: true, pushed: 1, confirmed: 1, rejected: 0, pulled: 0 });
    }, 60_000);
  });

  describe("item 8: studiovault queue lists queued events with their verdicts", () => {
    it("pending, confirmed with seq and receipt, rejected with code and message; filtered and paged", async () => {
      const db = tempDbPath();
      const branch = `cli-queue-${Date.now().toString(36)}`;
      expect((await run(["--db", db, "init", "--server", server.url.origin, "--token", await tokenFor(branch, A, "manager")])).code).toBe(0);
      const sale = JSON.parse((await run(["--db", db, "--json", "pos", "sale", "--item", "Prints:1:100", "--method", "cash"])).out);
      const proj = JSON.parse((await run(["--db", db, "--json", "project", "create", "--title", "T", "--client", "C"])).out);
      expect((await run(["--db", db, "queue"])).out).toMatch(/^1 pending .* create pos_order \S+ "\w+-\d+"\n2 pending .* create project \S+ "T"\nshowing 1–2 of 2$/);
      expect((await run(["--db", db, "sync", "--timeout", "30"])).code).toBe(0);
      const all = JSON.parse((await run(["--db", db, "--json", "queue"])).out);
      expect(all).toMatchObject({ total: 2, offset: 0, next_offset: null });
      expect(all.events[0]).toMatchObject({ position: 1, event_id: sale.event_id, status: "confirmed", entity_type: "pos_order", operation: "create", verdict: { kind: "confirmed", seq: 1, official_receipt_no: 1 } });
      expect((await run(["--db", db, "queue", "--status", "confirmed", "--limit", "1"])).out).toMatch(/^1 confirmed .* → seq 1 \(receipt #1\)\nshowing 1–1 of 2; --offset 1 for more$/);
      expect((await run(["--db", db, "queue", "--status", "rejected"])).out).toBe("no rejected events");

      // Another device edits the project after this one deleted it: its edit is rejected, sync exits 4.
      const other = tempDbPath();
      expect((await run(["--db", other, "init", "--server", server.url.origin, "--token", await tokenFor(branch, C, "manager")])).code).toBe(0);
      expect((await run(["--db", other, "sync", "--timeout", "30"])).code).toBe(0);
      expect((await run(["--db", db, "project", "delete", proj.entity.entity_id, "--reason", "cancelled"])).code).toBe(0);
      expect((await run(["--db", db, "sync", "--timeout", "30"])).code).toBe(0);
      expect((await run(["--db", other, "project", "update", proj.entity.entity_id, "--notes", "drone"])).code).toBe(0);
      const rejected = await run(["--db", other, "--json", "sync", "--timeout", "30"]);
      expect(rejected.code, rejected.out).toBe(4);
      expect(JSON.parse(rejected.out)).toMatchObject({ ok: false, error: "rejected", rejected: 1, pending: 0 });
      const listed = JSON.parse((await run(["--db", other, "--json", "queue", "--status", "rejected"])).out);
      expect(listed).toMatchObject({ total: 1, events: [{ status: "rejected", operation: "update", entity_id: proj.entity.entity_id, verdict: { kind: "rejected", code: expect.any(String) } }] });
      expect((await run(["--db", other, "queue", "--status", "rejected"])).out).toMatch(/^1 rejected .* update project \S+ → rejected \w+: .+\nshowing 1–1 of 1$/);
      expect((await run(["--db", other, "sync", "--timeout", "30"])).code).toBe(0); // told once
      expect((await run(["--db", db, "queue", "--status", "lost"])).code).toBe(2);
    }, 60_000);
  });
});

describe("item 7: the progress words", () => {
  it("counts what left the queue and what came back, with a rate", () => {
    const start = { pending: 10, sent: 0, confirmed: 3, rejected: 0 };
    const now = { pending: 2, sent: 3, confirmed: 7, rejected: 1 };
    const c = countsSince(start, now, 40);
    expect(c).toEqual({ pushed: 8, confirmed: 4, rejected: 1, pulled: 40 });
    expect(describeProgress("syncing", c, 1_000)).toBe("sync syncing: pushed 8 · confirmed 4 · rejected 1 · pulled 40 · 45 events/s");
    expect(describeProgress("connecting", c, 100)).toBe("sync connecting: pushed 8 · confirmed 4 · rejected 1 · pulled 40");
  });
});


