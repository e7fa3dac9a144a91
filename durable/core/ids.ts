/**
 * Typed row decoding: where a SQLite row becomes a wire value, its ids get their brands back by being
 * checked, not cast (issue 13, move 5). Storage holds only ids that were validated on the way in, so a
 * failure here is a bug or a corrupt database: it throws (STYLE.md §6), it is not a value.
 *
 * Cost: one regex test per id (~0.1 µs). Rows are decoded once, where they are read; the push path
 * builds its wire values from the already-decoded event and decodes nothing.
 */
import type { z } from "zod";
import { DeviceId, EntityId, EventId, TransferId, UserId } from "../../domain/index.js";
import { InvariantError } from "../../lib/result.js";

function decoder<S extends z.ZodType<string>>(schema: S, what: string): (value: string) => z.infer<S> {
  return (value) => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvariantError(`stored ${what} ${JSON.stringify(String(value).slice(0, 80))} is not a valid ${what}`);
    return parsed.data;
  };
}

export const storedEntityId = decoder(EntityId, "entity id");
export const storedEventId = decoder(EventId, "event id");
export const storedDeviceId = decoder(DeviceId, "device id");
export const storedUserId = decoder(UserId, "user id");
export const storedTransferId = decoder(TransferId, "transfer id");
