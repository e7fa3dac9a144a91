/**
 * Entity types and the server's view of an entity. Every entity has a server `version` that
 * increments on every commit to it; a deleted project leaves a tombstone (`deleted: true`,
 * `data: null`) so devices learn about the deletion.
 */
import { z } from "zod";
import { EntityId } from "../ids.js";
import { InvoiceData } from "./invoice.js";
import { PosOrderCreate, PosVoid } from "./pos.js";
import { ProjectData } from "./project.js";

export * from "./invoice.js";
export * from "./pos.js";
export * from "./project.js";

export const EntityType = z.enum(["project", "invoice", "pos_order"]);
export type EntityType = z.infer<typeof EntityType>;

const version = z.int().min(1).max(Number.MAX_SAFE_INTEGER);

const ProjectLive = z.strictObject({
  entity_type: z.literal("project"),
  entity_id: EntityId,
  version,
  deleted: z.literal(false),
  data: ProjectData,
});
const ProjectTombstone = z.strictObject({
  entity_type: z.literal("project"),
  entity_id: EntityId,
  version,
  deleted: z.literal(true),
  data: z.null(),
});

export const ProjectEntity = z.discriminatedUnion("deleted", [ProjectLive, ProjectTombstone]);
export type ProjectEntity = z.infer<typeof ProjectEntity>;

export const InvoiceEntity = z.strictObject({
  entity_type: z.literal("invoice"),
  entity_id: EntityId,
  version,
  deleted: z.literal(false),
  data: InvoiceData,
  /**
   * Since protocol v5: the branch's official, gap-free invoice number, assigned by the server at the
   * commit that first makes the invoice issued (or paid), in commit order; absent until then (a
   * draft, or an invoice issued offline whose issue is not yet confirmed), and never changed after.
   * Not sent to v1-v4 clients.
   */
  official_invoice_no: z.int().min(1).optional(),
});
export type InvoiceEntity = z.infer<typeof InvoiceEntity>;

export const PosOrderEntity = z.strictObject({
  entity_type: z.literal("pos_order"),
  entity_id: EntityId,
  version,
  deleted: z.literal(false),
  data: PosOrderCreate,
  /** Assigned by the server at commit: the branch's official, gap-free receipt sequence. */
  official_receipt_no: z.int().min(1),
  void: PosVoid.nullable(),
});
export type PosOrderEntity = z.infer<typeof PosOrderEntity>;

/** The server's current state of one entity, as sent in changes, snapshots and rejections. */
export const Entity = z.discriminatedUnion("entity_type", [ProjectEntity, InvoiceEntity, PosOrderEntity]);
export type Entity = z.infer<typeof Entity>;

/** Human name of an entity type, used in reject messages ("Project was deleted remotely"). */
export const ENTITY_LABEL: Record<EntityType, string> = {
  project: "Project",
  invoice: "Invoice",
  pos_order: "POS order",
};

/** The same in the middle of a sentence, with and without its article. */
export const ENTITY_NOUN: Record<EntityType, { bare: string; withArticle: string }> = {
  project: { bare: "project", withArticle: "a project" },
  invoice: { bare: "invoice", withArticle: "an invoice" },
  pos_order: { bare: "POS order", withArticle: "a POS order" },
};
