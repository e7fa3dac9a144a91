/**
 * The dashboard's leases without a browser: the feed keeps the branch's word (welcome, then every
 * `leases`) and counts down from its `server_time_ms` by the injected monotonic clock, never the
 * wall clock; the words for lease groups, countdowns and the v7 codes; and the audit's kinds kept in
 * step with the server's.
 */
import { describe, expect, it } from "vitest";
import { AUDIT_KINDS } from "../../../dashboard/audit.js";
import { BranchFeed } from "../../../dashboard/feed.js";
import type { BranchLink } from "../../../dashboard/link.js";
import type { SignIn } from "../../../dashboard/sessions.js";
import { codeWords, leaseLeft, leaseWhat } from "../../../dashboard/words.js";
import { RejectCode } from "../../../domain/reject-codes.js";
import { AuditKind } from "../../../durable/core/audit.js";
import type { Lease } from "../../../protocol/messages.js";

const SERVER_MS = Date.UTC(2026, 11, 3, 6, 0, 0);
const INVOICE = "01936f3c-2222-7000-8000-0000000000a1";
const PROJECT = "01936f3c-1111-7000-8000-0000000000b2";
const signIn: SignIn = { branch: "b", token: "t", device_id: "d", install_id: "i", user_id: "priya", role: "manager", expires_at_ms: SERVER_MS + 3_600_000 };

const lease = (over: Partial<Record<keyof Lease, unknown>>): Lease =>
  ({ entity_id: INVOICE, entity_type: "invoice", group: "payment", device_id: "01936f3c-0000-7000-8000-0000000057d2", user_id: "kamala", role: "staff", acquired_at_ms: SERVER_MS - 10_000, expires_at_ms: SERVER_MS + 60_000, ...over }) as Lease;

/** A link whose events the test emits by hand; nothing goes on a wire. */
function fakeLink() {
  const listeners = new Map<string, Set<(v: unknown) => void>>();
  const link = {
    on: (name: string, fn: (v: unknown) => void) => {
      if (!listeners.has(name)) listeners.set(name, new Set());
      listeners.get(name)!.add(fn);
      return () => listeners.get(name)!.delete(fn);
    },
    reportStatus: () => undefined,
    watch: () => undefined,
    start: () => undefined,
    stop: () => undefined,
  };
  const emit = (name: string, value: unknown) => listeners.get(name)?.forEach((fn) => fn(value));
  return { link: link as unknown as BranchLink, emit };
}

function feedWithClocks() {
  const clocks = { wall: SERVER_MS + 999_999, mono: 5_000 };
  const { link, emit } = fakeLink();
  const feed = new BranchFeed(signIn, link, () => clocks.wall, () => clocks.mono);
  feed.start();
  const welcome = (leases: Lease[] | undefined) => emit("welcome", { type: "welcome", head: 0, server_time_ms: SERVER_MS, time_zone: "Asia/Colombo", ...(leases ? { leases } : {}) });
  return { feed, clocks, emit, welcome };
}

describe("the feed's leases", () => {
  it("counts down from the server's word by the monotonic clock: a lease whose time is up is over before the branch says so, whatever the wall clock does", () => {
    const { feed, clocks, welcome } = feedWithClocks();
    expect(feed.leasesInForce()).toBeNull();
    const soon = lease({ entity_id: PROJECT, entity_type: "project", group: "package", expires_at_ms: SERVER_MS + 20_000 });
    welcome([lease({}), soon]);
    expect(feed.leasesInForce()!.map((l) => l.group)).toEqual(["package", "payment"]);
    expect(feed.serverNow()).toBe(SERVER_MS);
    // The machine's clock is set back an hour: nothing moves.
    clocks.wall -= 3_600_000;
    expect(feed.serverNow()).toBe(SERVER_MS);
    clocks.mono += 20_000;
    expect(feed.leasesInForce()!.map((l) => l.group)).toEqual(["payment"]);
    expect(leaseLeft(feed.leasesInForce()![0]!.expires_at_ms, feed.serverNow())).toBe("40 s left");
    clocks.mono += 40_000;
    expect(feed.leasesInForce()).toEqual([]);
  });

  it("every `leases` replaces the list and resets the server's time; a welcome without leases (an older server) says nothing", () => {
    const { feed, clocks, emit, welcome } = feedWithClocks();
    welcome([lease({})]);
    clocks.mono += 50_000;
    emit("leases", { type: "leases", leases: [lease({ expires_at_ms: SERVER_MS + 300_000 })], server_time_ms: SERVER_MS + 120_000 });
    expect(feed.serverNow()).toBe(SERVER_MS + 120_000);
    expect(leaseLeft(feed.leasesInForce()![0]!.expires_at_ms, feed.serverNow())).toBe("3 min left");
    emit("leases", { type: "leases", leases: [], server_time_ms: SERVER_MS + 121_000 });
    expect(feed.leasesInForce()).toEqual([]);
    welcome(undefined);
    expect(feed.leasesInForce()).toBeNull();
  });

  it("a break this dashboard made drops only that very lease, never a newer grant on the same group", () => {
    const { feed, welcome } = feedWithClocks();
    const held = lease({});
    welcome([held]);
    feed.leaseEnded({ ...held, acquired_at_ms: held.acquired_at_ms - 1 });
    expect(feed.leasesInForce()).toHaveLength(1);
    feed.leaseEnded(held);
    expect(feed.leasesInForce()).toEqual([]);
  });
});

describe("lease words", () => {
  it("what a lease guards, from the one table of groups, and how long it has left", () => {
    expect(leaseWhat(lease({}))).toBe("Invoice …0000a1 — payments and status");
    expect(leaseWhat(lease({ entity_id: PROJECT, entity_type: "project", group: "package" }))).toBe("Project …0000b2 — package and price");
    expect(leaseWhat(lease({ entity_type: "pos_order", group: "correction" }))).toBe("POS order …0000a1 — corrections and void");
    expect(leaseLeft(SERVER_MS + 299_500, SERVER_MS)).toBe("5 min left");
    expect(leaseLeft(SERVER_MS + 250_000, SERVER_MS)).toBe("4 min 10 s left");
    expect(leaseLeft(SERVER_MS + 9_001, SERVER_MS)).toBe("10 s left");
    expect(leaseLeft(SERVER_MS, SERVER_MS)).toBe("ending now");
  });

  it("the v7 codes in people's words; the others as before", () => {
    expect(codeWords("entity_locked")).toBe("Locked: being edited on another device");
    expect(codeWords("lease_broken")).toBe("Lease broken by a manager");
    expect(codeWords("version_conflict")).toBe("Version conflict");
    expect(RejectCode.options).toContain("entity_locked");
  });

  it("the audit's kind filter offers every kind the branch writes (lease_broken included)", () => {
    expect([...AUDIT_KINDS].sort()).toEqual([...AuditKind].sort());
  });
});
