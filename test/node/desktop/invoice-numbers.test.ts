/**
 * Official invoice numbers in the desktop store (issue 14): an invoice issued offline has none (the
 * app says "not numbered yet"); the server's verdict brings it; another device gets it with the
 * entity; a snapshot carries it into a new device's store (bootstrap). Real SQLite on both sides.
 */
import { describe, expect, it } from "vitest";
import { SnapshotLine } from "../../../protocol/index.js";
import * as ex from "../../fixtures/examples.js";
import { makeCore } from "../../support/branch.js";
import { openStore, syncDirect } from "../../support/desktop.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const C = "01936f3c-0000-7000-8000-0000000000c3";
const invoice = (status: "draft" | "issued") => ({ ...ex.invoice, project_id: null, status, payments: [], issued_on: status === "draft" ? null : "2026-11-20" });

describe("official invoice numbers on the desktop", () => {
  it("an invoice issued offline has no number until its verdict brings one; drafts stay unnumbered; other devices and a snapshot carry it", async () => {
    const server = makeCore();
    const { store: a } = await openStore({ branch: "test-branch", device: A, role: "manager", seed: 1 });
    const { store: b } = await openStore({ branch: "test-branch", device: B, role: "staff", seed: 2 });
    const issued = a.createInvoice(invoice("issued"));
    const draft = a.createInvoice(invoice("draft"));
    if (!issued.ok || !draft.ok) throw new Error("write refused");
    const id = issued.value.entity.entity_id;
    expect(a.get(id)?.entity).not.toHaveProperty("official_invoice_no");

    syncDirect(a, server.core);
    expect(a.get(id)).toMatchObject({ status: "synced", entity: { official_invoice_no: 1 } });
    expect(a.get(draft.value.entity.entity_id)?.entity).not.toHaveProperty("official_invoice_no");
    // A local edit of a numbered invoice keeps its number in the view while it is pending.
    expect(a.updateInvoice(id, { notes: "second copy sent" }).ok).toBe(true);
    expect(a.get(id)).toMatchObject({ status: "pending", entity: { official_invoice_no: 1, data: { notes: "second copy sent" } } });
    syncDirect(a, server.core);

    syncDirect(b, server.core);
    expect(b.get(id)).toMatchObject({ status: "synced", entity: { version: 2, official_invoice_no: 1 } });

    // A new device bootstraps from a snapshot: the number survives.
    const { store: c } = await openStore({ branch: "test-branch", device: C, role: "viewer", seed: 3 });
    const staging = c.stageSnapshot();
    const seq = server.core.head();
    const counts = { project: 0, invoice: 0, pos_order: 0, tombstones: 0, pos_facts: 0, pos_voids: 0 };
    const lines = [...server.core.snapshotLines(seq, counts)].map((text) => SnapshotLine.parse(JSON.parse(text)));
    staging.stage(lines.flatMap((l) => (l.kind === "entity" ? [{ kind: "entity" as const, entity: l.entity }] : [])));
    staging.swap(seq, "test snapshot");
    expect(c.get(id)).toMatchObject({ status: "synced", entity: { official_invoice_no: 1 } });
    for (const s of [a, b, c]) s.close();
    server.close();
  });
});
