/**
 * The dashboard's record history after the branch compacted its log (protocol v9,
 * docs/protocol/compaction.md), in Chromium against the real server under workerd set to compact
 * everything a snapshot covers: the versions still in the log are listed, and the page says which
 * are not and why, instead of showing a shorter history as if it were all. axe-core; screenshots in
 * test-results/screenshots/dashboard/ at 1280×800 and 1024×700.
 */
import { describe, expect, it } from "vitest";
import { makeEventFactory } from "../../support/events.js";
import { expectAccessible } from "../../support/ui.js";
import { dashboardHarness, DEVICES, token } from "./support.js";

const h = dashboardHarness({ COMPACTION_RETAIN_COMMITS: "0", COMPACTION_RETAIN_MS: "0", COMPACTION_MIN_STEP_COMMITS: "1" });
const BRANCH = "negombo-beach";
const f = makeEventFactory(23);

async function call(method: string, path: string, body?: unknown) {
  return fetch(new URL(`/v1/branches/${BRANCH}/${path}`, h.server.url), {
    method,
    headers: { Authorization: `Bearer ${await token(BRANCH, DEVICES.frontDesk, "manager", "nimal")}`, ...(body ? { "Content-Type": "application/json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
}

describe("record history after compaction", { timeout: 90_000 }, () => {
  it("lists the versions the log keeps and says which were compacted away", async () => {
    const create = f.createProject(DEVICES.frontDesk, f.nextId(), "Fernando wedding");
    const edits = [2, 3, 4].map((v) => f.updateProject(DEVICES.frontDesk, create.entity_id, { title: `Fernando wedding, take ${v}` }, { base: v - 1 }));
    expect((await call("POST", "push", { type: "push", batch_id: f.nextId(), events: [create, ...edits] })).status).toBe(200);
    // A base snapshot covers seq 4; the alarm then compacts everything it covers but each record's last change.
    expect((await call("POST", "snapshots")).status).toBe(201);
    await expect.poll(async () => (await call("GET", "changes?since=0")).status, { timeout: 20_000 }).toBe(410);
    const later = f.updateProject(DEVICES.frontDesk, create.entity_id, { title: "Fernando wedding, final" }, { base: 4 });
    expect((await call("POST", "push", { type: "push", batch_id: f.nextId(), events: [later] })).status).toBe(200);

    const { page } = await h.open();
    await page.goto(new URL(`/#branch=${BRANCH}&token=${await token(BRANCH, DEVICES.dashboard, "owner", "ayesha")}`, h.server.url).href);
    await expect.poll(() => page.getByTestId("connection").textContent(), { timeout: 20_000 }).toBe("Live");
    await page.getByRole("tab", { name: "Record history" }).click();
    await page.getByLabel(/Record id/).fill(create.entity_id);
    await page.getByRole("button", { name: "Show history" }).click();
    const lanes = page.getByTestId("history-lanes");
    await lanes.waitFor();
    // Version 4 (the last change the compaction kept) and 5 (after it); 1-3 are gone from the log.
    expect(await lanes.locator("tbody tr").count()).toBe(2);
    expect(await lanes.textContent()).toContain("Version 5");
    expect(await lanes.textContent()).toContain("Version 4");
    expect(await page.getByTestId("history-compacted").textContent()).toBe(
      "Versions 1–3 are not listed: the branch compacted its older history (its log keeps what was committed after seq 4). The record itself is whole; only who changed it before version 4, and when, is gone.",
    );
    await expectAccessible(page, "history after compaction");
    await h.shot(page, "history-compacted");
  });
});
