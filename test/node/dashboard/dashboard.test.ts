/**
 * The dashboard (dashboard/, served by the Worker as static assets) in Chromium against the real
 * server under workerd: the strict CSP on `/`, signing in (a link's fragment, a token, a one-time
 * code; a cashier's code refused), every view with a real branch's data (devices with a backlog and
 * an offline till, conflicts with their chain and drill-down, a record's history in lanes, money with
 * a void, the audit), live news arriving without a reload, a device revoked, two branches side by
 * side. axe-core on every view and state; screenshots of each at 1280×800 and 1024×700 in
 * test-results/screenshots/dashboard/.
 */
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { expectAccessible } from "../../support/ui.js";
import { dashboardHarness, DEVICES, RawDevice, type Seeded, seedBranch, token } from "./support.js";
import { makeEventFactory } from "../../support/events.js";

const h = dashboardHarness();
const BRANCH = "colombo-main";
const SECOND = "kandy-hill";
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

let seeded: Seeded;
let page: Page;

const tab = (name: string) => page.getByRole("tab", { name });
const live = () => expect.poll(() => page.getByTestId("connection").textContent(), { timeout: 20_000 }).toBe("Live");

describe("the dashboard", { timeout: 60_000 }, () => {
  it("is served at / with a strict Content-Security-Policy, while /health and /v1 still reach the Worker", async () => {
    const index = await fetch(new URL("/", h.server.url));
    expect(index.status).toBe(200);
    expect(index.headers.get("content-type")).toContain("text/html");
    expect(index.headers.get("content-security-policy")).toBe(CSP);
    expect(index.headers.get("x-content-type-options")).toBe("nosniff");
    expect(index.headers.get("referrer-policy")).toBe("no-referrer");
    expect(await index.text()).toContain('<script type="module" src="app.js"></script>');
    const script = await fetch(new URL("/app.js", h.server.url));
    expect(script.headers.get("content-security-policy")).toBe(CSP);
    expect(script.headers.get("content-type")).toContain("javascript");
    // The headers file is read by the platform, never served.
    expect((await fetch(new URL("/_headers", h.server.url))).status).toBe(404);
    const health = await fetch(new URL("/health", h.server.url));
    expect(((await health.json()) as { ok: boolean }).ok).toBe(true);
    const api = await fetch(new URL(`/v1/branches/${BRANCH}/dashboard/devices`, h.server.url));
    expect(api.status).toBe(401);
  });

  it("opens signed in from the link `npm start` prints, removes the token from the address bar and keeps the sign-in", async () => {
    seeded = await seedBranch(h.server, BRANCH);
    ({ page } = await h.open());
    const errors: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(`${m.text()} (${m.location().url})`);
    });
    await page.goto(new URL(`/#branch=${BRANCH}&token=${await token(BRANCH, DEVICES.dashboard, "owner", "ayesha")}`, h.server.url).href);
    await live();
    expect(new URL(page.url()).hash).toBe("");
    const kept = await page.evaluate(() => JSON.parse(localStorage.getItem("studiovault.dashboard.signins.v1") ?? "[]") as Array<{ branch: string; device_id: string; role: string }>);
    expect(kept.map((s) => [s.branch, s.device_id, s.role])).toEqual([[BRANCH, DEVICES.dashboard, "owner"]]);
    // No CSP violation and no script error while it loaded.
    expect(errors, errors.join("\n")).toEqual([]);
  });

  it("Devices: connected now or last seen, user and role, app, lag behind head, backlog and its age, clock, token expiry", async () => {
    await expect.poll(() => page.getByTestId("devices-table").locator("tbody tr").count(), { timeout: 10_000 }).toBe(4);
    const row = (device: string) => page.locator(`tr[data-device="${device}"]`);
    expect(await row(DEVICES.frontDesk).textContent()).toContain("Connected");
    expect(await row(DEVICES.frontDesk).textContent()).toContain("nimal · manager");
    const till = (await row(DEVICES.till).textContent())!;
    expect(till).toMatch(/Last seen (just now|\d+ s ago)/);
    expect(till).toContain("ruwan · cashier");
    expect(till).toContain("studiovault-desktop/0.8.2");
    expect(till).toMatch(/4, oldest 1 min/);
    expect(await row(DEVICES.dashboard).textContent()).toContain("this dashboard");
    expect(await page.getByTestId("devices-summary").textContent()).toMatch(/3 of 4 connected now/);
    await expectAccessible(page, "devices");
    await h.shot(page, "devices");
  });

  it("Conflicts: timelines by code and device, the table newest first with its range, filters", async () => {
    await tab("Conflicts").click();
    await page.getByTestId("rejections-table").waitFor();
    await expect.poll(() => page.getByTestId("page-range").textContent()).toBe("1–3 of 3");
    // The timeline is its own read: it may land after the table.
    await expect.poll(() => page.getByTestId("timeline-by-code").locator("canvas").count()).toBe(1);
    await expect.poll(() => page.getByTestId("timeline-by-device").locator("canvas").count()).toBe(1);
    const rows = page.getByTestId("rejections-table").locator("tbody tr");
    expect(await rows.nth(0).textContent()).toContain("Permission denied");
    expect(await rows.nth(2).textContent()).toContain("Version conflict");
    await expectAccessible(page, "conflicts");
    await h.shot(page, "conflicts");
    await page.getByLabel("Code", { exact: true }).selectOption("version_conflict");
    await expect.poll(() => page.getByTestId("page-range").textContent()).toBe("1–1 of 1");
    await h.shot(page, "conflicts-filtered");
    await page.getByLabel("Code", { exact: true }).selectOption("");
    await expect.poll(() => page.getByTestId("page-range").textContent()).toBe("1–3 of 3");
  });

  it("Conflicts: a rejection in full, the attempted change beside the server's field by field, who won and when, and its chain", async () => {
    await page.getByRole("button", { name: /Version conflict$/ }).click();
    const detail = page.getByTestId("rejection-detail");
    await detail.getByTestId("compare-table").waitFor();
    const compare = (await detail.getByTestId("compare-table").textContent())!;
    expect(compare).toContain("Galle Face Hotel");
    expect(compare).toContain("Mount Lavinia Hotel");
    expect(compare).toContain("Differs");
    expect(await detail.getByTestId("winning-change").textContent()).toMatch(/last changed by nimal on …00fd01 \(studiovault-desktop\/0\.9\.0\) at \d{1,2} [A-Z][a-z]{2}, \d\d:\d\d:\d\d \(seq 6\)/);
    expect(await detail.getByTestId("rejection-chain").textContent()).toContain("1 later change was rejected because it depended on this one");
    await expectAccessible(page, "rejection detail");
    await h.shot(page, "conflict-detail");
    // Down the chain: the dependent rejection names its cause.
    await detail.getByTestId("rejection-chain").getByRole("button", { name: /Depends on rejected/ }).click();
    await expect.poll(() => page.getByTestId("rejection-chain").textContent()).toContain("Rejected because it depended on an earlier rejected change");
    await h.shot(page, "conflict-detail-chain");
  });

  it("Record history: every version and every rejected attempt, one lane per device", async () => {
    await page.getByTestId("open-history").click();
    const lanes = page.getByTestId("history-lanes");
    await lanes.waitFor();
    const heads = await lanes.locator("thead th").allTextContents();
    expect(heads).toEqual(["When", "kamala · …0057d2", "nimal · …00fd01"]);
    const text = (await lanes.textContent())!;
    expect(text).toContain("Version 2 · update");
    expect(text).toContain("Version 1 · create");
    expect(text).toContain("Rejected · Version conflict");
    expect(text).toContain("Rejected · Depends on rejected");
    await expectAccessible(page, "history");
    await h.shot(page, "history");
  });

  it("Money: net per day and till as a chart and a table, and the void with its reason and who", async () => {
    await tab("Money").click();
    await page.getByTestId("ledger-table").waitFor();
    expect(await page.getByTestId("money-chart").locator("canvas").count()).toBe(1);
    const voids = (await page.getByTestId("voids-table").textContent())!;
    expect(voids).toContain("Customer changed their mind");
    expect(voids).toContain("12,500.00 LKR");
    expect(voids).toContain("nimal on …00fd01 (studiovault-desktop/0.9.0)");
    expect(await page.getByTestId("ledger-table").textContent()).toContain("950.00");
    await expectAccessible(page, "money");
    await h.shot(page, "money");
  });

  it("the views are tabs a keyboard moves through (arrow keys, Home, End)", async () => {
    await tab("Conflicts").focus();
    await page.keyboard.press("ArrowRight");
    expect(await tab("Record history").getAttribute("aria-selected")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Record history");
    await page.keyboard.press("End");
    expect(await tab("Audit").getAttribute("aria-selected")).toBe("true");
    await page.keyboard.press("ArrowRight");
    expect(await tab("Devices").getAttribute("aria-selected")).toBe("true");
    await page.keyboard.press("ArrowLeft");
    expect(await tab("Audit").getAttribute("aria-selected")).toBe("true");
    expect(await page.getByRole("tabpanel").getAttribute("aria-labelledby")).toBe(await tab("Audit").getAttribute("id"));
  });

  it("Audit: newest first, filtered by kind", async () => {
    await tab("Audit").click();
    await page.getByTestId("audit-table").waitFor();
    expect(await page.getByTestId("audit-table").locator("tbody tr").count()).toBeGreaterThan(5);
    await expectAccessible(page, "audit");
    await h.shot(page, "audit");
    await page.getByLabel("Kind", { exact: true }).selectOption("void");
    await expect.poll(() => page.getByTestId("audit-table").locator("tbody tr").count()).toBe(1);
    await h.shot(page, "audit-filtered");
  });

  it("is live: a new rejection appears in the open table and devices change in place, without a reload", async () => {
    await tab("Conflicts").click();
    await expect.poll(() => page.getByTestId("page-range").textContent()).toBe("1–3 of 3");
    const f = makeEventFactory(99);
    const verdicts = await seeded.studio.push(f.updateProject(DEVICES.studio, seeded.project, { notes: "Another stale edit" }, { base: 1 }));
    expect(verdicts[0]?.status).toBe("rejected");
    await expect.poll(() => page.getByTestId("page-range").textContent(), { timeout: 5_000 }).toBe("1–4 of 4");
    await tab("Devices").click();
    await seeded.studio.close();
    await expect.poll(() => page.locator(`tr[data-device="${DEVICES.studio}"]`).textContent(), { timeout: 5_000 }).toContain("Last seen");
  });

  it("an owner revokes a device with a reason; the row says so", async () => {
    await page.locator(`tr[data-device="${DEVICES.till}"]`).getByRole("button", { name: /Revoke/ }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    expect(await dialog.getByRole("button", { name: "Revoke device" }).isDisabled()).toBe(true);
    await dialog.getByLabel("Reason (kept in the audit)").fill("Till stolen from the counter");
    await expectAccessible(page, "revoke dialog");
    await h.shot(page, "devices-revoke-dialog");
    await dialog.getByRole("button", { name: "Revoke device" }).click();
    await expect.poll(() => page.locator(`tr[data-device="${DEVICES.till}"]`).textContent()).toMatch(/Revoked .* by ayesha: Till stolen from the counter/);
    await h.shot(page, "devices-revoked");
  });

  it("several branches side by side: an overview card per branch, live", async () => {
    const other = await RawDevice.open(h.server, SECOND, DEVICES.frontDesk, "manager", "sunil", "studiovault-desktop/0.9.0", { pending: 7, oldest_pending_age_ms: 300_000 });
    await page.getByRole("button", { name: "+ Sign in to a branch" }).click();
    await page.getByLabel("Branch", { exact: true }).fill(SECOND);
    await page.getByLabel("A token").check();
    await page.getByLabel("Token", { exact: true }).fill(await token(SECOND, DEVICES.dashboard, "owner", "ayesha"));
    await expectAccessible(page, "sign in, token");
    await h.shot(page, "sign-in-token");
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await live();
    await page.getByRole("button", { name: "All branches" }).click();
    const cards = page.getByTestId("overview").locator("article");
    await expect.poll(() => cards.count()).toBe(2);
    const second = page.locator(`article[data-branch="${SECOND}"]`);
    await expect.poll(() => second.getByTestId("card-backlog").textContent(), { timeout: 10_000 }).toMatch(/^7 oldest 5 min/);
    await expect.poll(() => page.locator(`article[data-branch="${BRANCH}"]`).getByTestId("card-rejections").textContent()).toBe("4");
    await expectAccessible(page, "overview");
    await h.shot(page, "overview");
    // Live: the second branch's device reports a smaller backlog.
    other.status(0, 2, 60_000);
    await expect.poll(() => second.getByTestId("card-backlog").textContent(), { timeout: 5_000 }).toMatch(/^2 oldest 1 min/);
    // Signing out of a branch closes its connection: the other branch's device list says so.
    const watcher = await RawDevice.open(h.server, SECOND, DEVICES.studio, "owner", "sunil", "node-watch/1");
    watcher.send({ type: "watch", request_id: "0193a000-0000-7000-8000-00000000a7c1" });
    const watching = await watcher.next("watching");
    expect(watching.devices.find((d) => d.device_id === DEVICES.dashboard)?.connected).toBe(true);
    await second.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => cards.count()).toBe(1);
    for (;;) {
      const o = await watcher.next("observed");
      if (o.devices.some((d) => d.device_id === DEVICES.dashboard && !d.connected)) break;
    }
    const kept = await page.evaluate(() => JSON.parse(localStorage.getItem("studiovault.dashboard.signins.v1") ?? "[]") as Array<{ branch: string }>);
    expect(kept.map((k) => k.branch)).toEqual([BRANCH]);
    await watcher.close();
    await other.close();
  });
});

describe("signing in", { timeout: 60_000 }, () => {
  const codeFor = async (role: string, user: string) => {
    const r = await fetch(new URL(`/v1/branches/${BRANCH}/enrollments`, h.server.url), {
      method: "POST",
      headers: { Authorization: `Bearer ${await token(BRANCH, DEVICES.frontDesk, "manager", "nimal")}`, "Content-Type": "application/json" },
      body: JSON.stringify({ role, user }),
    });
    expect(r.status).toBe(201);
    return ((await r.json()) as { code: string }).code;
  };

  it("with a viewer's one-time code: the branch's views, and no Revoke button", async () => {
    const { page: p } = await h.open();
    await p.goto(h.server.url.href);
    await p.getByRole("heading", { name: "Sign in to a branch" }).waitFor();
    await expectAccessible(p, "sign in, empty");
    await h.shot(p, "sign-in");
    await p.getByLabel("Branch", { exact: true }).fill(BRANCH);
    await p.getByLabel("Sign-in code", { exact: true }).fill("K7QF-9M2");
    await p.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => p.getByRole("alert").textContent()).toContain("like K7QF-9M2X; this has 7");
    await expectAccessible(p, "sign in, bad code");
    await h.shot(p, "sign-in-bad-code");
    const code = await codeFor("viewer", "auditor");
    await p.getByLabel("Sign-in code", { exact: true }).fill(code.toLowerCase().replace("-", " "));
    await p.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => p.getByTestId("connection").textContent(), { timeout: 20_000 }).toBe("Live");
    await p.getByTestId("devices-table").waitFor();
    await expect.poll(() => p.getByTestId("devices-table").locator("tbody tr").count()).toBeGreaterThan(3);
    expect(await p.getByRole("button", { name: /Revoke/ }).count()).toBe(0);
    // The owner's dashboard told the branch it queues nothing and follows the head.
    await expect.poll(() => p.locator(`tr[data-device="${DEVICES.dashboard}"]`).textContent()).toMatch(/up to date\s*nothing/);
    await h.shot(p, "devices-viewer");
  });

  it("a cashier's code is refused: the dashboard needs an owner's, a manager's or a viewer's", async () => {
    const { page: p } = await h.open();
    await p.goto(h.server.url.href);
    await p.getByLabel("Branch", { exact: true }).fill(BRANCH);
    await p.getByLabel("Sign-in code", { exact: true }).fill(await codeFor("cashier", "chamari"));
    await p.getByRole("button", { name: "Sign in", exact: true }).click();
    await expect.poll(() => p.getByRole("alert").textContent()).toContain("This code was for a cashier");
    await h.shot(p, "sign-in-cashier-code");
  });
});
