/**
 * What the people at the tills do: random local writes through the store's own write API, on the
 * entities they can see (their view), online or offline. Every kind of write the app makes: projects
 * (create, edit, Smart Select, delete), invoices (create, edit, pay, void), POS (sale, correction,
 * void) and the conflict inbox (dismiss, re-apply). Many are refused by the server (a version moved,
 * a project deleted remotely, an order voided on another till, a role without the permission), and
 * some are refused locally at once (the desktop's pre-check); both are part of the test.
 */
import type { LocalStore } from "../../desktop/store/local-store.js";
import { invoiceTotals, type InvoiceCreate, type ProjectData, type ProjectStatus } from "../../domain/index.js";
import type { Result } from "../../lib/result.js";
import type { Prng } from "../support/prng.js";

export type WriteKind =
  | "project.create"
  | "project.update"
  | "project.media"
  | "project.delete"
  | "invoice.create"
  | "invoice.update"
  | "invoice.pay"
  | "invoice.void"
  | "pos.sale"
  | "pos.correction"
  | "pos.void"
  | "conflict.resolve";

const WEIGHTS: ReadonlyArray<readonly [WriteKind, number]> = [
  ["project.create", 10],
  ["project.update", 14],
  ["project.media", 3],
  ["project.delete", 4],
  ["invoice.create", 8],
  ["invoice.update", 7],
  ["invoice.pay", 3],
  ["invoice.void", 3],
  ["pos.sale", 16],
  ["pos.correction", 6],
  ["pos.void", 5],
  ["conflict.resolve", 4],
];

const STATUSES: ProjectStatus[] = ["inquiry", "booked", "shooting", "editing", "delivered", "archived"];

export interface WriteOutcome {
  kind: WriteKind;
  /** ok: queued locally; refused: the local pre-check said no; skipped: nothing to act on. */
  result: "ok" | "refused" | "skipped";
  detail: string;
}

/** An entity the user sees in a list (the view: server truth with this device's pending changes). */
function pickId(store: LocalStore, prng: Prng, type: "project" | "invoice" | "pos_order"): string | null {
  // The first page of the app's own list (live entities by title), as a user would pick from it.
  const listed = store.list(type, { limit: 60 }).map((e) => e.entity.entity_id);
  return listed.length === 0 ? null : prng.pick(listed);
}

function project(prng: Prng, n: number): ProjectData {
  const starts = `2026-12-${String(prng.int(1, 20)).padStart(2, "0")}`;
  return {
    title: `Shoot ${n}`,
    client: { name: `Client ${prng.int(1, 50)}`, email: prng.chance(0.5) ? `c${n}@example.com` : null, phone: null },
    status: prng.pick(STATUSES),
    starts_on: starts,
    ends_on: prng.chance(0.5) ? starts : null,
    location: prng.chance(0.5) ? "Colombo" : null,
    package: prng.chance(0.3) ? { name: "Gold", price: { amount_minor: prng.int(1, 500) * 10_000, currency: "LKR" } } : null,
    notes: "",
    media_selection: { items: [] },
  };
}

const hex64 = (prng: Prng) => Array.from({ length: 8 }, () => prng.uint32().toString(16).padStart(8, "0")).join("");

/** One random write on `store`. */
export function randomWrite(store: LocalStore, prng: Prng, n: number): WriteOutcome {
  const kind = prng.weighted(WEIGHTS);
  const done = (result: Result<unknown, { code: string } | string>, detail: string): WriteOutcome =>
    result.ok ? { kind, result: "ok", detail } : { kind, result: "refused", detail: `${detail}: ${typeof result.error === "string" ? result.error : result.error.code}` };
  const skip = (): WriteOutcome => ({ kind, result: "skipped", detail: "nothing to act on" });

  switch (kind) {
    case "project.create": {
      const r = store.createProject(project(prng, n));
      return done(r, `project ${r.ok ? r.value.event.entity_id : "-"}`);
    }
    case "project.update": {
      const id = pickId(store, prng, "project");
      if (!id) return skip();
      const patch = prng.weighted<Record<string, unknown>>([
        [{ notes: `note ${n}` }, 4],
        [{ status: prng.pick(STATUSES) }, 3],
        [{ title: `Shoot ${n} (renamed)` }, 2],
        [{ location: prng.chance(0.5) ? null : `Kandy ${n}` }, 1],
        // Valid alone, invalid on a project that has an end date: refused on some bases only.
        [{ starts_on: null }, 1],
      ]);
      return done(store.updateProject(id, patch), `update project ${id} ${JSON.stringify(patch)}`);
    }
    case "project.media": {
      const id = pickId(store, prng, "project");
      const current = id ? store.get(id)?.entity : null;
      if (!id || current?.entity_type !== "project" || current.data === null) return skip();
      const was = current.data.media_selection.items;
      const fresh = (i: number) => ({ sha256: hex64(prng), file_name: `IMG_${n}_${i}.CR3`, size_bytes: prng.int(1, 40) * 1_000_000, note: null });
      // A new selection, or (protocol v8: sent as a change set) one photo picked, unpicked or annotated.
      const how = was.length === 0 ? "replace" : prng.pick(["replace", "pick", "unpick", "note"] as const);
      const one = prng.int(0, Math.max(0, was.length - 1));
      const items =
        how === "replace" ? Array.from({ length: prng.int(0, 3) }, (_, i) => fresh(i))
        : how === "pick" ? [...was, fresh(0)]
        : how === "unpick" ? was.filter((_, i) => i !== one)
        : was.map((item, i) => (i === one ? { ...item, note: `note ${n}` } : item));
      return done(store.setMediaSelection(id, { items }), `${how}: ${items.length} photo(s) selected for ${id}`);
    }
    case "project.delete": {
      const id = pickId(store, prng, "project");
      if (!id) return skip();
      return done(store.deleteProject(id, "cancelled"), `delete project ${id}`);
    }
    case "invoice.create": {
      const projectId = prng.chance(0.6) ? pickId(store, prng, "project") : null;
      const status = prng.pick(["draft", "issued"] as const);
      const data: InvoiceCreate = {
        reference: prng.chance(0.7) ? `INV-${n}` : null,
        project_id: projectId as InvoiceCreate["project_id"],
        client_name: `Client ${prng.int(1, 50)}`,
        currency: "LKR",
        lines: Array.from({ length: prng.int(1, 3) }, (_, i) => ({ description: `Item ${i}`, quantity: prng.int(1, 3), unit_price_minor: prng.int(1, 1_000) * 100 })),
        discount_minor: 0,
        tax_rate_bp: prng.pick([0, 1_500]),
        payments: [],
        status,
        issued_on: status === "issued" ? "2026-11-20" : null,
        due_on: null,
        notes: "",
      };
      const r = store.createInvoice(data);
      return done(r, `invoice ${r.ok ? r.value.event.entity_id : "-"} for project ${projectId ?? "none"}`);
    }
    case "invoice.update": {
      const id = pickId(store, prng, "invoice");
      if (!id) return skip();
      const patch = prng.weighted<Record<string, unknown>>([
        [{ notes: `note ${n}` }, 4],
        [{ reference: `INV-${n}-b` }, 2],
        [{ status: "issued", issued_on: "2026-11-21" }, 1],
        [{ project_id: pickId(store, prng, "project") }, 2],
      ]);
      return done(store.updateInvoice(id, patch), `update invoice ${id} ${JSON.stringify(patch)}`);
    }
    case "invoice.pay": {
      const id = pickId(store, prng, "invoice");
      const current = id ? store.get(id)?.entity : null;
      if (!id || current?.entity_type !== "invoice") return skip();
      const totals = invoiceTotals(current.data);
      if (totals.balance_minor <= 0) return skip();
      const payments = [...current.data.payments, { method: "cash" as const, amount_minor: totals.balance_minor, paid_at: "2026-11-25T10:00:00.000Z", reference: null }];
      return done(store.updateInvoice(id, { payments, status: "paid" }), `pay invoice ${id} in full`);
    }
    case "invoice.void": {
      const id = pickId(store, prng, "invoice");
      if (!id) return skip();
      return done(store.voidInvoice(id, "client cancelled"), `void invoice ${id}`);
    }
    case "pos.sale": {
      const method = prng.pick(["cash", "card", "e_wallet"] as const);
      const lines = Array.from({ length: prng.int(1, 3) }, (_, i) => ({ sku: prng.chance(0.5) ? `SKU-${i}` : null, description: `Print ${i}`, quantity: prng.int(1, 4), unit_price_minor: prng.int(1, 500) * 100 }));
      const r = store.posSale({ currency: prng.chance(0.9) ? "LKR" : "USD", lines, method, tendered_minor: null });
      return done(r, `sale ${r.ok ? r.value.event.entity_id : "-"}`);
    }
    case "pos.correction": {
      const id = pickId(store, prng, "pos_order");
      if (!id) return skip();
      const r = store.posCorrection(id, { lines: [{ sku: null, description: "Returned", quantity: -1, unit_price_minor: prng.int(1, 100) * 100 }], method: "cash", reason: "returned" });
      return done(r, `correct order ${id}`);
    }
    case "pos.void": {
      const id = pickId(store, prng, "pos_order");
      if (!id) return skip();
      return done(store.posVoid(id, "rung by mistake"), `void order ${id}`);
    }
    case "conflict.resolve": {
      const open = store.conflicts({ open: true });
      if (open.length === 0) return skip();
      const conflict = prng.pick(open);
      const action = conflict.operation === "update" && prng.chance(0.5) ? "reapply" : "dismiss";
      return done(store.resolveConflict(conflict.id, action), `${action} conflict ${conflict.id} (${conflict.code})`);
    }
  }
}
