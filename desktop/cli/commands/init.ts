/** `studiovault init`: binds a database to a branch and device, then bootstraps from a snapshot. */
import { bootstrap, type BootstrapProgress } from "../../sync/bootstrap.js";
import { parse, required, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { print } from "../output.js";
import { reachable } from "../server-api.js";

const flags = {
  server: { type: "string", value: "URL", help: "the branch server, e.g. http://127.0.0.1:8787" },
  token: { type: "string", value: "TOKEN", help: "a device token (npm run token); default $STUDIOVAULT_TOKEN" },
  "no-bootstrap": { type: "boolean", default: false, help: "skip the snapshot: the first sync pulls everything" },
} as const;

export const init = defineCommand({
  name: "init",
  flags,
  usage: [
    {
      words: "init",
      required: ["server", "token"],
      optional: ["no-bootstrap"],
      help: "bind this database to a branch and device, and bootstrap from the branch's latest snapshot (with a progress bar)",
    },
  ],
  async run(argv, ctx) {
    const { values } = parse(argv, flags);
    const result = ctx.store.init({
      server_url: required(values.server, "--server", "the server URL, e.g. http://127.0.0.1:8787"),
      token: required(values.token ?? ctx.env.STUDIOVAULT_TOKEN, "--token", "a device token (npm run token)"),
    });
    if (!result.ok) throw new UsageError(result.error);
    const c = result.value;
    let snapshot: { seq: number; entities: number } | null = null;
    let bootstrapNote = "skipped (--no-bootstrap)";
    if (!values["no-bootstrap"]) {
      if (!(await reachable(c.server_url))) bootstrapNote = "server unreachable: the first sync bootstraps";
      else {
        try {
          const manifest = await bootstrap(ctx.store, { onProgress: (p) => !ctx.json && ctx.io.err(progressBar(p)) });
          snapshot = manifest && { seq: manifest.seq, entities: manifest.counts.project + manifest.counts.invoice + manifest.counts.pos_order };
          bootstrapNote = manifest ? `from snapshot at seq ${manifest.seq}` : "no snapshot yet: the first sync pulls everything";
        } catch (e) {
          bootstrapNote = `failed, the first sync retries: ${(e as Error).message}`;
        }
      }
    }
    print(ctx, { ok: true, branch: c.branch_id, device: c.device_id, user: c.user_id, role: c.role, server: c.server_url, snapshot, bootstrap: bootstrapNote }, () =>
      `initialised: branch ${c.branch_id}, device ${c.device_id}, ${c.user_id} (${c.role}) at ${c.server_url}\nbootstrap: ${bootstrapNote}`,
    );
    return 0;
  },
});

function progressBar(p: BootstrapProgress): string {
  const width = 30;
  const [done, total, unit] = p.phase === "download" ? [p.bytes, p.total_bytes, "bytes"] : [p.entities, p.total_entities, "entities"];
  const filled = total > 0 ? Math.round((done / total) * width) : width;
  return `bootstrap ${p.phase.padEnd(8)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")} ${unit}`;
}
