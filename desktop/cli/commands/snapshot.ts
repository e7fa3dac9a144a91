/** `studiovault snapshot`: asks the server for a fresh branch snapshot (managers and owners). */
import { parse } from "../args.js";
import { defineCommand } from "../command.js";
import { configOf } from "../context.js";
import { print, refused } from "../output.js";
import { serverCall } from "../../sync/server-api.js";

export const snapshot = defineCommand({
  name: "snapshot",
  flags: {},
  usage: [{ words: "snapshot", help: "ask the server for a fresh branch snapshot (manager)" }],
  async run(argv, ctx) {
    parse(argv, {});
    const answer = await serverCall(configOf(ctx), "POST", "snapshots");
    if (answer.kind !== "ok") return refused(ctx, answer, "ask for snapshots");
    const body = answer.body;
    print(ctx, body, () => `snapshot at seq ${body.seq}: ${Number(body.byte_size).toLocaleString("en-US")} bytes, sha256 ${body.sha256}`);
    return 0;
  },
});
