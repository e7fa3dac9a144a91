/**
 * High-risk fields and the leases that guard them (protocol v7, issue 17).
 *
 * Server-wins keeps the truth; a lease keeps two people from doing the same risky work twice (two
 * cashiers taking one invoice's payment, two editors re-pricing one project's package) and tells
 * them before, not after. A connected device asks its branch for a short lease on one entity's
 * field group; while another device holds it, a commit touching that group is rejected with
 * `entity_locked` (durable/core/decide.ts). Reads are never blocked, and nothing else is: an edit of
 * the entity's other fields is judged as usual.
 *
 * domain/lease-groups.ts is the one table of which fields are high-risk; this file says which guarded
 * groups an event touches and who may lease one. Server and desktop both read it.
 */
import type { EntityType } from "./entities/index.js";
import type { TypedEvent } from "./events.js";
import type { EntityId } from "./ids.js";
import { LEASE_GROUPS, LeaseGroup } from "./lease-groups.js";
import type { Operation } from "./operations.js";
import { canWrite, type Role } from "./permissions.js";

export * from "./lease-groups.js";

/** The groups an entity type has, in the table's order. */
export function leaseGroupsOf(entityType: EntityType): LeaseGroup[] {
  return LeaseGroup.options.filter((g) => LEASE_GROUPS[g].entity_type === entityType);
}

/** One guarded group of one entity. */
export interface LeaseKey {
  entity_id: EntityId;
  group: LeaseGroup;
}

/**
 * The guarded groups an event touches: an update through the fields it replaces, a delete or void of
 * the entity through every group of its type, a POS correction through the order it corrects.
 * Empty for most events (every create but a correction, edits of other fields).
 */
export function touchedLeases(event: TypedEvent): LeaseKey[] {
  switch (event.operation) {
    case "update": {
      const fields = Object.keys(event.payload);
      return leaseGroupsOf(event.entity_type)
        .filter((g) => LEASE_GROUPS[g].fields.some((f) => fields.includes(f)))
        .map((group) => ({ entity_id: event.entity_id, group }));
    }
    case "delete":
    case "void":
      return leaseGroupsOf(event.entity_type)
        .filter((g) => LEASE_GROUPS[g].operations.includes(event.operation))
        .map((group) => ({ entity_id: event.entity_id, group }));
    case "create":
      if (event.entity_type === "pos_order" && event.payload.kind === "correction" && event.payload.corrects_order_id !== null) {
        return [{ entity_id: event.payload.corrects_order_id, group: "correction" }];
      }
      return [];
    default:
      return [];
  }
}

/**
 * Whether a role may take a lease on a group: when it may make some change the group guards (an
 * update of its fields, or one of its operations). A viewer may take none.
 */
export function mayLease(role: Role, group: LeaseGroup): boolean {
  const rule = LEASE_GROUPS[group];
  const ops: Operation[] = [...(rule.fields.length > 0 ? (["update"] as const) : []), ...rule.operations];
  return ops.some((op) => canWrite(role, rule.entity_type, op));
}

/** How long a lease lasts unless renewed (ms), and the bounds a device may ask for. */
export const LEASE_DEFAULT_TTL_MS = 60_000;
export const LEASE_MIN_TTL_MS = 5_000;
export const LEASE_MAX_TTL_MS = 300_000;
/** Leases one device may hold at once, and the branch in all: a lease is for a field being edited now. */
export const MAX_LEASES_PER_DEVICE = 16;
export const MAX_ACTIVE_LEASES = 500;
