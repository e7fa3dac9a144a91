/**
 * One token, one install; a manager revokes a device. The `studiovault` CLI, run in-process, against
 * the real server (workerd): a second database initialised with a token already in use, and a revoked
 * till, are refused in plain words with exit code 1, and nothing of theirs reaches the branch.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../desktop/cli/main.js";
import { tempDbPath } from "../../support/desktop.js";
import { freePort, serverTruth } from "../../support/e2e.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

let server: LocalServer;
beforeAll(async () => {
  server = await startServer();
}, 60_000);
afterAll(async () => server?.stop());

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join("\n"), err: err.join("\n") };
}
const json = (r: { out: string }) => JSON.parse(r.out) as Record<string, any>;

/** Receipts of this device are numbered D268D-… (the device id's last four hex digits). */
const TILL = "01936f3c-0000-7000-8000-00000000268d";
const MANAGER = "01936f3c-0000-7000-8000-0000000000e1";
const CASHIER = "01936f3c-0000-7000-8000-0000000000c3";

const sale = async (db: string, price = "800") => json(await run("--db", db, "--json", "pos", "sale", "--item", `Passport photos:1:${price}`, "--method", "card"));

describe("a token is for one install", () => {
  it("a second database initialised with the same token is refused, clearly, and only the first install's sales reach the branch", async () => {
    const branch = `installs-${Date.now().toString(36)}`;
    const token = await tokenFor(branch, TILL, "cashier");
    const first = tempDbPath("first");
    const second = tempDbPath("second");
    for (const db of [first, second]) expect((await run("--db", db, "init", "--server", server.url.origin, "--token", token)).code).toBe(0);
    // The issue as reported: both get the same device id, and both number their receipts D268D-000001.
    const a = await sale(first, "800");
    const b = await sale(second, "1200");
    expect([a.entity.data.local_receipt_no, b.entity.data.local_receipt_no]).toEqual(["D268D-000001", "D268D-000001"]);

    const synced = await run("--db", first, "sync", "--timeout", "30");
    expect(synced.code, synced.err).toBe(0);

    const refused = await run("--db", second, "sync", "--timeout", "30");
    expect(refused.code, refused.err).toBe(1);
    expect(refused.out).toBe(
      "sync stopped: this token's device is already used by another install (a token is for one install); ask a manager for a token for a new device, " +
        "then run `studiovault init` with it on a new database (--db NEW.sqlite); the 1 change not yet sent stays in this database",
    );
    expect(refused.err).not.toMatch(/Error|at .*\.ts:/); // no stack, just the one line
    expect(json(await run("--db", second, "--json", "sync", "--timeout", "30"))).toMatchObject({ ok: false, stopped: "install_conflict", pending: 1 });

    // The branch has the first install's sale only.
    let truth = await serverTruth(server, branch);
    expect(truth.entities.map((e) => e.entity_id)).toEqual([a.entity.entity_id]);
    expect(truth.ledger).toMatchObject([{ sales_count: 1, sales_minor: 80_000 }]);

    // The first install keeps syncing.
    const later = await sale(first, "450");
    expect(later.entity.data.local_receipt_no).toBe("D268D-000002");
    const again = await run("--db", first, "sync", "--timeout", "30");
    expect(again.code, again.err).toBe(0);
    truth = await serverTruth(server, branch);
    expect(truth.entities.map((e) => e.entity_id).sort()).toEqual([a.entity.entity_id, later.entity.entity_id].sort());
    expect(truth.ledger).toMatchObject([{ sales_count: 2, sales_minor: 125_000 }]);
    expect(json(await run("--db", second, "--json", "status"))).toMatchObject({ pending: 1 });
  }, 120_000);
});

describe("a manager revokes a device", () => {
  it("lists the branch's devices, revokes a till, and the till's sync says so plainly; nothing more of it reaches the branch", async () => {
    const branch = `revoke-${Date.now().toString(36)}`;
    const manager = tempDbPath("manager");
    const cashier = tempDbPath("cashier");
    expect((await run("--db", manager, "init", "--server", server.url.origin, "--token", await tokenFor(branch, MANAGER, "manager"))).code).toBe(0);
    expect((await run("--db", cashier, "init", "--server", server.url.origin, "--token", await tokenFor(branch, CASHIER, "cashier"))).code).toBe(0);
    const kept = await sale(cashier);
    for (const db of [manager, cashier]) expect((await run("--db", db, "sync", "--timeout", "30")).code).toBe(0);

    // The list: who, role, app, last seen, the install each device id is bound to, revoked or not.
    const list = await run("--db", manager, "devices");
    expect(list.code, list.err).toBe(0);
    const lines = list.out.split("\n");
    expect(lines).toHaveLength(2);
    expect(lines.find((l) => l.startsWith(CASHIER))).toMatch(/^\S+ {2}e2e \(cashier\) · studiovault-desktop\/\S+ · last seen \d{4}-\d\d-\d\dT[\d:.]+Z · install bound · active$/);
    expect(lines.find((l) => l.startsWith(MANAGER))).toMatch(/ · active \(this device\)$/);
    const listed = json(await run("--db", manager, "--json", "devices"));
    expect(listed.devices.find((d: { device_id: string }) => d.device_id === CASHIER)).toMatchObject({ role: "cashier", revoked_at: null, install_id: expect.any(String) });

    // A cashier may not manage devices.
    const notAllowed = await run("--db", cashier, "devices");
    expect(notAllowed).toMatchObject({ code: 1, out: "refused: your role (cashier) may not manage devices" });
    expect((await run("--db", cashier, "device", "revoke", MANAGER, "--reason", "mutiny")).out).toBe("refused: your role (cashier) may not manage devices");

    // Bad arguments never reach the server.
    expect(await run("--db", manager, "device", "revoke", CASHIER)).toMatchObject({ code: 2, err: expect.stringMatching(/--reason: missing/) });
    expect(await run("--db", manager, "device", "revoke", "till-3", "--reason", "x")).toMatchObject({ code: 2, err: expect.stringMatching(/DEVICE_ID: received "till-3", expected a device id/) });
    expect(await run("--db", manager, "device", "forget", CASHIER)).toMatchObject({ code: 2, err: expect.stringMatching(/device: expected revoke/) });
    // Nor may a manager lock itself out.
    const self = await run("--db", manager, "device", "revoke", MANAGER, "--reason", "oops");
    expect(self.code).toBe(1);
    expect(self.out).toMatch(/^refused: .*itself/);

    // The till rings up a sale offline; meanwhile the manager revokes it.
    const lost = await sale(cashier, "999");
    const revoked = await run("--db", manager, "device", "revoke", CASHIER, "--reason", "till stolen");
    expect(revoked.code, revoked.out).toBe(0);
    expect(revoked.out).toMatch(new RegExp(`^revoked device ${CASHIER} at \\S+: it can no longer sync`));
    expect((await run("--db", manager, "device", "revoke", CASHIER, "--reason", "till stolen")).out).toMatch(new RegExp(`^device ${CASHIER} was already revoked \\(at `));
    expect(json(await run("--db", manager, "--json", "device", "revoke", CASHIER, "--reason", "till stolen"))).toMatchObject({ ok: true, device_id: CASHIER, already: true });

    const stopped = await run("--db", cashier, "sync", "--timeout", "30");
    expect(stopped.code, stopped.err).toBe(1);
    expect(stopped.out).toBe(
      "sync stopped: this device was revoked by a manager; ask a manager for a token for a new device, then run `studiovault init` with it on a new database (--db NEW.sqlite); " +
        "the 1 change not yet sent stays in this database",
    );
    // `watch` stops with the same words instead of waiting for Ctrl-C.
    const watched = await run("--db", cashier, "watch");
    expect(watched).toMatchObject({ code: 1, out: stopped.out });
    expect((await run("--db", cashier, "devices")).out).toBe("refused: this device was revoked by a manager; ask a manager for a token for a new device");
    expect(json(await run("--db", cashier, "--json", "devices"))).toMatchObject({ ok: false, status: 403, error: "device_revoked" });

    const after = json(await run("--db", manager, "--json", "devices"));
    expect(after.devices.find((d: { device_id: string }) => d.device_id === CASHIER)).toMatchObject({ revoked_at: expect.any(String), revoked_by: "e2e", revoke_reason: "till stolen" });
    expect((await run("--db", manager, "devices")).out).toMatch(new RegExp(`${CASHIER} .* · REVOKED \\S+ by e2e: till stolen`));
    const truth = await serverTruth(server, branch);
    expect(truth.entities.map((e) => e.entity_id)).toEqual([kept.entity.entity_id]);
    expect(truth.entities.map((e) => e.entity_id)).not.toContain(lost.entity.entity_id);
  }, 120_000);

  it("says the server is unreachable, with exit code 3, when it is", async () => {
    const db = tempDbPath();
    const closed = `http://127.0.0.1:${await freePort()}`; // nothing listens there
    await run("--db", db, "init", "--no-bootstrap", "--server", closed, "--token", await tokenFor("revoke-offline", MANAGER, "manager"));
    for (const argv of [["devices"], ["device", "revoke", CASHIER, "--reason", "lost"]]) {
      const r = await run("--db", db, ...argv);
      expect(r.code, argv.join(" ")).toBe(3);
      expect(r.out).toBe(`server unreachable at ${closed}: ECONNREFUSED; nothing was changed, try again when online`);
    }
  });
});
