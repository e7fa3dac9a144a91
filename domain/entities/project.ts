/**
 * A project: a shoot or job (client, dates, location, status, package, notes) and its Smart Select
 * media selection (the photos a client picked, identified by content hash).
 */
import { z } from "zod";
import { Sha256Hex } from "../ids.js";
import { MAX_MEDIA_ITEMS } from "../limits.js";
import { Money } from "../money.js";
import { IsoDate, line, prose } from "../text.js";

export const ProjectStatus = z.enum(["inquiry", "booked", "shooting", "editing", "delivered", "archived"]);
export type ProjectStatus = z.infer<typeof ProjectStatus>;

export const MediaItem = z.strictObject({
  /** Content hash of the file: the identity of a photo, whatever it is called on a given disk. */
  sha256: Sha256Hex,
  file_name: line(255).regex(/^[^/\\]+$/, "must be a file name, not a path"),
  size_bytes: z.int().min(0).max(2 ** 50),
  note: prose(500).nullable(),
});
export type MediaItem = z.infer<typeof MediaItem>;

export const MediaSelection = z
  .strictObject({ items: z.array(MediaItem).max(MAX_MEDIA_ITEMS) })
  .superRefine((selection, ctx) => {
    const seen = new Set<string>();
    selection.items.forEach((item, index) => {
      if (seen.has(item.sha256)) {
        ctx.addIssue({ code: "custom", path: ["items", index, "sha256"], message: "media item selected twice" });
      }
      seen.add(item.sha256);
    });
  });
export type MediaSelection = z.infer<typeof MediaSelection>;

const projectFields = {
  title: line(200),
  client: z.strictObject({
    name: line(200),
    email: z.email().max(254).nullable(),
    phone: line(40).regex(/^[0-9+()\- ]+$/, "must be a phone number").nullable(),
  }),
  status: ProjectStatus,
  starts_on: IsoDate.nullable(),
  ends_on: IsoDate.nullable(),
  location: line(500).nullable(),
  package: z.strictObject({ name: line(100), price: Money }).nullable(),
  notes: prose(20_000),
  media_selection: MediaSelection,
};

function checkProjectDates(p: { starts_on: string | null; ends_on: string | null }, ctx: z.RefinementCtx) {
  if (p.ends_on !== null && p.starts_on === null) {
    ctx.addIssue({ code: "custom", path: ["starts_on"], message: "an end date needs a start date" });
  }
  if (p.ends_on !== null && p.starts_on !== null && p.ends_on < p.starts_on) {
    ctx.addIssue({ code: "custom", path: ["ends_on"], message: "must not be before starts_on" });
  }
}

/** A project's full state. Also the payload of `create`. */
export const ProjectData = z.strictObject(projectFields).superRefine(checkProjectDates);
export type ProjectData = z.infer<typeof ProjectData>;

/**
 * Since protocol v8: a change to a media selection item by item, against the selection of the
 * version the update is based on (issue 18): one photo picked in a selection of 20,000 is one item
 * on the wire, not 20,000. `upsert` adds an item, or replaces the selected item with the same hash
 * where it stands (its file name or note changed); `remove` takes items out by hash. New items go at
 * the end, in the order given.
 */
export const MediaSelectionChanges = z
  .strictObject({
    upsert: z.array(MediaItem).max(MAX_MEDIA_ITEMS),
    remove: z.array(Sha256Hex).max(MAX_MEDIA_ITEMS),
  })
  .superRefine((changes, ctx) => {
    if (changes.upsert.length === 0 && changes.remove.length === 0) ctx.addIssue({ code: "custom", path: [], message: "a change to the selection must upsert or remove at least one item" });
    const upserted = new Set<string>();
    changes.upsert.forEach((item, index) => {
      if (upserted.has(item.sha256)) ctx.addIssue({ code: "custom", path: ["upsert", index, "sha256"], message: "media item upserted twice" });
      upserted.add(item.sha256);
    });
    const removed = new Set<string>();
    changes.remove.forEach((sha, index) => {
      if (removed.has(sha) || upserted.has(sha)) ctx.addIssue({ code: "custom", path: ["remove", index], message: removed.has(sha) ? "media item removed twice" : "media item both upserted and removed" });
      removed.add(sha);
    });
  });
export type MediaSelectionChanges = z.infer<typeof MediaSelectionChanges>;

/** Whether a patch's `media_selection` is a change set (v8) rather than the whole selection. */
export const isSelectionChanges = (value: MediaSelection | MediaSelectionChanges): value is MediaSelectionChanges => !("items" in value);

/**
 * The selection `changes` make of `base`, or why they cannot: removing a photo that is not selected
 * means the change was built on another selection (the version check makes that a client bug).
 */
export function applySelectionChanges(base: MediaSelection, changes: MediaSelectionChanges): { ok: true; value: MediaSelection } | { ok: false; path: (string | number)[]; message: string } {
  const removed = new Set(changes.remove);
  const present = new Set(base.items.map((i) => i.sha256));
  const missing = changes.remove.findIndex((sha) => !present.has(sha));
  if (missing >= 0) return { ok: false, path: ["media_selection", "remove", missing], message: "this photo is not in the selection" };
  const upserts = new Map(changes.upsert.map((i) => [i.sha256, i]));
  const items = base.items.filter((i) => !removed.has(i.sha256)).map((i) => upserts.get(i.sha256) ?? i);
  for (const item of changes.upsert) if (!present.has(item.sha256)) items.push(item);
  return { ok: true, value: { items } };
}

/**
 * The change set that makes `to` of `from`, when there is one and it says less than `to` itself: a
 * device sends one photo picked, not the 20,000 around it. Null when the whole selection is the
 * better payload: nothing changed, the kept photos were reordered (a change set keeps their order),
 * or so much changed that the set would not be smaller.
 */
export function selectionChanges(from: MediaSelection, to: MediaSelection): MediaSelectionChanges | null {
  const before = new Map(from.items.map((i) => [i.sha256, i]));
  const after = new Set(to.items.map((i) => i.sha256));
  const upsert = to.items.filter((i) => {
    const was = before.get(i.sha256);
    return was === undefined || was.file_name !== i.file_name || was.size_bytes !== i.size_bytes || was.note !== i.note;
  });
  const remove = from.items.filter((i) => !after.has(i.sha256)).map((i) => i.sha256);
  if (upsert.length === 0 && remove.length === 0) return null;
  if (upsert.length + remove.length >= to.items.length) return null;
  const changes = { upsert, remove };
  const applied = applySelectionChanges(from, changes);
  // Kept photos in another order, or new ones not at the end: only the whole selection says that.
  const same = applied.ok && applied.value.items.length === to.items.length && applied.value.items.every((i, n) => i.sha256 === to.items[n]!.sha256);
  return same ? changes : null;
}

/**
 * Payload of `update`: top-level fields to replace. Cross-field rules are checked on the merged
 * result (`{ ...base, ...patch }` parsed as ProjectData), so a patch cannot produce an invalid project.
 * Since v8 `media_selection` may instead be a change set (MediaSelectionChanges), applied to the
 * base's selection before the merge.
 */
export const ProjectPatch = z
  .strictObject({ ...projectFields, media_selection: z.union([MediaSelection, MediaSelectionChanges]) })
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "an update must change at least one field");
export type ProjectPatch = z.infer<typeof ProjectPatch>;
