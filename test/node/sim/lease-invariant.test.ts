/**
 * The simulation's `lease` invariant (test/sim/invariants.ts checkLeases) catches a commit that
 * touched a group while another device held its lease, and only such commits: it is given a real
 * branch's log and a lease history placed before or after the commit.
 */
import { describe, expect, it } from "vitest";
import type { LeaseLogEntry } from "../../sim/branch.js";
import { checkLeases } from "../../sim/invariants.js";
import type { LeaseRequest } from "../../../protocol/index.js";
import { actor, DEVICES, makeCore } from "../../support/branch.js";
import { makeEventFactory } from "../../support/events.js";
import * as ex from "../../fixtures/examples.js";

const { A, B } = DEVICES;

/** A branch where A created an invoice (seq 1) and then took a payment on it (seq 2) and edited its notes (seq 3). */
function world() {
  const b = makeCore();
  const f = makeEventFactory(31);
  const invoice = f.nextId();
  const events = [
    f.event(A, "invoice", invoice, "create", { ...ex.invoice, project_id: null }),
    f.event(A, "invoice", invoice, "update", { payments: [] }, { base: 1 }),
    f.event(A, "invoice", invoice, "update", { notes: "call first" }, { base: 2 }),
  ];
  const verdicts = b.core.push(actor(A), events).verdicts;
  expect(verdicts.map((v) => v.status)).toEqual(["confirmed", "confirmed", "confirmed"]);
  const now = b.core.nowMs();
  const entry = (head: number, device: string, action: LeaseRequest["action"], outcome: "granted" | "released" | "broken", expiresMs = now + 60_000): LeaseLogEntry => ({
    atMs: now,
    head,
    device_id: device,
    request: { type: "lease", request_id: "0193a000-0000-4000-8000-000000000001", action, entity_id: invoice as LeaseRequest["entity_id"], group: "payment" },
    result: {
      outcome,
      refusal: null,
      message: "",
      lease: { entity_id: invoice, entity_type: "invoice", group: "payment", device_id: device, user_id: "u", role: "manager", acquired_at_ms: now, expires_at_ms: expiresMs } as never,
    },
  });
  return { b, entry, now };
}

describe("the simulation's lease invariant", () => {
  it("flags a commit touching a group another device held a lease on, and names both", () => {
    const { b, entry } = world();
    const violations = checkLeases({ sql: b.sql, leaseLog: [entry(1, B, "acquire", "granted")] } as never);
    expect(violations).toHaveLength(1);
    expect(violations[0]!.message).toContain("seq 2");
    expect(violations[0]!.message).toContain(B);
  });

  it("does not flag commits before the grant, after the release, after the expiry, by the holder, or of other fields", () => {
    const { b, entry, now } = world();
    const check = (log: LeaseLogEntry[]) => checkLeases({ sql: b.sql, leaseLog: log } as never);
    expect(check([entry(2, B, "acquire", "granted")])).toEqual([]); // granted after the payment
    expect(check([entry(0, B, "acquire", "granted"), entry(1, B, "release", "released")])).toEqual([]); // released before it
    expect(check([entry(0, B, "acquire", "granted", now - 1)])).toEqual([]); // expired before it
    expect(check([entry(1, A, "acquire", "granted")])).toEqual([]); // the holder's own
    expect(check([entry(0, B, "acquire", "granted"), entry(1, A, "break", "broken")])).toEqual([]); // broken before it
  });

  it("flags a grant to a second device while the first still holds the lease", () => {
    const { b, entry } = world();
    const violations = checkLeases({ sql: b.sql, leaseLog: [entry(3, B, "acquire", "granted"), entry(3, A, "acquire", "granted")] } as never);
    expect(violations.map((v) => v.message)).toEqual([expect.stringContaining(`granted to ${A} while ${B} held it`)]);
  });
});
