/**
 * `studiovault signin`: a bound database whose token expired or was replaced signs in again, as the
 * same device, with a manager's one-time code (or a token minted for this device). The queue, the
 * receipts and the install stay: pending changes go at the next sync.
 */
import { parse, UsageError } from "../args.js";
import { defineCommand } from "../command.js";
import { configOf } from "../context.js";
import { print } from "../output.js";
import { exchangeCode } from "../../sync/enrollment.js";
import { enrollFailed } from "./init.js";

const flags = {
  code: { type: "string", value: "CODE", help: "a one-time sign-in code from a manager (`studiovault device add`), e.g. K7QF-9M2X" },
  token: { type: "string", value: "TOKEN", help: "a device token minted for THIS device (npm run token -- --device <this device's id>)" },
} as const;

export const signin = defineCommand({
  name: "signin",
  flags,
  usage: [
    { words: "signin", required: ["code"], help: "sign this till in again as the same device with a manager's one-time code; its queued changes are kept and sent at the next sync; exit 1 if the code is refused, 3 if the server is unreachable" },
    { words: "signin", required: ["token"], help: "sign in again with a device token minted for this device" },
  ],
  async run(argv, ctx) {
    const { values } = parse(argv, flags);
    const cfg = configOf(ctx);
    if ((values.code === undefined) === (values.token === undefined)) {
      throw new UsageError("signin: give --code CODE (a sign-in code from a manager) or --token TOKEN (a token for this device), not both");
    }
    let token = values.token;
    if (values.code !== undefined) {
      const exchanged = await exchangeCode({ serverUrl: cfg.server_url, branch: cfg.branch_id, code: values.code, deviceId: cfg.device_id });
      if (!exchanged.ok) return enrollFailed(ctx, exchanged.error);
      token = exchanged.value.token;
    }
    const result = ctx.store.init({ server_url: cfg.server_url, token: token! });
    if (!result.ok) throw new UsageError(result.error);
    const c = result.value;
    const pending = ctx.store.summary().pending;
    print(ctx, { ok: true, branch: c.branch_id, device: c.device_id, user: c.user_id, role: c.role, server: c.server_url, pending }, () =>
      `signed in again: branch ${c.branch_id}, device ${c.device_id}, ${c.user_id} (${c.role}); ${pending === 0 ? "nothing is waiting to be sent" : `${pending} queued change(s) are kept and go at the next \`studiovault sync\``}`,
    );
    return 0;
  },
});
