/**
 * Many writes at once, on real SQLite files: the app's `writeMany` request (a bound on how many, the
 * refused write named by its index, nothing written then) and `studiovault project import FILE` (one
 * project per line, a bad line named by its number, nothing written then).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { MAX_WRITE_MANY, parseApiRequest, type WriteAction } from "../../../desktop/app/api.js";
import { DesktopCore } from "../../../desktop/app/core.js";
import { main } from "../../../desktop/cli/main.js";
import { LocalStore } from "../../../desktop/store/local-store.js";
import { openStore } from "../../support/desktop.js";
import * as ex from "../../fixtures/examples.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";
const cleanup: Array<() => void> = [];
afterEach(() => cleanup.splice(0).forEach((f) => f()));

const create = (title: string): WriteAction => ({ kind: "project_create", data: { ...ex.project, title } });

describe("the app's writeMany request", () => {
  it("writes every action in one go, each its own queued event, and answers their ids in order", async () => {
    const { store } = await openStore({ device: A });
    const core = new DesktopCore(store, { online: false });
    cleanup.push(() => core.stop(), () => store.close());
    const request = parseApiRequest({ method: "writeMany", actions: [create("One"), create("Two"), create("Three")] });
    expect(request.ok).toBe(true);
    const answer = await core.handle(request.ok ? request.value : (undefined as never));
    expect(answer).toMatchObject({ ok: true });
    const written = (answer as { ok: true; value: Array<{ event_id: string; entity_id: string }> }).value;
    expect(written.map((w) => store.get(w.entity_id)?.entity)).toMatchObject([{ data: { title: "One" } }, { data: { title: "Two" } }, { data: { title: "Three" } }]);
    expect(new Set(written.map((w) => w.event_id)).size).toBe(3);
    expect(store.summary().pending).toBe(3);
  });

  it("refuses them all when one is refused, naming it by its index and saying nothing was saved", async () => {
    const { store } = await openStore({ device: A });
    const core = new DesktopCore(store, { online: false });
    cleanup.push(() => core.stop(), () => store.close());
    const answer = await core.handle({ method: "writeMany", actions: [create("One"), create("Two"), create("")] });
    expect(answer).toMatchObject({ ok: false, error: { index: 2, code: "invalid_payload", detail: { field: "title" } } });
    expect((answer as { error: { message: string } }).error.message).toMatch(/^Write 3 of 3 was refused, so none of them was saved: /);
    expect(store.summary().pending).toBe(0);
    expect(store.count("project")).toBe(0);
  });

  it("refuses a request of more than MAX_WRITE_MANY writes, or an action of no known kind, saying where", () => {
    const tooMany = parseApiRequest({ method: "writeMany", actions: Array.from({ length: MAX_WRITE_MANY + 1 }, (_, i) => create(`P${i}`)) });
    expect(tooMany).toEqual({ ok: false, error: `invalid request at actions: at most ${MAX_WRITE_MANY} writes in one writeMany; send the rest in another` });
    const none = parseApiRequest({ method: "writeMany", actions: [] });
    expect(none.ok).toBe(false);
    const unknown = parseApiRequest({ method: "writeMany", actions: [create("One"), { kind: "project_rename", id: "x" }] });
    expect(!unknown.ok && unknown.error).toMatch(/^invalid request at actions\.1\.kind: /);
  });
});

describe("studiovault project import FILE", () => {
  async function run(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, {});
    return { code, out: out.join("\n"), err: err.join("\n") };
  }
  /** A closed, initialised database and a file beside it with `lines`. */
  async function withFile(lines: string[]) {
    const { store } = await openStore({ device: A });
    const db = store.path;
    store.close();
    const file = path.join(path.dirname(db), "projects.jsonl");
    writeFileSync(file, lines.join("\n"));
    const projects = () => {
      const s = LocalStore.open(db);
      try {
        return s.list("project").map((p) => (p.entity.entity_type === "project" ? p.entity.data?.title : null));
      } finally {
        s.close();
      }
    };
    return { db, file, projects };
  }
  const line = (o: unknown) => JSON.stringify(o);

  it("writes one project per line, filling in what a line leaves out, each its own queued event", async () => {
    const { db, file, projects } = await withFile([
      line(ex.project),
      "",
      line({ title: "Fernando graduation", client: { name: "Dilani Fernando" } }),
      line({ title: "Silva portraits", client: { name: "Kamal Silva", phone: "+94 77 123 4567" }, status: "booked", starts_on: "2026-12-20" }),
    ]);
    const r = await run("--db", db, "--json", "project", "import", file);
    expect(r.code).toBe(0);
    const answer = JSON.parse(r.out) as { ok: boolean; imported: number; events: Array<{ event_id: string }> };
    expect(answer).toMatchObject({ ok: true, imported: 3 });
    expect(new Set(answer.events.map((e) => e.event_id)).size).toBe(3);
    expect(projects().sort()).toEqual(["Fernando graduation", ex.project.title, "Silva portraits"].sort());
    expect((await run("--db", db, "project", "import", file)).out).toMatch(/^imported 3 projects \(queued/);
  });

  it("names a line that is not JSON or that the store refuses, by its number, and writes nothing", async () => {
    const notJson = await withFile([line(ex.project), "{ title: oops"]);
    const r1 = await run("--db", notJson.db, "--json", "project", "import", notJson.file);
    expect(r1.code).toBe(1);
    expect(JSON.parse(r1.out)).toMatchObject({ ok: false, error: "invalid_json", line: 2 });
    expect(notJson.projects()).toEqual([]);

    const refused = await withFile([line(ex.project), "", line({ ...ex.project, title: "Fine" }), line({ title: "No client" })]);
    const r2 = await run("--db", refused.db, "project", "import", refused.file);
    expect(r2.code).toBe(1);
    expect(r2.out).toMatch(/^refused: line 4 of .*projects\.jsonl was refused: .*; nothing was imported$/);
    expect(refused.projects()).toEqual([]);
  });

  it("is a usage error for a file that cannot be read or has no projects", async () => {
    const empty = await withFile(["", "  "]);
    expect((await run("--db", empty.db, "project", "import", empty.file)).code).toBe(2);
    expect((await run("--db", empty.db, "project", "import", `${empty.file}.missing`)).code).toBe(2);
    expect((await run("--db", empty.db, "project", "import")).code).toBe(2);
  });
});
