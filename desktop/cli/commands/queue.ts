/** `studiovault queue`: the queued events of this device, with their state and the server's verdict. */
import { EntityType, SyncStatus } from "../../../domain/index.js";
import type { QueueEntry } from "../../store/queue-read.js";
import { oneOf, parse } from "../args.js";
import { defineCommand } from "../command.js";
import { print } from "../output.js";
import { pageFlags, pageFooter, pageOf, pageValue } from "../paging.js";

const flags = {
  status: { type: "string", value: SyncStatus.options.join("|"), help: "only events in this state (default every state)" },
  type: { type: "string", value: EntityType.options.join("|"), help: "only events about records of this type (default every type)" },
  newest: { type: "boolean", help: "newest written first, as the app's Sync activity shows them (default oldest first, the order they are sent in)" },
  ...pageFlags,
} as const;

export const queue = defineCommand({
  name: "queue",
  flags,
  usage: [
    {
      words: "queue",
      optional: ["status", "type", "newest", "limit", "offset"],
      help: "the queued events, oldest first: state, entity and its name, operation, time, and the verdict (seq, or reject code and message)",
    },
  ],
  run(argv, ctx) {
    const { values } = parse(argv, flags);
    const status = values.status === undefined ? undefined : oneOf(values.status, SyncStatus.options, "--status");
    const entityType = values.type === undefined ? undefined : oneOf(values.type, EntityType.options, "--type");
    const page = pageOf(values);
    const { events, total } = ctx.store.queue({ status, entity_type: entityType, newest_first: values.newest === true, ...page });
    print(ctx, { events, ...pageValue(page, events.length, total) }, () =>
      total === 0 ? `no ${[status, entityType].filter(Boolean).join(" ") || "queued"} events` : [...events.map(describeEntry), pageFooter(page, events.length, total)].join("\n"),
    );
    return 0;
  },
});

/** `12 confirmed  2026-11-25T04:00:00.000Z  create pos_order 0193… "D00A1-000007" → seq 41 (receipt #7)`. */
export function describeEntry(e: QueueEntry): string {
  const head = `${e.position} ${e.status.padEnd(9)} ${e.created_at}  ${e.operation} ${e.entity_type} ${e.entity_id}${e.name === null ? "" : ` ${JSON.stringify(e.name)}`}`;
  const v = e.verdict;
  if (v === null) return e.status === "sent" ? `${head} (sent ${e.sent_at ?? ""}, awaiting the verdict)` : head;
  switch (v.kind) {
    case "confirmed":
      return `${head} → seq ${v.seq}${v.official_receipt_no === null ? "" : ` (receipt #${v.official_receipt_no})`}`;
    case "rejected":
      return `${head} → rejected ${v.code}: ${v.message}`;
  }
}
