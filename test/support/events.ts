/** Builders for sync events and ids in tests: deterministic, seeded, no Date.now(). */
import { type DeviceId, type EntityType, type Operation, type SyncEvent, uuidv7 } from "../../domain/index.js";
import * as ex from "../fixtures/examples.js";
import { Prng } from "./prng.js";

/** A seeded id generator producing valid UUIDv7s (the one test PRNG, test/support/prng.ts). */
export function idGenerator(seed: number, startMs = Date.UTC(2026, 10, 25)) {
  const prng = new Prng(seed, "ids");
  let ms = startMs;
  return () => uuidv7(ms++, (bytes) => prng.fill(bytes));
}

export interface EventOptions {
  base?: number | null;
  dep?: string | null;
  id?: string;
}

export function makeEventFactory(seed: number) {
  const nextId = idGenerator(seed);
  const event = (
    device: string,
    entity_type: EntityType,
    entity_id: string,
    operation: Operation,
    payload: unknown,
    opts: EventOptions = {},
  ): SyncEvent =>
    ({
      id: opts.id ?? nextId(),
      device_id: device as DeviceId,
      entity_type,
      entity_id,
      operation,
      payload,
      base_version: opts.base ?? null,
      depends_on: opts.dep ?? null,
      created_at: "2026-11-25T04:00:00.000Z",
    }) as SyncEvent;
  return {
    nextId,
    event,
    createProject: (device: string, id = nextId(), title = "Shoot") =>
      event(device, "project", id, "create", { ...ex.project, title }),
    updateProject: (device: string, id: string, patch: Record<string, unknown>, opts: EventOptions) =>
      event(device, "project", id, "update", patch, opts),
    deleteProject: (device: string, id: string, opts: EventOptions) =>
      event(device, "project", id, "delete", { reason: "cancelled" }, opts),
    sale: (device: string, id = nextId(), receipt = "T1-000001", amount = 100_000) =>
      event(device, "pos_order", id, "create", {
        ...ex.sale,
        local_receipt_no: receipt,
        lines: [{ sku: null, description: "Print", quantity: 1, unit_price_minor: amount }],
        total_minor: amount,
        payment: { method: "card", tendered_minor: null, change_minor: null },
      }),
    correction: (device: string, original: string, id = nextId(), amount = -10_000) =>
      event(device, "pos_order", id, "create", {
        ...ex.correction,
        corrects_order_id: original,
        lines: [{ sku: null, description: "Refund", quantity: -1, unit_price_minor: -amount }],
        total_minor: amount,
      }),
    voidOrder: (device: string, id: string, opts: EventOptions) =>
      event(device, "pos_order", id, "void", { reason: "mistake" }, opts),
  };
}
