/**
 * The conflict inbox in a real browser (issue 14), against the real local server: each kind of
 * conflict in people's words (a project deleted on another device, a version conflict on an edit, a
 * refused create, a refused POS sale kept for a manager), the fields side by side with the ones that
 * differ marked, each action confirmed, a manager's resolution recorded by the server, axe-core on
 * every state, screenshots of each in test-results/screenshots/conflicts/.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type Role } from "../../../domain/index.js";
import { waitUntil } from "../../support/e2e.js";
import { tokenFor } from "../../support/server.js";
import { desktop } from "../../support/e2e.js";
import { expectAccessible, openScreen, type UiApp, uiHarness } from "../../support/ui.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const B = "01936f3c-0000-7000-8000-0000000000b2";
const ui = uiHarness("conflicts");
const fresh = (what: string) => `ui-inbox-${what}-${Date.now().toString(36)}`;
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;
/** "2 Dec 14:05" (with the year when it is not this year): the real server's commit time, in the branch's zone. */
const WHEN = String.raw`\d{1,2} [A-Z][a-z]{2}( \d{4})? \d\d:\d\d`;

const online = (app: UiApp, on: boolean) => app.core.handle({ method: "setOnline", online: on });
/** The same device re-bound with a token for another role (a demotion or promotion by the branch). */
async function rebind(app: UiApp, branch: string, role: Role) {
  const r = app.d.store.init({ server_url: ui.server.url.origin, token: await tokenFor(branch, A, role) });
  if (!r.ok) throw new Error(r.error);
}
async function otherDevice(branch: string) {
  const other = await desktop(ui.server, branch, B, "owner", 7);
  ui.onClose(() => other.close());
  other.start();
  await other.engine.untilDrained(20_000);
  return other;
}
/** A one-time sign-in code the branch issues at a manager's request (as Add a till asks for one). */
async function codeFor(branch: string, role: Role, user: string): Promise<string> {
  const response = await fetch(new URL(`/v1/branches/${branch}/enrollments`, ui.server.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${await tokenFor(branch, B, "manager")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ role, user }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { code: string }).code;
}
const drained = (app: UiApp) => waitUntil("this device is drained", () => app.d.store.summary().pending === 0, 20_000);

/** Nothing for support (codes, ids, JSON) is visible outside "Details for support". */
async function expectPeopleWords(page: Page) {
  const visible = await page.locator("main").evaluate((main) => {
    const clone = main.cloneNode(true) as HTMLElement;
    clone.querySelectorAll("details.support").forEach((d) => d.remove());
    return clone.innerText;
  });
  expect(visible).not.toMatch(UUID);
  expect(visible).not.toMatch(/entity_deleted|version_conflict|permission_denied|\{"|_minor/);
}

describe("the conflict inbox for people", () => {
  it("a project deleted on another device: its name, who deleted it, when and why, the fields side by side, restored as a new project", async () => {
    const branch = fresh("deleted");
    const app = await ui.app(branch, A, "manager", 11);
    const { page, d } = app;
    const created = d.store.createProject({ title: "Perera wedding", client: { name: "Anusha Perera", email: null, phone: null }, status: "booked", starts_on: "2026-12-12", ends_on: null, location: "Galle", package: { name: "Gold", price: { amount_minor: 25_000_000, currency: "LKR" } }, notes: "", media_selection: { items: [] } });
    if (!created.ok) throw new Error(created.error.message);
    app.core.engine.notifyWrite();
    await drained(app);
    await online(app, false);
    const edit = d.store.updateProject(created.value.entity.entity_id, { notes: "Bring the 85mm" });
    expect(edit.ok).toBe(true);
    const other = await otherDevice(branch);
    expect(other.store.deleteProject(created.value.entity.entity_id, "duplicate").ok).toBe(true);
    other.engine.notifyWrite();
    await other.engine.untilDrained(20_000);
    await online(app, true);

    await openScreen(page, "Conflicts");
    const entry = page.getByTestId("conflict");
    await expect.poll(() => entry.count(), { timeout: 20_000 }).toBe(1);
    expect(await entry.getByRole("heading").first().textContent()).toBe("Project was deleted remotely ");
    expect(await entry.getByTestId("conflict-name").textContent()).toBe("Project: Perera wedding");
    expect(await entry.getByTestId("conflict-who").textContent()).toMatch(new RegExp(`^Deleted by e2e on another device, ${WHEN} — reason: duplicate$`));
    const rows = entry.getByTestId("conflict-fields").locator("tbody tr");
    expect(await rows.first().innerText()).toMatch(/^Deleted Differs\s+No\s+Yes$/);
    expect(await entry.getByRole("row", { name: /Notes/ }).innerText()).toMatch(/^Notes Differs\s+Bring the 85mm\s+—$/);
    expect(await entry.getByRole("row", { name: /Package/ }).innerText()).toContain("Gold, 250,000.00 LKR");
    expect(await entry.getByRole("row", { name: /Starts/ }).innerText()).toContain("12 Dec 2026");
    expect(await entry.getByRole("button").allTextContents()).toEqual(["Keep the server's version", "Restore as a new project"]);
    await expectPeopleWords(page);
    await expectAccessible(page, "a deleted project");
    await ui.shot(page, "deleted-project");

    await entry.getByRole("button", { name: "Restore as a new project" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.waitFor();
    expect(await dialog.getByRole("heading").textContent()).toBe("Restore “Perera wedding” as a new project?");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Keep it in the inbox");
    await expectAccessible(page, "restore confirmation");
    await ui.shot(page, "deleted-project-restore-confirm");
    await dialog.getByRole("button", { name: "Restore as a new project" }).click();
    await expect.poll(() => entry.count()).toBe(0);
    await drained(app);
    const projects = d.store.list("project");
    expect(projects.map((p) => [p.entity.entity_id === created.value.entity.entity_id, p.entity.data && "title" in p.entity.data ? p.entity.data.title : null, p.status])).toEqual([[false, "Perera wedding", "synced"]]);
  }, 120_000);

  it("a version conflict on an edit: re-apply shows exactly what is sent on the server's version, then sends it", async () => {
    const branch = fresh("version");
    const app = await ui.app(branch, A, "manager", 12);
    const { page, d } = app;
    const created = d.store.createProject({ title: "Silva studio day", client: { name: "Ruwan Silva", email: null, phone: null }, status: "booked", starts_on: null, ends_on: null, location: null, package: null, notes: "", media_selection: { items: [] } });
    if (!created.ok) throw new Error(created.error.message);
    app.core.engine.notifyWrite();
    await drained(app);
    const id = created.value.entity.entity_id;
    await online(app, false);
    expect(d.store.updateProject(id, { notes: "Client wants a white backdrop" }).ok).toBe(true);
    const other = await otherDevice(branch);
    expect(other.store.updateProject(id, { status: "shooting", location: "Studio 2" }).ok).toBe(true);
    other.engine.notifyWrite();
    await other.engine.untilDrained(20_000);
    await online(app, true);

    await openScreen(page, "Conflicts");
    const entry = page.getByTestId("conflict");
    await expect.poll(() => entry.count(), { timeout: 20_000 }).toBe(1);
    expect(await entry.getByTestId("conflict-who").textContent()).toMatch(new RegExp(`^Changed by e2e on another device, ${WHEN}$`));
    expect(await entry.getByRole("row", { name: /Status/ }).innerText()).toMatch(/^Status Differs\s+Booked\s+Shooting$/);
    expect(await entry.getByRole("row", { name: /Title/ }).innerText()).toMatch(/^Title\s+Silva studio day\s+Silva studio day$/);
    expect(await entry.getByRole("button").allTextContents()).toEqual(["Keep the server's version", "Re-apply my change"]);
    await expectPeopleWords(page);
    await expectAccessible(page, "a version conflict");
    await ui.shot(page, "version-conflict");

    await entry.getByRole("button", { name: "Re-apply my change" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.waitFor();
    expect(await dialog.locator("#confirm-detail").textContent()).toBe(
      "This is sent as a new change on top of the server's current version (version 2), replacing what it has for these fields: Notes: Client wants a white backdrop.",
    );
    await expectAccessible(page, "re-apply preview");
    await ui.shot(page, "version-conflict-reapply-preview");
    await dialog.getByRole("button", { name: "Re-apply my change" }).click();
    await expect.poll(() => entry.count()).toBe(0);
    await drained(app);
    await waitUntil("the re-applied edit is pulled back", () => d.store.get(id)?.entity.version === 3, 20_000);
    expect(d.store.get(id)?.entity.data).toMatchObject({ notes: "Client wants a white backdrop", status: "shooting", location: "Studio 2" });
  }, 120_000);

  it("a refused create: the user's fields kept, entered again as a new record", async () => {
    const branch = fresh("create");
    const app = await ui.app(branch, A, "staff", 13);
    const { page, d } = app;
    await online(app, false);
    const created = d.store.createProject({ title: "Fernando graduation", client: { name: "Dilani Fernando", email: null, phone: null }, status: "inquiry", starts_on: null, ends_on: null, location: null, package: null, notes: "", media_selection: { items: [] } });
    if (!created.ok) throw new Error(created.error.message);
    // The branch made this device a cashier before it synced: the server refuses the project.
    await rebind(app, branch, "cashier");
    await online(app, true);
    await openScreen(page, "Conflicts");
    const entry = page.getByTestId("conflict");
    await expect.poll(() => entry.count(), { timeout: 20_000 }).toBe(1);
    expect(await entry.getByTestId("conflict-name").textContent()).toBe("Project: Fernando graduation");
    expect(await entry.innerText()).toContain("Your new project was not accepted by the server.");
    expect(await entry.getByTestId("conflict-who").count()).toBe(0);
    expect(await entry.getByRole("row", { name: /On the server/ }).innerText()).toMatch(/Does not exist/);
    expect(await entry.getByRole("button").allTextContents()).toEqual(["Keep the server's version", "Enter it again"]);
    await expectPeopleWords(page);
    await expectAccessible(page, "a refused create");
    await ui.shot(page, "refused-create");

    // Made staff again; the connection is opened again with the new token.
    await rebind(app, branch, "staff");
    await online(app, false);
    await online(app, true);
    await entry.getByRole("button", { name: "Enter it again" }).click();
    const dialog = page.getByRole("alertdialog");
    await dialog.waitFor();
    expect(await dialog.getByRole("heading").textContent()).toBe("Enter “Fernando graduation” again?");
    await ui.shot(page, "refused-create-confirm");
    await dialog.getByRole("button", { name: "Enter it again" }).click();
    await expect.poll(() => entry.count()).toBe(0);
    app.core.engine.notifyWrite();
    await drained(app);
    const [again] = d.store.list("project");
    expect(again?.entity.entity_id).not.toBe(created.value.entity.entity_id);
    expect(again).toMatchObject({ status: "synced", entity: { data: { title: "Fernando graduation" } } });
  }, 120_000);

  it("a refused POS sale: a cashier sees why they cannot and who can; a manager resolves it through the server, audited", async () => {
    const branch = fresh("pos");
    const app = await ui.app(branch, A, "cashier", 14);
    const { page, d } = app;
    await online(app, false);
    const sale = d.store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Passport photos", quantity: 2, unit_price_minor: 75_000 }], method: "card" });
    if (!sale.ok) throw new Error(sale.error.message);
    await rebind(app, branch, "viewer"); // the branch took the till's sales rights away before it synced
    await online(app, true);
    await rebind(app, branch, "cashier");
    await openScreen(page, "Conflicts");
    const entry = page.getByTestId("conflict");
    await expect.poll(() => entry.count(), { timeout: 20_000 }).toBe(1);
    expect(await entry.getByTestId("conflict-name").textContent()).toBe(`POS sale: Receipt ${(sale.value.entity.data as { local_receipt_no: string }).local_receipt_no}`);
    expect(await entry.getByTestId("conflict-manager").locator("p").first().textContent()).toBe(
      "A refused POS sale stays here until a manager resolves it: only a manager or the owner can, and the server records who did. You are signed in as a cashier. Ask a manager for a manager sign-in code (on their device: Add a till → role Manager) and type it here with a note.",
    );
    expect(await entry.getByRole("row", { name: /Total/ }).innerText()).toMatch(/^Total Differs\s+1,500.00 LKR\s+—$/);
    // The only thing a cashier can do here is hand the till to a manager's code (the next test).
    expect(await entry.getByRole("button").count()).toBe(1);
    expect(await entry.getByRole("button", { name: "Resolve with the manager's code" }).isDisabled()).toBe(true);
    await expectPeopleWords(page);
    await expectAccessible(page, "a refused sale, cashier");
    await ui.shot(page, "needs-manager-cashier");

    // A manager signs in on this till. Offline (sync switched off) the server cannot record it: it stays open.
    await rebind(app, branch, "manager");
    await online(app, false);
    await openScreen(page, "Sync"); // the inbox is read again when it is opened
    await openScreen(page, "Conflicts");
    await expect.poll(() => entry.getByRole("button", { name: "Resolve as manager" }).count(), { timeout: 10_000 }).toBe(1);
    expect(await entry.getByRole("button", { name: "Resolve as manager" }).isDisabled()).toBe(true);
    await entry.getByLabel("What was decided (kept in the server's audit)").fill("Customer paid again by card at the counter");
    await entry.getByRole("button", { name: "Resolve as manager" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("Sync is switched off (working offline), so the server cannot record the resolution and the sale stays open. Go online, then resolve it.");
    expect(await entry.count()).toBe(1);
    await expectAccessible(page, "a refused sale, manager, offline");
    await ui.shot(page, "needs-manager-offline");

    await online(app, true);
    await entry.getByRole("button", { name: "Resolve as manager" }).click();
    await expect.poll(() => entry.count(), { timeout: 20_000 }).toBe(0);
    expect(d.store.conflicts()[0]).toMatchObject({ resolution: "keep_server", resolved_by: "e2e", resolution_note: "Customer paid again by card at the counter" });
    const audit = (await (await fetch(new URL(`/v1/branches/${branch}/audit?limit=1000`, ui.server.url), { headers: { Authorization: `Bearer ${await tokenFor(branch, B, "owner")}` } })).json()) as { entries: Array<Record<string, unknown>> };
    expect(audit.entries.filter((e) => e.kind === "conflict_resolved")).toEqual([
      expect.objectContaining({ device_id: A, user_id: "e2e", role: "manager", event_id: sale.value.event.id, message: "keep_server: Customer paid again by card at the counter" }),
    ]);
    await ui.shot(page, "needs-manager-resolved");
  }, 120_000);

  it("a refused POS sale on a cashier's till: a manager's one-time code typed there resolves it for that request only; the till stays the cashier's", async () => {
    const branch = fresh("override");
    const app = await ui.app(branch, A, "cashier", 15);
    const { page, d } = app;
    await online(app, false);
    const sale = d.store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Frame 8x10", quantity: 1, unit_price_minor: 120_000 }], method: "card" });
    if (!sale.ok) throw new Error(sale.error.message);
    await rebind(app, branch, "viewer"); // refused: the branch took the till's sales rights away before it synced
    await online(app, true);
    await waitUntil("the sale is refused", () => d.store.conflicts({ open: true }).length === 1, 20_000);
    await rebind(app, branch, "cashier");
    // Connected again, so the till syncs as the cashier it is signed in as.
    await online(app, false);
    await online(app, true);
    const cashierToken = d.store.config()!.token;
    await openScreen(page, "Conflicts");
    const entry = page.getByTestId("conflict");
    await expect.poll(() => entry.count(), { timeout: 20_000 }).toBe(1);
    const form = entry.getByRole("form", { name: "A manager resolves it here" });
    expect(await form.count()).toBe(1);
    expect(await entry.getByTestId("conflict-manager").textContent()).toContain("Ask a manager for a manager sign-in code (on their device: Add a till → role Manager) and type it here with a note.");
    await expectAccessible(page, "a refused sale, cashier, the manager's code field");
    await ui.shot(page, "override-code-field");

    const note = entry.getByLabel("What was decided (kept in the server's audit)");
    const code = entry.getByTestId("conflict-code");
    const resolve = entry.getByRole("button", { name: "Resolve with the manager's code" });
    /** Typed as a person reads it off the manager's screen: lower case, a space where the dash is. */
    const typeCode = async (typed: string) => {
      await code.fill("");
      await code.pressSequentially(typed.toLowerCase().replace("-", " "));
    };
    await note.fill("Customer refunded in cash");

    // A wrong code: said beside the code field; the entry and the note stay.
    await typeCode("AAAA-AAAA");
    await resolve.click();
    await expect.poll(() => entry.getByRole("alert").textContent()).toBe("That sign-in code is not right. Check it and type it again, or ask a manager for a new one.");
    expect(await code.getAttribute("aria-invalid")).toBe("true");

    // A cashier's code: the server refuses its token's role (403); said in words, nothing closed.
    await typeCode(await codeFor(branch, "cashier", "kamal"));
    await resolve.click();
    await expect.poll(() => entry.getByRole("alert").textContent()).toBe(
      "That code is for a cashier; a manager's code is needed. That code is now used: ask a manager for a new code for themselves (on their device: Add a till → role Manager).",
    );
    expect(await entry.count()).toBe(1);
    expect(await note.inputValue()).toBe("Customer refunded in cash");
    expect(d.store.conflicts({ open: true })).toHaveLength(1);
    await expectAccessible(page, "a refused sale, cashier, a cashier's code refused");
    await ui.shot(page, "override-cashier-code-refused");

    // The manager's own code, typed on the till: the entry closes, recording the manager.
    await typeCode(await codeFor(branch, "manager", "priya"));
    await resolve.click();
    await expect.poll(() => entry.count(), { timeout: 20_000 }).toBe(0);
    expect(d.store.conflicts()[0]).toMatchObject({ resolution: "keep_server", resolved_by: "priya", resolution_note: "Customer refunded in cash" });
    const audit = (await (await fetch(new URL(`/v1/branches/${branch}/audit?limit=1000`, ui.server.url), { headers: { Authorization: `Bearer ${await tokenFor(branch, B, "owner")}` } })).json()) as { entries: Array<Record<string, unknown>> };
    expect(audit.entries.filter((e) => e.kind === "conflict_resolved")).toEqual([
      expect.objectContaining({ device_id: A, user_id: "priya", role: "manager", event_id: sale.value.event.id, message: "keep_server: Customer refunded in cash" }),
    ]);
    await expect.poll(() => page.getByRole("navigation", { name: "Screens" }).getByRole("button", { name: /^Conflicts/ }).textContent()).not.toContain("(1)");
    await expectAccessible(page, "a refused sale resolved with a manager's code");
    await ui.shot(page, "override-resolved");

    // The till is still the cashier's: same token, same role, and it still syncs.
    expect(d.store.config()).toMatchObject({ token: cashierToken, role: "cashier", user_id: "e2e", device_id: A });
    const next = d.store.posSale({ currency: "LKR", lines: [{ sku: null, description: "Passport photos", quantity: 1, unit_price_minor: 75_000 }], method: "cash" });
    if (!next.ok) throw new Error(next.error.message);
    await drained(app);
    expect(d.store.get(next.value.entity.entity_id)).toMatchObject({ status: "synced" });
  }, 120_000);
});
