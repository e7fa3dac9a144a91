/**
 * Leases (protocol v7) from the desktop's side, against the real Worker + branch Durable Object under
 * workerd: sync engines on real stores asking over their WebSockets (`SyncEngine.lease`, `leases()`),
 * and `studiovault lease …` over the HTTP API. No mocks: every answer here is the branch's.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../desktop/cli/main.js";
import { LEASE_WORDS, type LeaseAnswer, leaseRemainingMs } from "../../../desktop/sync/leases.js";
import { LEASE_DEFAULT_TTL_MS, type Role } from "../../../domain/index.js";
import type { LeaseResult } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { tempDbPath } from "../../support/desktop.js";
import { type Desktop, desktop, freePort, waitUntil } from "../../support/e2e.js";
import { type LocalServer, startServer, tokenFor } from "../../support/server.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const MANAGER = "01936f3c-0000-7000-8000-0000000000e1";
const STAFF = "01936f3c-0000-7000-8000-0000000000e2";
const CASHIER = "01936f3c-0000-7000-8000-0000000000c3";
/** No record has this id on any branch. */
const NOBODY = "01936f3c-0000-7000-8000-00000000dead";

let server: LocalServer;
let n = 0;
const open: Desktop[] = [];
const branch = (what: string) => `lease-${what}-${Date.now().toString(36)}-${++n}`;

beforeAll(async () => {
  server = await startServer(undefined, await freePort());
  // The first request compiles the Worker (over a second on a busy machine), longer than init's health check waits.
  await fetch(new URL("/health", server.url));
}, 60_000);
afterAll(async () => {
  open.forEach((d) => d.close());
  await server?.stop();
});

async function device(b: string, id: string, role: Role, seed: number): Promise<Desktop> {
  const d = await desktop(server, b, id, role, seed);
  open.push(d);
  return d;
}

const granted = (answer: LeaseAnswer): LeaseResult => {
  if (answer.outcome !== "granted") throw new Error(`expected a grant, got ${JSON.stringify(answer)}`);
  return answer;
};

/** Two live desktops on one branch, both with the same issued invoice. */
async function twoTillsWithAnInvoice() {
  const b = branch("engine");
  const a = await device(b, A, "owner", 1);
  const bb = await device(b, B, "manager", 2);
  const created = a.store.createInvoice({ ...ex.invoice, project_id: null });
  if (!created.ok) throw new Error(created.error.message);
  const invoice = created.value.event.entity_id;
  a.start();
  bb.start();
  await a.engine.untilDrained(20_000);
  await waitUntil("B has the invoice", () => bb.store.get(invoice) !== null, 20_000);
  await bb.engine.untilDrained(20_000);
  return { a, b: bb, invoice };
}

describe("SyncEngine.lease against the real branch", () => {
  it("two tills race for one invoice's payment lease: exactly one is granted, the other is refused `held` naming the holder, and both see it", async () => {
    const { a, b, invoice } = await twoTillsWithAnInvoice();
    // Welcome told both that nothing is leased.
    expect(a.engine.leases()?.leases).toEqual([]);
    expect(b.engine.leases()?.leases).toEqual([]);

    const answers = await Promise.all([a.engine.lease("acquire", invoice, "payment"), b.engine.lease("acquire", invoice, "payment")]);
    const winners = answers.filter((x) => x.outcome === "granted");
    expect(winners).toHaveLength(1);
    const winner = granted(winners[0]!);
    const holder = winner.lease!.device_id;
    expect([A, B]).toContain(holder);
    const loser = answers.find((x) => x !== winner)!;
    expect(loser).toMatchObject({ type: "lease_result", action: "acquire", outcome: "refused", refusal: "held", lease: { device_id: holder, entity_id: invoice, group: "payment" } });
    expect(loser.message).toContain(holder);
    expect(winner.lease).toMatchObject({ entity_id: invoice, entity_type: "invoice", group: "payment", device_id: holder, role: holder === A ? "owner" : "manager" });
    // server_time_ms is read as the answer goes out, a moment after the grant.
    expect(winner.lease!.expires_at_ms - winner.server_time_ms).toBeGreaterThan(LEASE_DEFAULT_TTL_MS - 1_000);
    expect(winner.lease!.expires_at_ms - winner.server_time_ms).toBeLessThanOrEqual(LEASE_DEFAULT_TTL_MS);

    // The branch's `leases` reaches both tills: the holder and the one refused.
    const shows = (d: Desktop) => d.engine.leases()?.leases.some((l) => l.entity_id === invoice && l.device_id === holder) === true;
    await waitUntil("both tills see the lease", () => shows(a) && shows(b), 10_000);
    for (const d of [a, b]) {
      const seen = d.engine.leases()!;
      expect(seen.leases).toEqual([winner.lease]);
      // Counted down on the monotonic clock from the server's time: never more than the TTL.
      const left = leaseRemainingMs(seen, seen.leases[0]!, performance.now());
      expect(left).toBeGreaterThan(0);
      expect(left).toBeLessThanOrEqual(LEASE_DEFAULT_TTL_MS);
    }

    // The holder renews by asking again: the same lease, a later end.
    const holderDesktop = holder === A ? a : b;
    const renewed = granted(await holderDesktop.engine.lease("acquire", invoice, "payment", { ttlMs: 120_000 }));
    expect(renewed.lease!.acquired_at_ms).toBe(winner.lease!.acquired_at_ms);
    expect(renewed.lease!.expires_at_ms).toBeGreaterThan(winner.lease!.expires_at_ms);
    expect(renewed.lease!.expires_at_ms - renewed.server_time_ms).toBeGreaterThan(119_000);
  }, 60_000);

  it("release: the holder gives the lease back and both tills see it gone; the other may then take it", async () => {
    const { a, b, invoice } = await twoTillsWithAnInvoice();
    granted(await a.engine.lease("acquire", invoice, "payment"));
    await waitUntil("B sees A's lease", () => b.engine.leases()?.leases.length === 1, 10_000);

    // Only the holder releases: B's release is refused, and the lease stays.
    expect(await b.engine.lease("release", invoice, "payment")).toMatchObject({ outcome: "refused", refusal: "not_held" });
    const released = await a.engine.lease("release", invoice, "payment");
    expect(released).toMatchObject({ type: "lease_result", action: "release", outcome: "released", refusal: null, lease: { device_id: A, entity_id: invoice } });
    await waitUntil("both tills see no lease", () => a.engine.leases()?.leases.length === 0 && b.engine.leases()?.leases.length === 0, 10_000);

    expect(granted(await b.engine.lease("acquire", invoice, "payment")).lease!.device_id).toBe(B);
  }, 60_000);

  it("a manager breaks another till's lease; the branch refuses a lease on a record it does not have", async () => {
    const { a, b, invoice } = await twoTillsWithAnInvoice();
    granted(await a.engine.lease("acquire", invoice, "payment"));
    const broken = await b.engine.lease("break", invoice, "payment", { reason: "A's till froze mid-payment" });
    expect(broken).toMatchObject({ outcome: "broken", lease: { device_id: A } });
    await waitUntil("A sees its lease gone", () => a.engine.leases()?.leases.length === 0, 10_000);
    expect(await a.engine.lease("acquire", NOBODY, "payment")).toMatchObject({ outcome: "refused", refusal: "not_found" });
  }, 60_000);

  it("offline: a till that is not connected gets the offline answer at once, and shows no leases (what it saw before is stale)", async () => {
    const { a, b, invoice } = await twoTillsWithAnInvoice();
    granted(await b.engine.lease("acquire", invoice, "payment"));
    await waitUntil("A sees B's lease", () => a.engine.leases()?.leases.length === 1, 10_000);
    const changes: (number | null)[] = [];
    const unsubscribe = a.engine.subscribeLeases((seen) => changes.push(seen === null ? null : seen.leases.length));

    a.engine.setOnline(false);
    expect(a.engine.status().kind).toBe("offline");
    expect(a.engine.leases()).toBeNull();
    expect(changes).toEqual([null]);
    const answer = await a.engine.lease("acquire", invoice, "payment");
    expect(answer).toEqual({ outcome: "offline", action: "acquire", request_id: expect.any(String), code: null, message: LEASE_WORDS.offline });

    // A till that never connected answers the same, without a socket.
    const c = await device(branch("never"), CASHIER, "cashier", 3);
    expect(await c.engine.lease("release", invoice, "payment")).toMatchObject({ outcome: "offline", message: "You are offline: someone may be editing this too" });
    expect(c.engine.leases()).toBeNull();

    // Back online: the welcome tells A the leases in force again.
    a.engine.setOnline(true);
    await waitUntil("A sees B's lease again", () => a.engine.leases()?.leases[0]?.device_id === B, 20_000);
    expect(changes).toEqual([null, 1]);
    unsubscribe();
  }, 60_000);

  it("a lease taken over HTTP, and one that runs out, reach connected tills as they happen", async () => {
    const { a, b, invoice } = await twoTillsWithAnInvoice();
    // A third device (the CLI's way) takes the lease with the shortest TTL the branch grants.
    const token = await tokenFor(a.store.config()!.branch_id, STAFF, "staff");
    const response = await fetch(new URL(`/v1/branches/${a.store.config()!.branch_id}/leases`, server.url), {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ action: "acquire", entity_id: invoice, group: "payment", ttl_ms: 5_000 }),
    });
    expect(response.status).toBe(200);
    const taken = (await response.json()) as LeaseResult;
    expect(taken).toMatchObject({ outcome: "granted", lease: { device_id: STAFF } });
    await waitUntil("both tills see the staff device's lease", () => [a, b].every((d) => d.engine.leases()?.leases[0]?.device_id === STAFF), 10_000);
    expect(await a.engine.lease("acquire", invoice, "payment")).toMatchObject({ outcome: "refused", refusal: "held", lease: { device_id: STAFF } });
    // The branch's alarm ends it after 5 s and tells every till.
    await waitUntil("both tills see the lease end", () => [a, b].every((d) => d.engine.leases()?.leases.length === 0), 20_000);
    expect(granted(await a.engine.lease("acquire", invoice, "payment")).lease!.device_id).toBe(A);
  }, 60_000);

  it("while B holds the payment lease, A's payment change is rejected `entity_locked`; A's other edits are not", async () => {
    const { a, b, invoice } = await twoTillsWithAnInvoice();
    granted(await b.engine.lease("acquire", invoice, "payment"));
    // A edits the notes (not guarded), then takes the payment off (a payments change: guarded). In
    // that order: a later edit of the same record would depend on the rejected one (depends_on_rejected).
    for (const patch of [{ notes: "collect the album on Friday" }, { payments: [] }]) {
      const wrote = a.store.updateInvoice(invoice, patch);
      if (!wrote.ok) throw new Error(wrote.error.message);
    }
    a.engine.notifyWrite();
    await a.engine.untilDrained(20_000);
    expect(a.store.conflicts({ open: true })).toMatchObject([{ code: "entity_locked", message: expect.stringContaining(B) }]);
    expect(a.store.get(invoice)?.entity).toMatchObject({ data: { payments: ex.invoice.payments, notes: "collect the album on Friday" } });
  }, 60_000);

  it("a request the protocol would refuse is not sent: a TTL out of bounds is answered `invalid` by the till itself", async () => {
    const { a, invoice } = await twoTillsWithAnInvoice();
    const answer = await a.engine.lease("acquire", invoice, "payment", { ttlMs: 1_000 });
    expect(answer).toMatchObject({ outcome: "invalid", code: "invalid_request", message: expect.stringContaining("ttl_ms") });
    expect(await a.engine.lease("acquire", "not-an-id", "payment")).toMatchObject({ outcome: "invalid", message: expect.stringContaining("entity_id") });
    expect(a.engine.leases()?.leases).toEqual([]);
  }, 60_000);
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("studiovault lease", () => {
  it("take, list, release and break over the branch's HTTP API; a cashier is refused with the reason; bad arguments are usage errors", async () => {
    const b = branch("cli");
    const dbs = { manager: tempDbPath("manager"), staff: tempDbPath("staff"), cashier: tempDbPath("cashier") };
    for (const [db, id, role] of [[dbs.manager, MANAGER, "manager"], [dbs.staff, STAFF, "staff"], [dbs.cashier, CASHIER, "cashier"]] as const) {
      const init = await run("--db", db, "init", "--server", server.url.origin, "--token", await tokenFor(b, id, role), "--no-bootstrap");
      expect(init.code, init.out + init.err).toBe(0);
    }
    const created = JSON.parse((await run("--db", dbs.manager, "--json", "invoice", "create", "--client", "Anusha Perera", "--line", "Gold package:1:250000", "--status", "issued")).out);
    const invoice: string = created.entity.entity_id;
    expect((await run("--db", dbs.manager, "sync", "--timeout", "30")).code).toBe(0);

    // Nothing leased yet.
    expect(await run("--db", dbs.manager, "lease", "list")).toMatchObject({ code: 0, out: "no leases in force" });

    // take
    const take = await run("--db", dbs.manager, "lease", "take", invoice, "payment", "--ttl", "90");
    expect(take.code, take.out + take.err).toBe(0);
    expect(take.out).toMatch(new RegExp(`^leased: the payments and status of invoice ${invoice} to this device for 90 s \\(until \\d{4}-\\d\\d-\\d\\dT[^)]+\\); \`lease take\` again to renew$`));

    // list, in words and in JSON
    const list = await run("--db", dbs.manager, "lease", "list");
    expect(list.code).toBe(0);
    expect(list.out).toMatch(new RegExp(`^${invoice}  payment \\(payments and status of the invoice\\) · held by \\S+ \\(manager\\) on device ${MANAGER} \\(this device\\) · (90|89|88) s left \\(until `));
    const listed = JSON.parse((await run("--db", dbs.manager, "--json", "lease", "list")).out);
    expect(listed).toMatchObject({ ok: true, server_time_ms: expect.any(Number), leases: [{ entity_id: invoice, group: "payment", device_id: MANAGER, role: "manager" }] });

    // Another device holding it: refused `held`, naming the holder; exit 1.
    const held = await run("--db", dbs.staff, "lease", "take", invoice, "payment");
    expect(held.code).toBe(1);
    expect(held.out).toMatch(new RegExp(`^refused: .*${MANAGER}`));
    const heldJson = JSON.parse((await run("--db", dbs.staff, "--json", "lease", "take", invoice, "payment")).out);
    expect(heldJson).toMatchObject({ ok: false, error: "held", refusal: "held", status: 409, lease: { device_id: MANAGER } });

    // release
    const release = await run("--db", dbs.manager, "lease", "release", invoice, "payment");
    expect(release).toMatchObject({ code: 0, out: `released: the payments and status of invoice ${invoice}` });
    expect((await run("--db", dbs.manager, "lease", "list")).out).toBe("no leases in force");
    expect(await run("--db", dbs.manager, "lease", "release", invoice, "payment")).toMatchObject({ code: 1, out: expect.stringMatching(/^refused: no lease is in force on invoice .*payments and status$/) });

    // break: staff takes it, a cashier may not break it, a manager does.
    expect((await run("--db", dbs.staff, "lease", "take", invoice, "payment")).code).toBe(0);
    const cashierBreak = await run("--db", dbs.cashier, "lease", "break", invoice, "payment", "--reason", "stuck");
    expect(cashierBreak).toMatchObject({ code: 1, out: "refused: role cashier may not break leases (owner and manager may)" });
    const broken = await run("--db", dbs.manager, "lease", "break", invoice, "payment", "--reason", "till froze mid-payment");
    expect(broken.code, broken.out + broken.err).toBe(0);
    expect(broken.out).toMatch(new RegExp(`^broken: the payments and status of invoice ${invoice}, held by \\S+ on device ${STAFF}$`));
    expect((await run("--db", dbs.manager, "lease", "list")).out).toBe("no leases in force");

    // A cashier may not lease an invoice's payments (nor list the branch's leases).
    const cashierTake = await run("--db", dbs.cashier, "lease", "take", invoice, "payment");
    expect(cashierTake).toMatchObject({ code: 1, out: "refused: role cashier may not change an invoice's payments and status, so it may not lease them" });
    expect(await run("--db", dbs.cashier, "lease", "list")).toMatchObject({ code: 1, out: "refused: your role (cashier) may not read the branch's leases" });
    // A record the branch does not have.
    expect(await run("--db", dbs.manager, "lease", "take", NOBODY, "payment")).toMatchObject({ code: 1, out: `refused: no invoice ${NOBODY} on this branch` });

    // Bad arguments: exit 2, nothing sent.
    const usage = async (...argv: string[]) => {
      const r = await run("--db", dbs.manager, "lease", ...argv);
      expect(r.code, `${argv.join(" ")}: ${r.out}${r.err}`).toBe(2);
      return r.err;
    };
    expect(await usage()).toContain("lease: expected list, take, release or break");
    expect(await usage("steal", invoice, "payment")).toContain('received "steal"');
    expect(await usage("take")).toContain("ENTITY_ID missing");
    expect(await usage("take", invoice)).toContain("GROUP missing; expected one of payment (invoice), package (project), correction (pos_order)");
    expect(await usage("take", "INV-1", "payment")).toContain('ENTITY_ID: received "INV-1"');
    expect(await usage("take", invoice, "wages")).toContain('GROUP: received "wages"');
    expect(await usage("take", invoice, "payment", "--ttl", "2")).toContain("--ttl: received \"2\", expected whole seconds from 5 to 300");
    expect(await usage("take", invoice, "payment", "--ttl", "1m")).toContain("--ttl: received \"1m\"");
    expect(await usage("release", invoice, "payment", "--ttl", "30")).toContain("--ttl is for `lease take`");
    expect(await usage("take", invoice, "payment", "--reason", "x")).toContain("--reason is for `lease break`");
    expect(await usage("break", invoice, "payment", "--reason", "x".repeat(501))).toContain("--reason: 501 characters, expected at most 500");
    expect(await usage("take", invoice, "payment", "extra")).toContain('unexpected argument "extra"');
    expect(await usage("list", "--ttl", "5")).toContain("lease list: takes no flags");
    const jsonUsage = await run("--db", dbs.manager, "--json", "lease", "take", invoice);
    expect(jsonUsage.code).toBe(2);
    expect(JSON.parse(jsonUsage.out)).toMatchObject({ ok: false, error: "usage" });

    // Unreachable: exit 3, nothing changed.
    const offline = tempDbPath("offline");
    const deadPort = await freePort();
    // init binds the database whether or not the server answers (exit 0 without a bootstrap to fetch).
    expect((await run("--db", offline, "init", "--server", `http://127.0.0.1:${deadPort}`, "--token", await tokenFor(b, A, "owner"), "--no-bootstrap")).code).not.toBe(2);
    const unreachable = await run("--db", offline, "lease", "take", invoice, "payment");
    expect(unreachable.code).toBe(3);
    expect(unreachable.out).toContain("server unreachable at");
  }, 120_000);
});
