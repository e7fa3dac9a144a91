/**
 * Issue 14, "no way in", in Chromium against the real local server: a manager's Add a till gives a
 * one-time code; an unbound database opens on the setup screen, where the code (typed as a person
 * types it) sets the till up and the normal app follows; an expired sign-in says when it expired and
 * takes a code in place, keeping the queue, which is then sent; a revoked till says so. axe-core on
 * every new screen and state; screenshots in test-results/screenshots/enroll/.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { DesktopCore } from "../../../desktop/app/core.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { signDeviceToken } from "../../../durable/auth.js";
import type { DeviceClaims } from "../../../protocol/token.js";
import { openStore, tempDbPath } from "../../support/desktop.js";
import { waitUntil } from "../../support/e2e.js";
import { startProxy } from "../../support/proxy.js";
import { TEST_SECRET, tokenFor } from "../../support/server.js";
import { expectAccessible, openScreen, uiHarness } from "../../support/ui.js";

const ui = uiHarness("enroll");
const MANAGER = "01936f3c-0000-7000-8000-0000000000e1";
const TILL = "01936f3c-0000-7000-8000-0000000000e2";
const CASHIER = "01936f3c-0000-7000-8000-0000000000c3";

/** Types a code as a person reads it off a screen: lower case, a space where the dash is. */
async function typeCode(page: Page, testId: string, code: string) {
  const field = page.getByTestId(testId);
  await field.fill("");
  await field.pressSequentially(code.toLowerCase().replace("-", " "));
}

const sale = { currency: "LKR", lines: [{ sku: null, description: "Print A4", quantity: 1, unit_price_minor: 45_000 }], method: "card" as const };

async function codeFromServer(branch: string, role = "cashier", user = "nimal"): Promise<string> {
  const response = await fetch(new URL(`/v1/branches/${branch}/enrollments`, ui.server.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${await tokenFor(branch, MANAGER, "manager")}`, "Content-Type": "application/json" },
    body: JSON.stringify({ role, user }),
  });
  expect(response.status).toBe(201);
  return ((await response.json()) as { code: string }).code;
}

describe("ways in, in the app", () => {
  it("first run: a manager's code from Add a till sets an unbound database up, with errors beside their fields, then the normal app", async () => {
    const branch = `ui-setup-${Date.now().toString(36)}`;
    const manager = await ui.app(branch, MANAGER, "manager", 1, { nowMs: Date.now() });
    await expect.poll(() => manager.page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");
    expect(manager.d.store.posSale(sale).ok).toBe(true);
    await waitUntil("the manager's sale is confirmed", () => manager.d.store.summary().pending === 0, 20_000);
    // A snapshot, so the new till bootstraps from it (and shows its progress).
    const exported = await fetch(new URL(`/v1/branches/${branch}/snapshots`, ui.server.url), { method: "POST", headers: { Authorization: `Bearer ${await tokenFor(branch, MANAGER, "manager")}` } });
    expect(exported.status).toBe(201);

    // The manager asks for a code.
    await openScreen(manager.page, "Add a till");
    await expectAccessible(manager.page, "add a till, empty");
    await ui.shot(manager.page, "add-till-empty");
    await manager.page.getByRole("button", { name: "Get a sign-in code" }).click();
    await expect.poll(() => manager.page.getByTestId("add-till").textContent()).toContain("Type the name of who will use the till");
    await ui.shot(manager.page, "add-till-no-name");
    await manager.page.getByTestId("add-till-user").fill("nimal");
    await manager.page.getByRole("button", { name: "Get a sign-in code" }).click();
    const big = manager.page.getByTestId("big-code");
    await big.waitFor();
    const code = (await big.textContent())!;
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(await manager.page.getByTestId("till-code").textContent()).toMatch(/Works once, until \d{1,2} [A-Z][a-z]{2} at \d\d:\d\d\./);
    await expectAccessible(manager.page, "add a till, code shown");
    await ui.shot(manager.page, "add-till-code");

    // A new computer: an unbound database opens on the setup screen.
    const store = LocalStore.open(tempDbPath("setup"));
    const core = new DesktopCore(store);
    const page = await ui.page(core, store);
    await page.getByTestId("setup-screen").waitFor();
    expect(await page.getByTestId("sync-pill").textContent()).toBe("Not set up");
    expect(await page.getByRole("navigation", { name: "Screens" }).count()).toBe(0);
    await expectAccessible(page, "setup, empty");
    await ui.shot(page, "setup-empty");

    // A wrong code: said beside the code field; what was typed stays.
    await page.getByTestId("setup-server").fill(ui.server.url.origin);
    await page.getByTestId("setup-branch").fill(branch);
    await typeCode(page, "setup-code", "AAAA-AAAA");
    await page.getByRole("button", { name: "Set up this till" }).click();
    const codeError = page.getByRole("alert");
    await expect.poll(() => codeError.textContent()).toBe(`That sign-in code is not right for branch ${branch}. Check the code and the branch, or ask a manager for a new code.`);
    expect(await page.getByTestId("setup-code").getAttribute("aria-invalid")).toBe("true");
    expect(await page.getByTestId("setup-branch").inputValue()).toBe(branch);
    await expectAccessible(page, "setup, wrong code");
    await ui.shot(page, "setup-wrong-code");

    // A code with a letter no code has: said before anything is sent.
    await typeCode(page, "setup-code", "K7QF-0M2X");
    await page.getByRole("button", { name: "Set up this till" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toContain("never uses 0, O, 1, I or L");

    // A server that cannot be reached: said beside the server field.
    await page.getByTestId("setup-server").fill("http://127.0.0.1:1");
    await typeCode(page, "setup-code", code);
    await page.getByRole("button", { name: "Set up this till" }).click();
    await expect.poll(() => page.getByRole("alert").textContent()).toBe("The server at http://127.0.0.1:1 could not be reached. Check the address and the network, then try again. Nothing was changed.");
    expect(await page.getByTestId("setup-server").getAttribute("aria-invalid")).toBe("true");
    expect(store.config()).toBeNull();
    await expectAccessible(page, "setup, unreachable");
    await ui.shot(page, "setup-unreachable");

    // The right server and the code, typed in lower case with a space: set up, the snapshot's
    // progress (its download held at the proxy until looked at), then the app.
    const proxy = await startProxy(ui.server.url);
    ui.onClose(() => proxy.close());
    const release = proxy.holdHttp(/\/snapshots\/\d+\/data/);
    await page.getByTestId("setup-server").fill(proxy.url.origin);
    await page.getByRole("button", { name: "Set up this till" }).click();
    const progress = page.getByTestId("setup-progress");
    await expect.poll(() => progress.textContent(), { timeout: 20_000 }).toMatch(/^Signed in\. Getting the branch's records…Downloading the branch's records: 0 bytes of [1-9]\d* bytes$/);
    expect(await progress.locator("progress").count()).toBe(1);
    await expectAccessible(page, "setup, bootstrapping");
    await ui.shot(page, "setup-bootstrapping");
    release();
    await page.getByRole("navigation", { name: "Screens" }).waitFor({ timeout: 20_000 });
    await expect.poll(() => page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");
    expect(store.config()).toMatchObject({ branch_id: branch, user_id: "nimal", role: "cashier" });
    expect(store.config()!.device_id).not.toBe(MANAGER);
    await waitUntil("the branch's sale reached the new till", () => store.cursor() >= 1, 20_000);
    expect(await page.getByRole("navigation", { name: "Screens" }).getByRole("button", { name: "Add a till" }).count()).toBe(0); // a cashier's till
    await expectAccessible(page, "after setup");
    await ui.shot(page, "setup-done");

    // The code worked once.
    const reused = await fetch(new URL(`/v1/branches/${branch}/enroll`, ui.server.url), { method: "POST", body: JSON.stringify({ code }) });
    expect(reused.status).toBe(410);
  }, 120_000);

  it("an expired sign-in says when it expired, takes a code in place, keeps the queue and then sends it", async () => {
    const branch = `ui-expired-${Date.now().toString(36)}`;
    // A till whose token ran out at 14:05 on 2 June in the branch's zone (08:35 UTC): a fixed past instant.
    const exp = Date.UTC(2026, 5, 2, 8, 35) / 1000;
    const expired = await signDeviceToken({ v: 1, branch, device: TILL, user: "kamala", role: "cashier", iat: exp - 86_400, exp } as DeviceClaims, TEST_SECRET);
    const { store } = await openStore({ branch, device: TILL, role: "cashier", serverUrl: ui.server.url.origin, timeZone: "Asia/Colombo", nowMs: Date.now() });
    expect(store.init({ server_url: ui.server.url.origin, token: expired }).ok).toBe(true);
    expect(store.posSale(sale).ok).toBe(true);
    const core = new DesktopCore(store);
    const page = await ui.page(core, store);

    const card = page.getByTestId("signed-out");
    await card.waitFor({ timeout: 20_000 });
    expect(await card.getByRole("heading").textContent()).toBe("Your sign-in expired on 2 Jun at 14:05.");
    expect(await card.textContent()).toContain("1 change not yet sent stays on this computer. It is sent once you are signed in again.");
    await expectAccessible(page, "signed out, expired");
    await ui.shot(page, "signed-out-expired");

    await typeCode(page, "signin-code", "AAAA-AAAA");
    await page.getByRole("button", { name: "Sign in again" }).click();
    await expect.poll(() => card.getByRole("alert").textContent()).toBe("That sign-in code is not right. Check it and type it again, or ask a manager for a new one.");
    await expectAccessible(page, "signed out, wrong code");
    await ui.shot(page, "signed-out-wrong-code");

    await typeCode(page, "signin-code", await codeFromServer(branch, "cashier", "kamala"));
    await page.getByRole("button", { name: "Sign in again" }).click();
    await expect.poll(() => page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");
    await waitUntil("the queued sale is sent", () => store.summary().pending === 0, 20_000);
    expect(await card.count()).toBe(0);
    expect(store.config()).toMatchObject({ device_id: TILL, user_id: "kamala" });
    // The sale in the history is confirmed now: no longer marked pending.
    await expect.poll(() => page.getByText("pending", { exact: true }).count(), { timeout: 10_000 }).toBe(0);
    await ui.shot(page, "signed-in-again");
  }, 120_000);

  it("a till removed by a manager says so, offers no code field, and keeps its queue", async () => {
    const branch = `ui-removed-${Date.now().toString(36)}`;
    const { page, d } = await ui.app(branch, CASHIER, "cashier", 3, { nowMs: Date.now() });
    await expect.poll(() => page.getByTestId("sync-pill").textContent(), { timeout: 20_000 }).toContain("Live");
    expect(await page.getByRole("navigation", { name: "Screens" }).getByRole("button", { name: "Add a till" }).count()).toBe(0);
    await openScreen(page, "Sync");
    await page.getByRole("button", { name: "Work offline" }).click();
    expect(d.store.posSale(sale).ok).toBe(true);
    const revoke = await fetch(new URL(`/v1/branches/${branch}/devices/${CASHIER}/revoke`, ui.server.url), {
      method: "POST",
      headers: { Authorization: `Bearer ${await tokenFor(branch, MANAGER, "manager")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ reason: "till stolen" }),
    });
    expect(revoke.status).toBe(200);
    await page.getByRole("button", { name: "Go online" }).click();
    const card = page.getByTestId("signed-out");
    await card.waitFor({ timeout: 20_000 });
    expect(await card.getByRole("heading").textContent()).toBe("This till was removed by a manager.");
    expect(await card.textContent()).toContain("1 change not yet sent stays on this computer.");
    expect(await page.getByTestId("signin-code").count()).toBe(0);
    await expectAccessible(page, "signed out, removed");
    await ui.shot(page, "signed-out-removed");
  }, 60_000);
});
