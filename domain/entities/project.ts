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
 * Payload of `update`: top-level fields to replace. Cross-field rules are checked on the merged
 * result (`{ ...base, ...patch }` parsed as ProjectData), so a patch cannot produce an invalid project.
 */
export const ProjectPatch = z
  .strictObject(projectFields)
  .partial()
  .refine((patch) => Object.keys(patch).length > 0, "an update must change at least one field");
export type ProjectPatch = z.infer<typeof ProjectPatch>;
