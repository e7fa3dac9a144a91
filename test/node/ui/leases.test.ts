/**
 * Leases where the guarded fields are edited (protocol v7, issue 17), in Debian's Chromium against
 * browser mode and the real local server: another till's lease on an invoice's payments (or a
 * project's package) is shown with who holds it and how long is left, counted down on the core's
 * injected monotonic clock; this till takes the lease when a payment starts and gives it back on save
 * and on cancel; offline, the app says nobody can tell who else edits, and the edit still saves
 * locally. axe-core finds no serious or critical problem in any state. Screenshots go to
 * test-results/screenshots/leases/ (not committed).
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { EntityView, WriteResult } from "../../../desktop/app/api.js";
import { DesktopCore } from "../../../desktop/app/core.js";
import { signDeviceToken } from "../../../durable/auth.js";
import type { InvoiceCreate, ProjectData } from "../../../domain/index.js";
import type { Lease } from "../../../protocol/index.js";
import type { DeviceClaims } from "../../../protocol/token.js";
import * as ex from "../../fixtures/examples.js";
import { type Desktop, desktop, waitUntil } from "../../support/e2e.js";
import { TEST_SECRET } from "../../support/server.js";
import { expectAccessible, openScreen, uiHarness } from "../../support/ui.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";

const ui = uiHarness("leases");
const branchName = (what: string) => `ui-lease-${what}-${Date.now().toString(36)}`;

const invoice: InvoiceCreate = { ...ex.invoice, project_id: null, payments: [], due_on: null, reference: "INV-LEASE-1" };
const project: ProjectData = { ...ex.project, media_selection: { items: [] } };

/**
 * Till A in a page, on a core whose monotonic clock (the one leases count down on) the test moves.
 * `online: false`: sync switched off from the start.
 */
async function tillA(branch: string, opts: { online?: boolean } = {}) {
  const d = await desktop(ui.server, branch, A, "manager", 31, { nowMs: Date.now() });
  let monoMs = 1_000_000;
  const core = new DesktopCore(d.store, { online: opts.online, engine: { monotonicMs: () => monoMs } });
  const page = await ui.page(core, d.store);
  return { d, core, page, advance: (ms: number) => void (monoMs += ms) };
}

/** Till B: a manager called nimal, syncing (no window). */
async function tillB(branch: string): Promise<Desktop> {
  const b = await desktop(ui.server, branch, B, "manager", 32);
  const iat = Math.floor(Date.now() / 1000);
  const token = await signDeviceToken({ v: 1, branch, device: B, user: "nimal", role: "manager", iat, exp: iat + 3600 } as DeviceClaims, TEST_SECRET);
  const bound = b.store.init({ server_url: ui.server.url.origin, token });
  if (!bound.ok) throw new Error(bound.error);
  ui.onClose(() => b.close());
  b.start();
  await waitUntil("B is live and has heard the leases", () => b.engine.status().kind === "live" && b.engine.leases() !== null);
  return b;
}

/** Writes on A's core (as the screens do) and, when A is online, waits until the branch confirmed them. */
async function seed(core: DesktopCore, online: boolean): Promise<{ invoiceId: string; projectId: string }> {
  const inv = (await core.handle({ method: "write", action: { kind: "invoice_create", data: { ...invoice, issued_on: core.store.today() } } })) as WriteResult;
  const prj = (await core.handle({ method: "write", action: { kind: "project_create", data: project } })) as WriteResult;
  if (!inv.ok || !prj.ok) throw new Error(`seeding refused: ${JSON.stringify(inv.ok ? prj : inv)}`);
  if (online) await waitUntil("A's writes are confirmed", () => core.store.summary().pending === 0);
  return { invoiceId: inv.value.entity.entity_id, projectId: prj.value.entity.entity_id };
}

const rowNote = (page: Page) => page.getByTestId("invoice-row").first().getByTestId("lease-note");
const dialog = (page: Page) => page.getByRole("dialog", { name: "Payment amount (LKR)" });
/** The leases in force as a till last heard them from the branch. */
const leasesOnBranch = (till: { engine: { leases(): { leases: readonly Lease[] } | null } }) => till.engine.leases()?.leases ?? [];

async function openPackage(page: Page) {
  await openScreen(page, "Projects");
  await page.getByRole("button", { name: `Edit ${project.title}` }).click();
  return page.getByRole("group", { name: "Package" });
}

describe("leases on the screens where the guarded fields are", () => {
  it("another till's payment lease: the invoice shows who and how long, counted down on the core's clock; a payment still saves here and the branch refuses it at push", async () => {
    const branch = branchName("held");
    const { core, page, advance } = await tillA(branch);
    const { invoiceId, projectId } = await seed(core, true);
    const b = await tillB(branch);
    expect((await b.engine.lease("acquire", invoiceId, "payment", { ttlMs: 60_000 })).outcome).toBe("granted");
    expect((await b.engine.lease("acquire", projectId, "package", { ttlMs: 60_000 })).outcome).toBe("granted");
    await waitUntil("A has heard both leases", () => leasesOnBranch(core).length === 2);

    await openScreen(page, "Invoices");
    await expect.poll(() => rowNote(page).textContent()).toBe("Being edited by nimal (manager) on another till, 1 min left");
    await expect.poll(() => rowNote(page).getAttribute("class")).toContain("warn");
    // The countdown moves with the core's monotonic clock, not the browser's nor the wall clock.
    advance(15_000);
    await expect.poll(() => rowNote(page).getByTestId("lease-remaining").textContent()).toBe("45 s left");
    await ui.shot(page, "invoice-held-by-another-till");

    // Starting a payment asks too; the branch says no, the person is warned, and may still save locally.
    await page.getByRole("button", { name: "Record payment" }).click();
    const note = dialog(page).getByTestId("lease-note");
    await expect.poll(() => note.textContent()).toMatch(/^Being edited by nimal \(manager\) on another till, 45 s left.*branch will likely refuse/);
    await expect.poll(() => core.status().leases.mine.map((h) => h.state)).toEqual(["held_elsewhere"]);
    await expectAccessible(page, "payment dialog, lease held by another till");
    await ui.shot(page, "invoice-payment-held-by-another-till");
    await dialog(page).getByLabel("Payment amount (LKR)").fill("1,000");
    await dialog(page).getByRole("button", { name: "OK" }).click();
    await expect.poll(() => core.status().leases.mine).toEqual([]);
    // Saved here at once; the branch judges it at push time: entity_locked, in the conflict inbox.
    await waitUntil("the payment was pushed and refused", () => core.store.summary().conflicts_open === 1);
    expect(core.store.conflicts({ open: true })[0]?.code).toBe("entity_locked");

    // The project's package: the same words in the Package fieldset, before the person even starts.
    const pkg = await openPackage(page);
    await expect.poll(() => pkg.getByTestId("lease-note").textContent()).toMatch(/^Being edited by nimal \(manager\) on another till, \d+ s left/);
    await expectAccessible(page, "project edit, package held by another till");
    await ui.shot(page, "project-package-held-by-another-till");
  }, 90_000);

  it("this till takes the payment lease when a payment starts and releases it on cancel, on save and when the window closes; the package lease from focus until the form closes; a POS void's while its reason is asked", async () => {
    const branch = branchName("mine");
    const { core, page } = await tillA(branch);
    const { invoiceId, projectId } = await seed(core, true);
    const b = await tillB(branch);
    const heldByA = (entityId: string) => leasesOnBranch(b).some((l) => l.entity_id === entityId && l.device_id === A);

    await openScreen(page, "Invoices");
    await page.getByRole("button", { name: "Record payment" }).click();
    const note = dialog(page).getByTestId("lease-note");
    await expect.poll(() => note.textContent()).toBe("You are editing payments");
    await expect.poll(() => note.getAttribute("class")).toContain("quiet");
    await waitUntil("the branch lists A's payment lease (seen from B)", () => heldByA(invoiceId));
    // The row, behind the dialog, says the same quietly.
    expect(await rowNote(page).textContent()).toBe("You are editing payments");
    await expectAccessible(page, "payment dialog, lease held by this till");
    await ui.shot(page, "invoice-payment-held-by-this-till");

    await dialog(page).getByRole("button", { name: "Cancel" }).click();
    await waitUntil("cancel released it (seen from B)", () => !heldByA(invoiceId));
    expect(core.status().leases.mine).toEqual([]);

    await page.getByRole("button", { name: "Record payment" }).click();
    await waitUntil("taken again", () => heldByA(invoiceId));
    await dialog(page).getByLabel("Payment amount (LKR)").fill("100");
    await dialog(page).getByRole("button", { name: "OK" }).click();
    await waitUntil("save released it (seen from B)", () => !heldByA(invoiceId));
    // Our own lease never blocks our own commit: the payment is confirmed.
    await waitUntil("the payment is confirmed", () => core.store.summary().pending === 0);
    expect(core.store.summary().conflicts_open).toBe(0);

    // The package: held from the moment the person goes into its fields, released on Cancel.
    const pkg = await openPackage(page);
    expect(await pkg.getByTestId("lease-note").textContent()).toBe("");
    await pkg.getByLabel("Price").click();
    await expect.poll(() => pkg.getByTestId("lease-note").textContent()).toBe("You are editing the package and price");
    await waitUntil("the branch lists A's package lease", () => heldByA(projectId));
    await expectAccessible(page, "project edit, package held by this till");
    await ui.shot(page, "project-package-held-by-this-till");
    await page.getByRole("button", { name: "Cancel" }).click();
    await waitUntil("closing the form released it", () => !heldByA(projectId));

    // A POS void: the sale's corrections and void are held while the reason is asked.
    await openScreen(page, "POS");
    await page.getByRole("button", { name: "Add Print A4" }).click();
    await page.getByLabel("Card").check();
    await page.getByRole("button", { name: "Charge 450.00 LKR" }).click();
    await waitUntil("the sale is confirmed", () => core.store.summary().pending === 0);
    await page.getByRole("button", { name: /^Void sale / }).first().click();
    const voidNote = page.getByRole("dialog", { name: "Why is this sale voided?" }).getByTestId("lease-note");
    await expect.poll(() => voidNote.textContent()).toBe("You are editing corrections of this sale");
    const saleId = core.status().leases.mine[0]?.entity_id ?? "";
    await waitUntil("the branch lists A's correction lease", () => heldByA(saleId));
    await expectAccessible(page, "POS void, lease held by this till");
    await ui.shot(page, "pos-void-held-by-this-till");
    await page.getByRole("dialog", { name: "Why is this sale voided?" }).getByRole("button", { name: "Cancel" }).click();
    await waitUntil("cancelling the void released it", () => !heldByA(saleId));

    // The window goes while a payment is open: nobody is editing any more, so the core lets it go.
    await openScreen(page, "Invoices");
    await page.getByRole("button", { name: "Record payment" }).click();
    await waitUntil("taken for the third time", () => heldByA(invoiceId));
    await page.close();
    await waitUntil("closing the window released it (seen from B)", () => !heldByA(invoiceId));
  }, 90_000);

  it("offline: the app says someone may be editing this too, and the payment and the package still save locally", async () => {
    const branch = branchName("offline");
    const { core, page } = await tillA(branch, { online: false });
    const { invoiceId, projectId } = await seed(core, false);
    expect(core.status().leases).toMatchObject({ connected: false, in_force: [] });

    await openScreen(page, "Invoices");
    // Only reading: nothing to warn about.
    expect(await rowNote(page).textContent()).toBe("");
    await page.getByRole("button", { name: "Record payment" }).click();
    const note = dialog(page).getByTestId("lease-note");
    await expect.poll(() => note.textContent()).toMatch(/^You are offline: someone may be editing this too/);
    await expect.poll(() => core.status().leases.mine.map((h) => h.state)).toEqual(["offline"]);
    await expectAccessible(page, "payment dialog, offline");
    await ui.shot(page, "invoice-payment-offline");
    await dialog(page).getByLabel("Payment amount (LKR)").fill("500");
    await dialog(page).getByRole("button", { name: "OK" }).click();
    await expect.poll(() => core.status().leases.mine).toEqual([]);
    const saved = (await core.handle({ method: "get", id: invoiceId })) as EntityView | null;
    expect(saved?.entity.entity_type === "invoice" ? saved.entity.data.payments.map((p) => p.amount_minor) : null).toEqual([50_000]);
    expect(saved?.status).toBe("pending");

    const pkg = await openPackage(page);
    await pkg.getByLabel("Price").click();
    await expect.poll(() => pkg.getByTestId("lease-note").textContent()).toMatch(/^You are offline: someone may be editing this too/);
    await ui.shot(page, "project-package-offline");
    await pkg.getByLabel("Package name").fill("Platinum");
    await page.getByRole("button", { name: "Save changes" }).click();
    await expect
      .poll(async () => {
        const p = (await core.handle({ method: "get", id: projectId })) as EntityView | null;
        return p?.entity.entity_type === "project" ? p.entity.data?.package?.name : null;
      })
      .toBe("Platinum");
    // Saving closed the form: the hold it asked for is gone.
    await expect.poll(() => core.status().leases.mine).toEqual([]);
  }, 90_000);
});
