/** `studiovault project …`: projects on this device, including Smart Select from a folder. */
import { formatCount } from "../../../domain/amounts.js";
import { ProjectStatus } from "../../../domain/index.js";
import { isoDate, minorUnits, oneOf, parse, required, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { mediaFromFolder } from "../folder-hash.js";
import { print, showPage, wrote } from "../output.js";
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
        throw new UsageError(`project: expected create, update, delete, select, list or show; received ${JSON.stringify(sub ?? "")}`);
    }
  },
});
