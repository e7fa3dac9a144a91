/**
 * The dashboard's Leases view (protocol v7) in Chromium against the real server under workerd: a
 * staff laptop takes a lease on an invoice's payments over HTTP, the dashboard shows it at once
 * (from `leases`, and from the welcome when it opens later) counting down from the server's clock; a
 * manager's change to those fields is refused `entity_locked` and worded for people; a release, a
 * run-out lease (the branch's alarm) and a manager's break all take it off the list live; a break
 * that fails keeps the reason typed; a break of a lease that already ended says so; the audit shows
 * the break; a viewer sees the leases and no Break button. axe-core on every state; screenshots in
 * test-results/screenshots/dashboard/ (git-ignored) at 1280×800 and 1024×700.
 */
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import * as ex from "../../fixtures/examples.js";
import { makeEventFactory } from "../../support/events.js";
import { expectAccessible } from "../../support/ui.js";
import { LeaseAnswer } from "../../../dashboard/lease-api.js";
import { type Leases, LEASES_SINCE, PROTOCOL_VERSION } from "../../../protocol/index.js";
import { NO_LEASES } from "../../../dashboard/leases.js";
import { dashboardHarness, DEVICES, RawDevice, token } from "./support.js";

const h = dashboardHarness();
const BRANCH = "galle-fort";
const VIEWER = "01936f3c-0000-7000-8000-0000000000a9";
const f = makeEventFactory(17);
const invoice = f.nextId();
const shortInvoice = `…${invoice.slice(-6)}`;
const WHAT = `Invoice ${shortInvoice} — payments and status`;

let page: Page;
let viewer: Page;
/** The staff laptop that takes leases (kamala), and the manager's front desk whose change is refused (nimal). */
let laptop: RawDevice;
let frontDesk: RawDevice;

afterAll(async () => {
  await laptop?.close();
  await frontDesk?.close();
});

/** `POST /v1/branches/:b/leases` as a device: acquire or release (the dashboard only breaks). */
async function lease(device: string, role: "staff" | "manager", user: string, body: Record<string, unknown>): Promise<{ status: number; body: LeaseAnswer }> {
  const r = await fetch(new URL(`/v1/branches/${BRANCH}/leases`, h.server.url), {
    method: "POST",
    headers: { Authorization: `Bearer ${await token(BRANCH, device, role, user)}`, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  // Parsed with the dashboard's own schema of the answer: it must fit what the server sends.
  return { status: r.status, body: LeaseAnswer.parse(await r.json()) };
}
const acquire = (ttlMs = 240_000) => lease(DEVICES.studio, "staff", "kamala", { action: "acquire", entity_id: invoice, group: "payment", ttl_ms: ttlMs });
const release = () => lease(DEVICES.studio, "staff", "kamala", { action: "release", entity_id: invoice, group: "payment" });

/** The next `leases` a raw device is sent that satisfies `ok` (earlier ones are passed over). */
async function leasesUntil(d: RawDevice, ok: (m: Leases) => boolean, timeoutMs = 15_000): Promise<Leases> {
  for (;;) {
    const m = await d.inbox.next("leases", { skip: true, timeoutMs });
    if (ok(m)) return m;
  }
}

const rows = (p: Page) => p.getByTestId("leases-table").locator("tbody tr");
const summary = (p: Page) => p.getByTestId("leases-summary").textContent();
const live = (p: Page) => expect.poll(() => p.getByTestId("connection").textContent(), { timeout: 20_000 }).toBe("Live");
/** "3 min 58 s left" → 238. */
const secondsLeft = (text: string | null) => {
  const m = /(?:(\d+) min)?\s*(?:(\d+) s)? left/.exec(text ?? "");
  if (!m) throw new Error(`not a countdown: ${text}`);
  return Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
};

describe("the dashboard's leases", { timeout: 60_000 }, () => {
  it("empty: says no one is editing high-risk fields (the dashboard says hello with protocol v7)", async () => {
    laptop = await RawDevice.open(h.server, BRANCH, DEVICES.studio, "staff", "kamala", "studiovault-desktop/0.9.0");
    frontDesk = await RawDevice.open(h.server, BRANCH, DEVICES.frontDesk, "manager", "nimal", "studiovault-desktop/0.9.0");
    const created = await laptop.push(f.event(DEVICES.studio, "invoice", invoice, "create", { ...ex.invoice, project_id: null }));
    expect(created[0]?.status).toBe("confirmed");
    ({ page } = await h.open());
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    // What the dashboard's client says hello with: protocol v7, the first that is sent leases.
    const hellos: unknown[] = [];
    page.on("websocket", (ws) =>
      ws.on("framesent", (frame) => {
        const sent = typeof frame.payload === "string" ? (JSON.parse(frame.payload) as { type?: string; protocol_version?: number }) : null;
        if (sent?.type === "hello") hellos.push(sent.protocol_version);
      }),
    );
    await page.goto(new URL(`/#branch=${BRANCH}&token=${await token(BRANCH, DEVICES.dashboard, "manager", "priya")}`, h.server.url).href);
    await live(page);
    expect(hellos).toEqual([PROTOCOL_VERSION]);
    expect(PROTOCOL_VERSION).toBeGreaterThanOrEqual(LEASES_SINCE);
    await page.getByRole("tab", { name: "Leases" }).click();
    await expect.poll(() => summary(page)).toBe(NO_LEASES);
    expect(await page.getByTestId("leases-table").count()).toBe(0);
    await expectAccessible(page, "leases, empty");
    await h.shot(page, "leases-empty");
    expect(errors, errors.join("\n")).toEqual([]);
  });

  it("a lease taken on another device appears live: what, who, device, since, and a countdown from the server's clock", async () => {
    const granted = await acquire();
    expect([granted.status, granted.body.outcome]).toEqual([200, "granted"]);
    await expect.poll(() => rows(page).count(), { timeout: 5_000 }).toBe(1);
    const row = page.locator(`tr[data-lease="${invoice}:payment"]`);
    const text = (await row.textContent())!;
    expect(text).toContain(WHAT);
    expect(text).toContain("kamala · staff");
    expect(text).toContain("…0057d2 (studiovault-desktop/0.9.0)");
    expect(text).toContain("Connected");
    expect(text).toMatch(/Since|for \d+ s/);
    expect(await summary(page)).toBe("1 lease in force, soonest to end first");
    // Counting down, once a second, from the branch's 240 s.
    const first = secondsLeft(await row.getByTestId("lease-left").textContent());
    expect(first).toBeGreaterThan(225);
    expect(first).toBeLessThanOrEqual(240);
    await expect.poll(async () => secondsLeft(await row.getByTestId("lease-left").textContent()), { timeout: 5_000 }).toBeLessThan(first);
    await expectAccessible(page, "leases, one");
    await h.shot(page, "leases-one");
  });

  it("another device's change to the leased fields is refused entity_locked, worded for people in Conflicts", async () => {
    const verdicts = await frontDesk.push(f.event(DEVICES.frontDesk, "invoice", invoice, "update", { status: "paid" }, { base: 1 }));
    expect(verdicts[0]?.status === "rejected" && [verdicts[0].code, verdicts[0].detail]).toEqual(["entity_locked", { field: "payment", expected: DEVICES.studio, received: DEVICES.frontDesk }]);
    await page.getByRole("tab", { name: "Conflicts" }).click();
    const first = page.getByTestId("rejections-table").locator("tbody tr").first();
    await expect.poll(() => first.textContent(), { timeout: 10_000 }).toContain("Locked: being edited on another device");
    expect(await page.getByLabel("Code", { exact: true }).locator("option", { hasText: "Locked: being edited on another device" }).count()).toBe(1);
    await page.getByRole("tab", { name: "Leases" }).click();
  });

  it("released on the laptop: it leaves the list live", async () => {
    expect((await release()).body.outcome).toBe("released");
    await expect.poll(() => summary(page), { timeout: 5_000 }).toBe(NO_LEASES);
    expect(await page.getByTestId("leases-table").count()).toBe(0);
  });

  it("a viewer who opens the dashboard later sees the lease at once (the v7 welcome carries it), and no Break button", async () => {
    expect((await acquire()).body.outcome).toBe("granted");
    await expect.poll(() => rows(page).count(), { timeout: 5_000 }).toBe(1);
    ({ page: viewer } = await h.open());
    await viewer.goto(new URL(`/#branch=${BRANCH}&token=${await token(BRANCH, VIEWER, "viewer", "auditor")}`, h.server.url).href);
    await live(viewer);
    await viewer.getByRole("tab", { name: "Leases" }).click();
    await expect.poll(() => rows(viewer).count()).toBe(1);
    expect(await rows(viewer).first().textContent()).toContain(WHAT);
    expect(await viewer.getByRole("button", { name: /Break/ }).count()).toBe(0);
    expect(await viewer.getByRole("columnheader", { name: "Action" }).count()).toBe(0);
    await expectAccessible(viewer, "leases, viewer");
    await h.shot(viewer, "leases-viewer");
  });

  it("a manager breaks it with a reason: a failed try keeps the reason, the break ends it everywhere live, and the audit says who and why", async () => {
    const reason = "Kamala went home with the invoice open";
    await page.getByRole("button", { name: `Break kamala (staff)'s lease on ${WHAT}` }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.getByRole("heading").textContent()).toBe("Break kamala's lease?");
    expect(await dialog.getByRole("button", { name: "Break lease" }).isDisabled()).toBe(true);
    // The safe choice has the focus.
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent), { timeout: 5_000 }).toBe("Cancel");
    await dialog.getByLabel("Reason (kept in the audit)").fill(reason);
    await expectAccessible(page, "leases, break confirm");
    await h.shot(page, "leases-break-confirm");

    // The network drops the first try: said in the dialog, the reason still there as typed.
    await page.route("**/v1/branches/*/leases", (route) => route.abort("internetdisconnected"));
    await dialog.getByRole("button", { name: "Break lease" }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toBe("No answer from the server: the lease may not have been broken. Your reason is kept; try again when the connection is back.");
    expect(await dialog.getByLabel("Reason (kept in the audit)").inputValue()).toBe(reason);
    expect(await rows(page).count()).toBe(1);
    await expectAccessible(page, "leases, break failed");
    await h.shot(page, "leases-break-failed");
    await page.unroute("**/v1/branches/*/leases");

    await dialog.getByRole("button", { name: "Break lease" }).click();
    await expect.poll(() => page.getByTestId("lease-outcome").textContent()).toBe(`Broke kamala (staff)'s lease on ${WHAT}. Every connected device has been told; the reason is in the audit: “${reason}”.`);
    expect(await page.getByRole("dialog").count()).toBe(0);
    expect(await summary(page)).toBe(NO_LEASES);
    // The outcome has the focus (the button that opened the dialog went with its row).
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute("data-testid")), { timeout: 5_000 }).toBe("lease-outcome");
    // Everywhere: the viewer's dashboard, and the holder's own device.
    await expect.poll(() => summary(viewer), { timeout: 5_000 }).toBe(NO_LEASES);
    await leasesUntil(laptop, (m) => m.leases.length === 0);
    await expectAccessible(page, "leases, broken");
    await h.shot(page, "leases-after-break");

    await page.getByRole("tab", { name: "Audit" }).click();
    await page.getByLabel("Kind", { exact: true }).selectOption("lease_broken");
    const audit = page.getByTestId("audit-table").locator("tbody tr");
    await expect.poll(() => audit.count()).toBe(1);
    const entry = (await audit.first().textContent())!;
    expect(entry).toContain("Lease broken by a manager");
    expect(entry).toContain("priya (manager)");
    expect(entry).toContain(reason);
    expect(entry).toContain("held by kamala");
    await expectAccessible(page, "audit, lease broken");
    await h.shot(page, "leases-audit");
    await page.getByRole("tab", { name: "Leases" }).click();
  });

  it("a break of a lease that already ended says so, and gives the reason back", async () => {
    expect((await acquire()).body.outcome).toBe("granted");
    await expect.poll(() => rows(page).count(), { timeout: 5_000 }).toBe(1);
    await page.getByRole("button", { name: /^Break kamala/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Reason (kept in the audit)").fill("Stuck lease");
    // Meanwhile the laptop gives it back: the list empties under the dialog, which says so.
    expect((await release()).body.outcome).toBe("released");
    await expect.poll(() => dialog.textContent(), { timeout: 5_000 }).toContain("seems to have just ended by itself");
    await dialog.getByRole("button", { name: "Break lease" }).click();
    await expect.poll(() => page.getByTestId("lease-outcome").textContent()).toBe(
      `Nothing was broken: kamala (staff)'s lease on ${WHAT} had already ended (released or run out). Your reason was not recorded: “Stuck lease”.`,
    );
    await expectAccessible(page, "leases, already ended");
    await h.shot(page, "leases-already-ended");
  });

  it("a lease that runs out leaves the list when its time is up, and the branch's alarm tells every device", async () => {
    const granted = await acquire(5_000);
    expect(granted.body.outcome).toBe("granted");
    await expect.poll(() => rows(page).count(), { timeout: 5_000 }).toBe(1);
    await expect.poll(() => summary(page), { timeout: 10_000 }).toBe(NO_LEASES);
    // The server's word too: the alarm at its expiry sends `leases` without it.
    await leasesUntil(frontDesk, (m) => m.leases.length === 0 && m.server_time_ms >= granted.body.lease!.expires_at_ms, 15_000);
  });

  it("the overview's card counts the leases in force", async () => {
    expect((await acquire()).body.outcome).toBe("granted");
    await page.getByRole("button", { name: "All branches" }).click();
    await expect.poll(() => page.locator(`article[data-branch="${BRANCH}"]`).getByTestId("card-leases").textContent(), { timeout: 5_000 }).toBe("1");
    await expectAccessible(page, "overview with a lease");
    expect((await release()).body.outcome).toBe("released");
    await expect.poll(() => page.locator(`article[data-branch="${BRANCH}"]`).getByTestId("card-leases").textContent(), { timeout: 5_000 }).toBe("0");
  });
});
