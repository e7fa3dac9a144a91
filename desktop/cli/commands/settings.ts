/**
 * `studiovault settings`: the branch's settings over its HTTP API (owner, manager). Without flags it
 * shows them; with flags it changes the studio's details that head receipts and invoices. Checked
 * here first with the server's own schema, so a typo is a usage error (exit 2) and nothing is sent.
 */
import { type StudioDetails, StudioDetailsPatch, studioIssueWords } from "../../../domain/index.js";
import { BranchSettingsBody } from "../../../protocol/index.js";
import { parse, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { configOf } from "../context.js";
import { print, refused } from "../output.js";
import { serverCall } from "../../sync/server-api.js";

const settingsFlags = {
  "studio-name": { type: "string", value: "NAME", help: "the studio's name, printed as the receipt's and invoice's title" },
  address: { type: "string", multiple: true, value: "LINE", help: "the studio's address, one --address per line (an empty one clears it)" },
  phone: { type: "string", value: "PHONE", help: "the studio's phone (\"\" clears it)" },
  "tax-id": { type: "string", value: "ID", help: "the studio's tax registration number, printed on invoices (\"\" clears it)" },
} as const;

export const settings = defineCommand({
  name: "settings",
  flags: settingsFlags,
  usage: [
    { words: "settings", help: "the branch's settings: studio name, address, phone, tax id, time zone (owner, manager)" },
    {
      words: "settings",
      optional: ["studio-name", "address", "phone", "tax-id"],
      help: "change the studio's details on receipts and invoices (owner, manager); fields not given are kept",
    },
  ],
  async run(argv, ctx) {
    const { values } = parse(argv, settingsFlags);
    const patch: Partial<Record<keyof StudioDetails, string | null>> = {};
    if (values["studio-name"] !== undefined) patch.name = values["studio-name"];
    if (values.address !== undefined) patch.address = values.address.join("\n").trim();
    if (values.phone !== undefined) patch.phone = values.phone.trim() === "" ? null : values.phone;
    if (values["tax-id"] !== undefined) patch.tax_id = values["tax-id"].trim() === "" ? null : values["tax-id"];
    const changing = Object.keys(patch).length > 0;
    if (changing) {
      const checked = StudioDetailsPatch.safeParse(patch);
      if (!checked.success) throw new UsageError(`nothing was changed: ${studioIssueWords(checked.error).map(asFlag).join("; ")}`);
    }
    const answer = changing ? await serverCall(configOf(ctx), "PUT", "settings", { studio: patch }) : await serverCall(configOf(ctx), "GET", "settings");
    if (answer.kind !== "ok") return refused(ctx, answer, changing ? "change the branch's settings" : "read the branch's settings");
    const body = BranchSettingsBody.safeParse(answer.body);
    if (!body.success) throw new Error(`the server's settings are not what this app expects: ${body.error.issues[0]?.message ?? "invalid"}`);
    const s = body.data;
    print(ctx, { ok: true, ...s }, () =>
      [
        changing ? "saved; devices get it when they next connect" : null,
        `studio name: ${s.studio.name}`,
        `address:     ${s.studio.address === "" ? "(none)" : s.studio.address.split("\n").join("\n             ")}`,
        `phone:       ${s.studio.phone ?? "(none)"}`,
        `tax id:      ${s.studio.tax_id ?? "(none)"}`,
        `time zone:   ${s.time_zone} (fixed for the branch)`,
      ]
        .filter((l) => l !== null)
        .join("\n"),
    );
    return 0;
  },
});

/** The schema's field words, as the flag a user typed: "studio name: must not be blank" → "--studio-name: must not be blank". */
const asFlag = (words: string) =>
  words.replace(/^studio name:/, "--studio-name:").replace(/^address:/, "--address:").replace(/^phone:/, "--phone:").replace(/^tax id:/, "--tax-id:");
