/**
 * Issue 14, "no way in", on the command line: a manager asks for a one-time sign-in code
 * (`device add`), a new till sets itself up with it (`init --branch --code`), and a till whose token
 * expired signs in again as the same device (`signin --code`), its queue kept and then sent. Against
 * the real Worker and branch Durable Object under workerd.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../desktop/cli/main.js";
import { helpText } from "../../../desktop/cli/registry.js";
import { parseCodeTtlMinutes } from "../../../desktop/cli/commands/devices.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { tempDbPath } from "../../support/desktop.js";
import { type LocalServer, startServer, TEST_SECRET, tokenFor } from "../../support/server.js";
import { signDeviceToken } from "../../../durable/auth.js";
import type { DeviceClaims } from "../../../protocol/token.js";

const MANAGER = "01936f3c-0000-7000-8000-0000000000e1";
const TILL = "01936f3c-0000-7000-8000-0000000000e2";
const OTHER = "01936f3c-0000-7000-8000-0000000000e3";

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** How a person types a code read off a screen: lower case, a space for the dash. */
const typed = (code: string) => code.toLowerCase().replace("-", " ");

describe("help lists the ways in", () => {
  it("names device add, init --code and signin", () => {
    const help = helpText();
    expect(help).toContain("studiovault");
    expect(help).toMatch(/^ {2}init --server URL --branch BRANCH --code CODE \[--no-bootstrap\]$/m);
    expect(help).toMatch(/^ {2}signin --code CODE$/m);
    expect(help).toMatch(/^ {2}signin --token TOKEN$/m);
    expect(help).toMatch(/^ {2}device add --role ROLE --user NAME \[--ttl 15m\|2h\]$/m);
  });

  it("reads --ttl as minutes or hours, up to a day", () => {
    expect([parseCodeTtlMinutes("15"), parseCodeTtlMinutes("15m"), parseCodeTtlMinutes("2h"), parseCodeTtlMinutes("24h")]).toEqual([15, 15, 120, 1440]);
    expect([parseCodeTtlMinutes("25h"), parseCodeTtlMinutes("0"), parseCodeTtlMinutes("1d"), parseCodeTtlMinutes("")]).toEqual([null, null, null, null]);
  });
});

describe("sign-in codes from the command line", () => {
  let server: LocalServer;
  const branch = "cli-enroll";
  let managerDb: string;

  beforeAll(async () => {
    server = await startServer();
    managerDb = tempDbPath("manager");
    // --no-bootstrap: the manager needs no snapshot, and a cold server's first health check can be slow.
    expect((await run("--db", managerDb, "init", "--no-bootstrap", "--server", server.url.origin, "--token", await tokenFor(branch, MANAGER, "manager"))).code).toBe(0);
  }, 60_000);
  afterAll(async () => server.stop());

  async function newCode(role = "cashier", user = "nimal") {
    const r = await run("--db", managerDb, "--json", "device", "add", "--role", role, "--user", user, "--ttl", "30m");
    expect(r.code, r.out).toBe(0);
    const value = JSON.parse(r.out) as { ok: true; code: string; expires_at: string; role: string; user: string; branch: string; server: string };
    expect(value).toMatchObject({ ok: true, code: expect.stringMatching(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/), role, user, branch, server: server.url.origin });
    return value;
  }

  it("device add prints the code, its expiry and what to type on the till", async () => {
    const r = await run("--db", managerDb, "device", "add", "--role", "cashier", "--user", "nimal");
    expect(r.code, r.out).toBe(0);
    const [first, second, third] = r.out.split("\n");
    expect(first).toMatch(/^sign-in code [A-Z2-9]{4}-[A-Z2-9]{4} for nimal \(cashier\), valid once until \d{4}-\d\d-\d\dT[\d:.]+Z$/);
    expect(second).toBe(`new till:       studiovault init --server ${server.url.origin} --branch ${branch} --code ${first!.split(" ")[2]}`);
    expect(third).toMatch(/^signing again: {2}studiovault signin --code /);
    const owner = await run("--db", managerDb, "--json", "device", "add", "--role", "owner", "--user", "x");
    expect(owner.code).toBe(1);
    expect(JSON.parse(owner.out)).toMatchObject({ ok: false, error: "forbidden", message: expect.stringContaining("may not issue a code for role owner") });
    const badTtl = await run("--db", managerDb, "device", "add", "--role", "cashier", "--user", "x", "--ttl", "2d");
    expect(badTtl.code).toBe(2);
  });

  it("init --branch --code sets up a new till as a new device, typed as a person types it; the code works once", async () => {
    const issued = await newCode();
    const db = tempDbPath("till");
    const r = await run("--db", db, "--json", "init", "--server", server.url.origin, "--branch", branch, "--code", typed(issued.code));
    expect(r.code, r.out).toBe(0);
    const bound = JSON.parse(r.out) as { branch: string; device: string; user: string; role: string };
    expect(bound).toMatchObject({ ok: true, branch, user: "nimal", role: "cashier" });
    expect(bound.device).not.toBe(MANAGER);
    const sold = await run("--db", db, "pos", "sale", "--item", "Prints:1:100", "--method", "cash");
    expect(sold.code, sold.out).toBe(0);
    expect((await run("--db", db, "sync", "--timeout", "20")).code).toBe(0);

    const again = tempDbPath("till-again");
    const used = await run("--db", again, "init", "--server", server.url.origin, "--branch", branch, "--code", issued.code);
    expect(used.code).toBe(1);
    expect(used.out).toMatch(/^refused: That sign-in code was used already\. Each code works once: ask a manager for a new one\. \(this code was already used at /);
    expect((await run("--db", again, "status")).code).toBe(2); // nothing was bound
  }, 60_000);

  it("wrong, malformed and unreachable are told apart, and nothing is bound", async () => {
    const db = tempDbPath("wrong");
    const wrong = await run("--db", db, "--json", "init", "--server", server.url.origin, "--branch", branch, "--code", "AAAA-AAAA");
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.out)).toMatchObject({ ok: false, error: "code_wrong", message: "That sign-in code is not right. Check it and type it again, or ask a manager for a new one." });
    const malformed = await run("--db", db, "--json", "init", "--server", server.url.origin, "--branch", branch, "--code", "K7QF-0M2X");
    expect(malformed.code).toBe(2);
    expect(JSON.parse(malformed.out)).toMatchObject({ error: "code_malformed", message: expect.stringContaining("never uses 0, O, 1, I or L") });
    const offline = await run("--db", db, "--json", "init", "--server", "http://127.0.0.1:1", "--branch", branch, "--code", "K7QF-9M2X");
    expect(offline.code).toBe(3);
    expect(JSON.parse(offline.out)).toMatchObject({ error: "unreachable", message: expect.stringContaining("could not be reached") });
    expect((await run("--db", db, "status")).code).toBe(2);
  });

  it("signin --code signs an expired till in again as the same device; its queue is kept and then sent", async () => {
    const db = tempDbPath("expired-till");
    // A till whose token ran out an hour ago (bound while it was valid; the store does not re-check it).
    const iat = Math.floor(Date.now() / 1000) - 7200;
    const expired = await signDeviceToken({ v: 1, branch, device: TILL, user: "nimal", role: "cashier", iat, exp: iat + 3600 } as DeviceClaims, TEST_SECRET);
    const setup = LocalStore.open(db);
    expect(setup.init({ server_url: server.url.origin, token: expired }).ok).toBe(true);
    setup.close();
    expect((await run("--db", db, "pos", "sale", "--item", "Prints:2:150", "--method", "cash")).code).toBe(0);
    const refused = await run("--db", db, "sync", "--timeout", "20");
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("run `studiovault signin --code CODE` here: this database, its device and its queue are kept");

    const issued = await newCode("cashier", "kamala");
    const r = await run("--db", db, "signin", "--code", typed(issued.code));
    expect(r.code, r.out).toBe(0);
    expect(r.out).toBe(`signed in again: branch ${branch}, device ${TILL}, kamala (cashier); 1 queued change(s) are kept and go at the next \`studiovault sync\``);
    const synced = await run("--db", db, "--json", "sync", "--timeout", "20");
    expect(synced.code, synced.out).toBe(0);
    const store = LocalStore.open(db);
    try {
      expect(store.config()).toMatchObject({ device_id: TILL, user_id: "kamala" });
      expect(store.summary().pending).toBe(0);
    } finally {
      store.close();
    }
  }, 60_000);

  it("a token for another device says how to sign this one in again; init --code on a bound database spends nothing", async () => {
    const db = tempDbPath("bound");
    expect((await run("--db", db, "init", "--no-bootstrap", "--server", server.url.origin, "--token", await tokenFor(branch, TILL, "cashier"))).code).toBe(0);
    const other = await run("--db", db, "signin", "--token", await tokenFor(branch, OTHER, "cashier"));
    expect(other.code).toBe(2);
    expect(other.err).toContain(`this database is device ${TILL} and the token is for another device (${OTHER}); to sign this device in again, ask a manager for a sign-in code and run \`studiovault signin --code CODE\`, or mint a token for this device with \`npm run token -- --device ${TILL} …\``);
    const reinit = await run("--db", db, "init", "--server", server.url.origin, "--token", await tokenFor(branch, OTHER, "cashier"));
    expect(reinit.code).toBe(2);
    expect(reinit.err).toContain("ask a manager for a sign-in code and run `studiovault signin --code CODE`");

    const issued = await newCode();
    const bound = await run("--db", db, "init", "--server", server.url.origin, "--branch", branch, "--code", issued.code);
    expect(bound.code).toBe(2);
    expect(bound.err).toContain("to sign it in again run `studiovault signin --code CODE`");
    const signin = await run("--db", db, "signin", "--code", issued.code);
    expect(signin.code, signin.out).toBe(0); // the code was not spent by the refused init
  }, 60_000);
});
