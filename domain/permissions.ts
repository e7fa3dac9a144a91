/**
 * Roles and the permission matrix: role × entity type × operation, plus branch-level actions.
 * The desktop pre-checks with this table to give early feedback; the server decides (I11).
 */
import { z } from "zod";
import type { EntityType } from "./entities/index.js";
import type { Operation } from "./operations.js";

export const Role = z.enum(["owner", "manager", "staff", "cashier", "viewer"]);
export type Role = z.infer<typeof Role>;

type Matrix = Record<EntityType, Partial<Record<Operation, readonly Role[]>>>;

/**
 * Who may do what. An operation missing from an entity's row is not an operation on that entity at
 * all (`operation_not_allowed`, or `append_only` for POS update/delete) whatever the role.
 */
export const PERMISSIONS: Matrix = {
  project: {
    create: ["owner", "manager", "staff"],
    update: ["owner", "manager", "staff"],
    delete: ["owner", "manager"],
  },
  invoice: {
    create: ["owner", "manager", "staff", "cashier"],
    update: ["owner", "manager", "staff"],
    void: ["owner", "manager"],
  },
  pos_order: {
    create: ["owner", "manager", "staff", "cashier"],
    void: ["owner", "manager"],
  },
};

/** Branch-level actions that are not entity writes. */
export const BRANCH_ACTIONS = {
  /** Connect, pull, read entities and snapshots. */
  read: ["owner", "manager", "staff", "cashier", "viewer"],
  /** Read the POS ledger (per day and device totals). */
  read_ledger: ["owner", "manager", "cashier"],
  /**
   * See the branch's dashboard (protocol v6): devices and their health, rejections and their
   * drill-down, entity history, the money per day and till, the audit log. Seeing only: acting
   * (revoke, resolve) keeps its own action.
   */
  observe: ["owner", "manager", "viewer"],
  /** Read the audit log. */
  read_audit: ["owner", "manager"],
  /** Ask for a snapshot export now. */
  export_snapshot: ["owner", "manager"],
  /** List the branch's devices and revoke one (a lost or stolen till). */
  manage_devices: ["owner", "manager"],
  /** Resolve a conflict kept open for a manager (a refused POS sale), audited on the server. */
  resolve_conflicts: ["owner", "manager"],
  /** Read and change the branch's settings (the studio's name and address on receipts and invoices). */
  manage_settings: ["owner", "manager"],
  /** End another device's lease on a high-risk field group (protocol v7), audited on the server. */
  break_leases: ["owner", "manager"],
  /**
   * Close a business day (its Z-report, protocol v10) and enter a till's drawer count for it, both
   * audited. Reading a day's report is `read_ledger` or `observe`.
   */
  close_day: ["owner", "manager"],
} as const satisfies Record<string, readonly Role[]>;
export type BranchAction = keyof typeof BRANCH_ACTIONS;

export function isOperationDefined(entityType: EntityType, operation: Operation): boolean {
  return PERMISSIONS[entityType][operation] !== undefined;
}

export function canWrite(role: Role, entityType: EntityType, operation: Operation): boolean {
  return PERMISSIONS[entityType][operation]?.includes(role) ?? false;
}

export function canDo(role: Role, action: BranchAction): boolean {
  return (BRANCH_ACTIONS[action] as readonly Role[]).includes(role);
}
