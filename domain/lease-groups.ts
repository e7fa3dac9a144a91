/**
 * Which fields are high-risk, per entity type: the one table (protocol v7, issue 17). What a lease
 * is and which events touch a group: domain/leases.ts.
 */
import { z } from "zod";
import type { EntityType } from "./entities/index.js";
import type { Operation } from "./operations.js";

/** Every field group a lease can guard (names are unique across entity types). */
export const LeaseGroup = z.enum(["payment", "package", "correction"]);
export type LeaseGroup = z.infer<typeof LeaseGroup>;

export interface LeaseGroupRule {
  entity_type: EntityType;
  /** Top-level data fields an update touches this group through. */
  fields: readonly string[];
  /**
   * What else touches it: a delete or void of the entity itself, and, for a POS order, a correction
   * created against it (the correction's `corrects_order_id` names the guarded order).
   */
  operations: readonly Operation[];
  /** For people: "payments and status", as in "Invoice payments and status are being edited …". */
  label: string;
}

/**
 * Which fields are high-risk, per entity type: the one table. Adding a group here is a protocol
 * change (LeaseGroup is on the wire).
 */
export const LEASE_GROUPS: Readonly<Record<LeaseGroup, LeaseGroupRule>> = {
  /** Taking a payment, marking it paid or issued: two tills must not take the same money twice. */
  payment: { entity_type: "invoice", fields: ["payments", "status"], operations: ["void"], label: "payments and status" },
  /** The package and its price: one re-pricing at a time. */
  package: { entity_type: "project", fields: ["package"], operations: ["delete"], label: "package and price" },
  /** Correcting or voiding a rung-up sale: one correction at a time. */
  correction: { entity_type: "pos_order", fields: [], operations: ["void", "create"], label: "corrections and void" },
};
