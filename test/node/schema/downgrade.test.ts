/**
 * Server messages as an older client reads them (protocol/downgrade.ts): each version's own schema
 * must accept what it is sent. v7's reject code `entity_locked` reaches a v1-v6 client as
 * `operation_not_allowed`, with the same words, in verdicts and in a v6 dashboard's `observed`.
 */
import { describe, expect, it } from "vitest";
import { type Observed, PROTOCOL_VERSION, serverMessageFor, type Verdicts } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";

const locked = {
  event_id: ex.ids.event1,
  status: "rejected",
  code: "entity_locked",
  message: "Invoice payments and status are being edited on device x, which holds the lease on them: your change was not applied",
  detail: { field: "payment", expected: ex.ids.deviceB, received: ex.ids.deviceA },
  server_entity: null,
  last_change: null,
} as const;

describe("messages for older clients", () => {
  it("a v1-v6 client gets entity_locked as operation_not_allowed, same words, no detail; v7 as it is", () => {
    const verdicts = { type: "verdicts", batch_id: ex.ids.batch, verdicts: [locked] } as unknown as Verdicts;
    for (let version = 1; version < 7; version++) {
      const sent = serverMessageFor(version, verdicts) as Verdicts;
      expect(sent.verdicts[0], `v${version}`).toMatchObject({ code: "operation_not_allowed", detail: null, message: locked.message });
      // Before v5 a rejection has no last_change at all.
      if (version < 5) expect(sent.verdicts[0]).not.toHaveProperty("last_change");
    }
    expect(serverMessageFor(PROTOCOL_VERSION, verdicts)).toBe(verdicts);
  });

  it("a v6 dashboard's observed lists an entity_locked rejection as operation_not_allowed", () => {
    const observed = { ...(ex.serverMessages.observed as Observed), rejections: [{ ...ex.rejectionSummary, code: "entity_locked" }] } as Observed;
    expect((serverMessageFor(6, observed) as Observed).rejections[0]!.code).toBe("operation_not_allowed");
    expect(serverMessageFor(7, observed)).toBe(observed);
    // Nothing to change: the same message.
    const plain = ex.serverMessages.observed as Observed;
    expect(serverMessageFor(6, plain)).toBe(plain);
  });
});
