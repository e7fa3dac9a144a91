/**
 * The dashboard's pure parts, in plain Node: what a pasted token or a link's fragment signs in as,
 * the field-by-field comparison of a rejection, timeline buckets, history marks, the live throttle,
 * and I13 for the dashboard: no file but main.tsx reads the wall clock.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { bucketSeries } from "../../../dashboard/conflicts.js";
import { throttle } from "../../../dashboard/feed.js";
import { compactedNote, historyMarks } from "../../../dashboard/history.js";
import { compareFields } from "../../../dashboard/rejection.js";
import { fragmentSignIn, loadSignIns, readToken, STORAGE_KEY, withSignIn } from "../../../dashboard/sessions.js";
import { ago, formatTime } from "../../../dashboard/words.js";
import type { RejectionDetail } from "../../../protocol/dashboard.js";
import { signDeviceToken } from "../../../durable/auth.js";
import type { DeviceClaims } from "../../../protocol/token.js";

const NOW = Date.UTC(2026, 11, 3, 4, 0, 0);
const SECRET = "pure-test-secret-0123456789abcdef0123456789";
const DEVICE = "01936f3c-0000-7000-8000-0000000d0a5b";
const tokenOf = (branch: string, role: DeviceClaims["role"], expS = NOW / 1000 + 3600) =>
  signDeviceToken({ v: 1, branch, device: DEVICE, user: "ayesha", role, iat: NOW / 1000 - 10, exp: expS } as DeviceClaims, SECRET);

describe("signing in", () => {
  it("a token signs in as its device, user and role, for its own branch, when it may watch and has not expired", async () => {
    const read = readToken("colombo-main", ` ${await tokenOf("colombo-main", "viewer")}\n`, NOW);
    expect(read.ok && [read.signIn.device_id, read.signIn.user_id, read.signIn.role, read.signIn.expires_at_ms]).toEqual([DEVICE, "ayesha", "viewer", NOW + 3_600_000]);
    const other = readToken("kandy", await tokenOf("colombo-main", "owner"), NOW);
    expect(!other.ok && other.message).toBe("This token is for branch “colombo-main”, not “kandy”.");
    const cashier = readToken("colombo-main", await tokenOf("colombo-main", "cashier"), NOW);
    expect(!cashier.ok && cashier.message).toContain("a cashier's; the dashboard needs an owner's, a manager's or a viewer's");
    const expired = readToken("colombo-main", await tokenOf("colombo-main", "owner", NOW / 1000), NOW);
    expect(!expired.ok && expired.message).toContain("expired");
    expect(readToken("colombo-main", "not a token", NOW).ok).toBe(false);
  });

  it("a link's fragment gives a branch and a token; anything else gives nothing", () => {
    expect(fragmentSignIn("#branch=demo&token=abc.def.ghi")).toEqual({ branch: "demo", token: "abc.def.ghi" });
    expect(fragmentSignIn("")).toBeNull();
    expect(fragmentSignIn("#branch=demo")).toBeNull();
  });

  it("sign-ins are kept one per branch; unreadable storage is no sign-in", () => {
    const s = { branch: "a", token: "t", device_id: "d", install_id: "i", user_id: "u", role: "owner" as const, expires_at_ms: 1 };
    expect(withSignIn([s, { ...s, branch: "b" }], { ...s, token: "t2" }).map((x) => [x.branch, x.token])).toEqual([["a", "t2"], ["b", "t"]]);
    expect(loadSignIns({ getItem: () => "{" })).toEqual([]);
    expect(loadSignIns({ getItem: (k) => (k === STORAGE_KEY ? JSON.stringify([s, { ...s, role: "cashier" }, 3]) : null) })).toEqual([s]);
  });
});

describe("a rejection, field by field", () => {
  const server = { entity_type: "project", entity_id: "p", version: 2, deleted: false, data: { title: "Perera wedding (final)", location: "Mount Lavinia Hotel", notes: "" } } as unknown as RejectionDetail["server_entity"];
  it("marks the fields the attempt would change that differ from the server's, and the versions", () => {
    const rows = compareFields({ attempted: { entity_type: "project", entity_id: "p", operation: "update", base_version: 1, payload: { location: "Galle Face Hotel", title: "Perera wedding (final)" } }, server_entity: server });
    expect(rows.map((r) => [r.field, r.attempted, r.server, r.differs])).toEqual([
      ["location", "Galle Face Hotel", "Mount Lavinia Hotel", true],
      ["title", "Perera wedding (final)", "Perera wedding (final)", false],
      ["state", "update", "live", false],
      ["version", "based on 1", "2", true],
    ]);
  });
  it("a delete against a record already deleted says so", () => {
    const rows = compareFields({ attempted: { entity_type: "project", entity_id: "p", operation: "delete", base_version: 1, payload: { reason: "cancelled" } }, server_entity: { ...server!, deleted: true, data: null } as RejectionDetail["server_entity"] });
    expect(rows.map((r) => [r.field, r.attempted, r.server, r.differs])).toEqual([
      ["reason", "cancelled", "—", false],
      ["state", "delete", "deleted", true],
      ["version", "based on 1", "2", true],
    ]);
  });
  it("a change chained on an earlier one of its own (no base version) is not marked as a version difference", () => {
    const rows = compareFields({ attempted: { entity_type: "project", entity_id: "p", operation: "update", base_version: null, payload: { status: "booked" } }, server_entity: server });
    expect(rows.find((r) => r.field === "version")).toEqual({ field: "version", attempted: "after an earlier change of its own", server: "2", differs: false });
  });
  it("nothing kept: no rows (the note is shown instead)", () => {
    expect(compareFields({ attempted: null, server_entity: null })).toEqual([]);
  });
});

describe("timeline buckets", () => {
  it("every bucket of the range from `from`, empty ones as zero, one series per key, the smallest folded into Other", () => {
    const t = { from: "2026-12-03T00:00:00.000Z", to: "2026-12-03T04:00:00.000Z", bucket_s: 3600, by_code: [], by_device: [] };
    const rows = [
      { bucket_start: "2026-12-03T01:00:00.000Z", code: "version_conflict", count: 3 },
      { bucket_start: "2026-12-03T03:00:00.000Z", code: "version_conflict", count: 1 },
      { bucket_start: "2026-12-03T03:00:00.000Z", code: "permission_denied", count: 2 },
      { bucket_start: "2026-12-03T00:00:00.000Z", code: "entity_deleted", count: 1 },
      // A start inside a bucket is counted in it.
      { bucket_start: "2026-12-03T01:59:59.500Z", code: "version_conflict", count: 1 },
    ];
    const out = bucketSeries(t, rows, (r: { code: string }) => r.code, 2);
    expect(out.xs).toEqual([0, 1, 2, 3].map((h) => Date.UTC(2026, 11, 3, h) / 1000));
    expect(out.series).toEqual([
      { key: "version_conflict", values: [0, 4, 0, 1] },
      { key: "other", values: [1, 0, 0, 2] },
    ]);
  });
});

describe("history marks", () => {
  it("versions and rejections newest first, one mark each, with words", () => {
    const marks = historyMarks({
      entity_id: "p",
      entity_type: "project",
      current: null,
      next_before_seq: null,
      versions: [
        { seq: 9, version: 2, event_id: "e2", device_id: "A", user_id: "nimal", operation: "update", changed_fields: ["title", "location"], committed_at: "2026-12-03T03:00:00.000Z" },
        { seq: 1, version: 1, event_id: "e1", device_id: "A", user_id: "nimal", operation: "create", changed_fields: [], committed_at: "2026-12-03T01:00:00.000Z" },
      ],
      rejections: [{ id: 4, event_id: "r1", decided_at: "2026-12-03T03:00:00.000Z", device_id: "B", user_id: "kamala", entity_type: "project", entity_id: "p", operation: "update", code: "version_conflict", message: "m", depends_on: null }],
    });
    expect(marks.map((m) => [m.kind, m.device_id, m.title, m.detail])).toEqual([
      ["version", "A", "Version 2 · update", "by nimal · title, location · seq 9"],
      ["rejection", "B", "Rejected · Version conflict", "update by kamala"],
      ["version", "A", "Version 1 · create", "by nimal · seq 1"],
    ]);
  });
});

describe("a history the branch compacted (v9)", () => {
  const version = (seq: number, v: number) => ({ seq, version: v, event_id: `e${v}`, device_id: "A", user_id: "nimal", operation: "update" as const, changed_fields: ["title"], committed_at: "2026-12-03T03:00:00.000Z" });
  const history = (versions: ReturnType<typeof version>[], next: number | null) => ({ entity_id: "p", entity_type: "project" as const, current: null, next_before_seq: next, versions, rejections: [] });
  it("says which versions are no longer listed, on the oldest page only, and nothing when version 1 is there", () => {
    expect(compactedNote(history([version(40, 7), version(31, 6)], null), 35)).toBe(
      "Versions 1–5 are not listed: the branch compacted its older history (its log keeps what was committed after seq 35). The record itself is whole; only who changed it before version 6, and when, is gone.",
    );
    expect(compactedNote(history([version(40, 7), version(31, 6)], null), 0)).toMatch(/^Versions 1–5 are not listed: the branch compacted its older history\. /);
    expect(compactedNote(history([version(40, 7), version(31, 6)], 31), 35)).toBeNull();
    expect(compactedNote(history([version(9, 2), version(1, 1)], null), 35)).toBeNull();
    expect(compactedNote(history([], null), 35)).toBeNull();
  });
});

describe("live refreshes are throttled", () => {
  it("the first call runs at once; calls within the interval make one trailing run", () => {
    const timers: Array<() => void> = [];
    const fake = { setTimeout: (fn: () => void) => timers.push(fn), clearTimeout: () => undefined } as unknown as Pick<typeof globalThis, "setTimeout" | "clearTimeout">;
    let runs = 0;
    const t = throttle(() => runs++, 500, fake);
    t();
    t();
    t();
    expect(runs).toBe(1);
    timers.shift()!();
    expect(runs).toBe(2);
    timers.shift()!();
    expect(runs).toBe(2);
  });
});

describe("words", () => {
  it("times in the branch's zone whatever the host's, ages from a given now", () => {
    expect(formatTime("2026-12-03T04:00:00.000Z", "Asia/Colombo")).toBe("3 Dec, 09:30:00");
    expect(ago(NOW - 12 * 60_000, NOW)).toBe("12 min ago");
    expect(ago(NOW - 2_000, NOW)).toBe("just now");
    expect(ago(NOW + 120_000, NOW)).toBe("in 2 min");
  });
});

describe("the dashboard never reads the wall clock but in main.tsx (I13)", () => {
  const WALL_CLOCK = /\bDate\.now\s*\(|\bnew\s+Date\s*\(\s*\)|(?<![\w.])(?<!new\s)Date\s*\(\s*\)/;
  it("no other file under dashboard/ reads it", () => {
    const dir = path.resolve(import.meta.dirname, "../../../dashboard");
    const files = readdirSync(dir).filter((f) => /\.tsx?$/.test(f) && f !== "main.tsx");
    expect(files.length).toBeGreaterThan(8);
    const offenders = files.flatMap((f) =>
      readFileSync(path.join(dir, f), "utf8")
        .split("\n")
        .map((line, i) => ({ line: line.replace(/\/\/.*$/, ""), at: `${f}:${i + 1}` }))
        .filter((l) => WALL_CLOCK.test(l.line))
        .map((l) => l.at),
    );
    expect(offenders, "take now from the feed's serverNow() (the injected clock)").toEqual([]);
  });
});
