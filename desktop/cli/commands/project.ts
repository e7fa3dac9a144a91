/** `studiovault project …`: projects on this device, including Smart Select from a folder and imports. */
import { readFileSync } from "node:fs";
import { formatCount, plural } from "../../../domain/amounts.js";
import { ProjectStatus } from "../../../domain/index.js";
import { isoDate, minorUnits, oneOf, parse, required, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import type { Ctx } from "../context.js";
import { EXIT } from "../exit-codes.js";
import { mediaFromFolder } from "../folder-hash.js";
import { fail, print, showPage, wrote } from "../output.js";
import { pageFlags, pageOf } from "../paging.js";

/** One table for every `project` form: each form reads the flags it needs and ignores the rest. */
const flags = {
  title: { type: "string", value: "T", help: "the project's title" },
  client: { type: "string", value: "NAME", help: "the client's name" },
  email: { type: "string", value: "E", help: "the client's email" },
  phone: { type: "string", value: "P", help: "the client's phone" },
  status: { type: "string", value: "STATUS", help: `one of ${ProjectStatus.options.join(", ")} (default inquiry)` },
  starts: { type: "string", value: "YYYY-MM-DD", help: "first day of the shoot" },
  ends: { type: "string", value: "YYYY-MM-DD", help: "last day of the shoot" },
  location: { type: "string", value: "L", help: "where it takes place" },
  notes: { type: "string", value: "N", help: "free text" },
  package: { type: "string", value: "NAME", help: "the package sold (needs --price)" },
  price: { type: "string", value: "AMOUNT", help: "the package price, e.g. 150000 or 150000.50" },
  currency: { type: "string", value: "CUR", help: "the package currency (default LKR)" },
  reason: { type: "string", value: "R", help: "why it is deleted" },
  folder: { type: "string", value: "DIR", help: "pick every file in DIR, by content hash (Smart Select)" },
  search: { type: "string", value: "TEXT", help: "only projects matching TEXT" },
  ...pageFlags,
} as const;

const editable = ["title", "status", "starts", "ends", "location", "notes", "package", "price", "currency"] as const;

export const project = defineCommand({
  name: "project",
  flags,
  usage: [
    {
      words: "project create",
      required: ["title", "client"],
      optional: ["email", "phone", "status", "starts", "ends", "location", "notes", "package", "price", "currency"],
      help: "a new project",
    },
    { words: "project update ID", optional: editable, help: "change a project (at least one flag)" },
    { words: "project delete ID", required: ["reason"], help: "delete a project" },
    { words: "project select ID", required: ["folder"], help: "Smart Select: pick every file in DIR (by content hash)" },
    {
      words: "project import FILE",
      help: "many new projects at once, one JSON object per line of FILE (a project's data as `project show --json` prints it; status, dates, location, package, notes, media and the client's email and phone may be left out); all or none: a bad line is named and nothing is written",
    },
    { words: "project list", optional: ["search", "limit", "offset"], help: "the projects on this device, a page at a time, with how many there are" },
    { words: "project show ID", help: "one project, in full" },
  ],
  run(argv, ctx) {
    const [sub, ...rest] = argv;
    const { values: v, positionals } = parse(rest, flags, 1);
    const id = () => required(positionals[0], "ID", "a project id");
    const pkg = () =>
      v.package === undefined
        ? undefined
        : { name: v.package, price: { amount_minor: minorUnits(required(v.price, "--price", "the package price"), "--price"), currency: v.currency ?? "LKR" } };
    switch (sub) {
      case "create":
        return wrote(
          ctx,
          ctx.store.createProject({
            title: required(v.title, "--title", "the project title"),
            client: { name: required(v.client, "--client", "the client's name"), email: v.email ?? null, phone: v.phone ?? null },
            status: oneOf(v.status, ProjectStatus.options, "--status", "inquiry"),
            starts_on: isoDate(v.starts, "--starts"),
            ends_on: isoDate(v.ends, "--ends"),
            location: v.location ?? null,
            package: pkg() ?? null,
            notes: v.notes ?? "",
            media_selection: { items: [] },
          }),
          "created project",
        );
      case "update": {
        const patch = Object.fromEntries(
          Object.entries({
            title: v.title,
            status: v.status === undefined ? undefined : oneOf(v.status, ProjectStatus.options, "--status"),
            starts_on: v.starts === undefined ? undefined : isoDate(v.starts, "--starts"),
            ends_on: v.ends === undefined ? undefined : isoDate(v.ends, "--ends"),
            location: v.location,
            notes: v.notes,
            package: pkg(),
          }).filter(([, value]) => value !== undefined),
        );
        if (Object.keys(patch).length === 0) throw new UsageError("nothing to change: pass at least one of --title, --status, --starts, --ends, --location, --notes, --package");
        return wrote(ctx, ctx.store.updateProject(id(), patch), "updated project");
      }
      case "delete":
        return wrote(ctx, ctx.store.deleteProject(id(), required(v.reason, "--reason", "why it is deleted")), "deleted project");
      case "select":
        return wrote(ctx, ctx.store.setMediaSelection(id(), { items: mediaFromFolder(required(v.folder, "--folder", "a folder of photos")) }), "selected media for project");
      case "import":
        return importProjects(ctx, required(positionals[0], "FILE", "a file of projects, one JSON object per line"));
      case "list": {
        const page = pageOf(v);
        const items = ctx.store.list("project", { search: v.search, ...page });
        const total = ctx.store.count("project", { search: v.search });
        return showPage(ctx, items, page, total, (e) =>
          e.entity_type === "project" && e.data ? `${e.entity_id}  ${e.data.title} · ${e.data.client.name} · ${e.data.status} · ${formatCount(e.data.media_selection.items.length)} selected` : e.entity_id,
        );
      }
      case "show": {
        const found = ctx.store.get(id());
        if (!found) throw new UsageError(`no project ${positionals[0]} on this device`);
        print(ctx, found, () => JSON.stringify(found, null, 2));
        return 0;
      }
      case undefined:
      default:
        throw new UsageError(`project: expected create, update, delete, select, import, list or show; received ${JSON.stringify(sub ?? "")}`);
    }
  },
});

/** What a line of an import may leave out, and what it then is (as `project create` without those flags). */
const IMPORT_DEFAULTS = { status: "inquiry", starts_on: null, ends_on: null, location: null, package: null, notes: "", media_selection: { items: [] } } as const;

/**
 * `project import FILE`: one project per non-blank line, all written in ONE local transaction
 * (LocalStore.writeMany), each its own queued event, each validated as `project create` is. All or
 * none: a line that is not JSON, or that the store refuses, is named by its line number and nothing
 * is written.
 */
function importProjects(ctx: Ctx, file: string): number {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  const lines: number[] = [];
  const actions: Array<{ kind: "project_create"; data: never }> = [];
  for (const [i, raw] of text.split("\n").entries()) {
    if (raw.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(raw) as unknown;
    } catch (e) {
      const message = `line ${i + 1} of ${file} is not JSON (${(e as Error).message}); nothing was imported`;
      return fail(ctx.io, ctx.json, EXIT.refused, { error: "invalid_json", message, line: i + 1 }, `refused: ${message}`, "out");
    }
    lines.push(i + 1);
    actions.push({ kind: "project_create", data: withDefaults(value) as never });
  }
  if (actions.length === 0) throw new UsageError(`${file} has no projects: expected one JSON object per line`);
  const outcome = ctx.store.writeMany(actions);
  if (!outcome.ok) {
    const { index, code, message, detail } = outcome.error;
    const line = lines[index]!;
    const words = `line ${line} of ${file} was refused: ${message}; nothing was imported`;
    return fail(ctx.io, ctx.json, EXIT.refused, { error: code, message: words, line, detail }, `refused: ${words}`, "out");
  }
  const events = outcome.value.map((w) => ({ event_id: w.event.id, entity_id: w.entity.entity_id }));
  print(ctx, { ok: true, imported: events.length, events }, () => `imported ${plural(events.length, "project")} (queued; run \`studiovault sync\` to send)`);
  return 0;
}

/** A line's object with what it left out filled in; anything else is left for the store to refuse, by field. */
function withDefaults(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const line = value as Record<string, unknown>;
  const client = line.client;
  const filledClient = typeof client === "object" && client !== null && !Array.isArray(client) ? { email: null, phone: null, ...client } : client;
  return { ...IMPORT_DEFAULTS, ...line, ...(client === undefined ? {} : { client: filledClient }) };
}
