/** `studiovault conflicts`: the conflict inbox, and resolving one entry. */
import { oneOf, parse, required, wholeNumber } from "../args.js";
import { defineCommand } from "../command.js";
import { EXIT } from "../exit-codes.js";
import { fail, print } from "../output.js";

const flags = {
  all: { type: "boolean", default: false, help: "resolved conflicts too, not only open ones" },
} as const;

const DONE = { dismiss: "dismissed", reapply: "re-applied as a new change", restore: "restored as a new project", reenter: "entered again as a new record" } as const;

export const conflicts = defineCommand({
  name: "conflicts",
  flags,
  usage: [
    { words: "conflicts", optional: ["all"], help: "the conflict inbox" },
    { words: "conflicts resolve ID dismiss|reapply|restore|reenter", help: "keep the server's version, re-apply an edit, restore a deleted project or enter a refused new record again (as new)" },
  ],
  run(argv, ctx) {
    if (argv[0] === "resolve") {
      const { positionals } = parse(argv.slice(1), {}, 2);
      const expected = "a conflict id from `studiovault conflicts`";
      const id = wholeNumber(required(positionals[0], "ID", expected), "ID", expected, { min: 1 });
      const action = oneOf(positionals[1], ["dismiss", "reapply", "restore", "reenter"] as const, "action");
      const result = ctx.store.resolveConflict(id, action);
      if (!result.ok) return fail(ctx.io, ctx.json, EXIT.refused, { error: "refused", message: result.error }, `refused: ${result.error}`, "out");
      print(ctx, { ok: true }, () => `conflict ${id}: ${DONE[action]}`);
      return 0;
    }
    const { values } = parse(argv, flags);
    const list = ctx.store.conflicts({ open: !values.all });
    print(ctx, list, () =>
      list.length === 0
        ? "no conflicts"
        : list
            .map((c) => `${c.id}. ${c.message}${c.needs_manager ? " [needs a manager]" : ""} — ${c.operation} ${c.entity_type} ${c.entity_id} (${c.code})${c.resolved_at ? ` resolved: ${c.resolution}` : ""}`)
            .join("\n"),
    );
    return 0;
  },
});
