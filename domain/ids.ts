/**
 * Branded identifiers. A `DeviceId` cannot be passed where an `EntityId` is expected, even though
 * both are strings on the wire.
 *
 * Entity and event ids are generated on the device (offline) as UUIDv7: time-ordered, so SQLite
 * primary-key inserts stay append-mostly, and random enough that devices never collide. Ids are
 * lower-case canonical so that deduplication on the event id (I3) is an exact string match.
 */
import { z } from "zod";
import { hex } from "../lib/bytes.js";

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const uuid = () =>
  z.string().max(36).regex(UUID_PATTERN, "must be a lower-case canonical UUID (e.g. a UUIDv7)");

export const EntityId = uuid().brand<"EntityId">();
export type EntityId = z.infer<typeof EntityId>;

export const EventId = uuid().brand<"EventId">();
export type EventId = z.infer<typeof EventId>;

export const DeviceId = uuid().brand<"DeviceId">();
export type DeviceId = z.infer<typeof DeviceId>;

/** A chunked transfer (upload or download) of one large message. */
export const TransferId = uuid().brand<"TransferId">();
export type TransferId = z.infer<typeof TransferId>;

/** A studio branch (a physical shop), e.g. `colombo-main`. Names the branch's Durable Object. */
export const BranchId = z
  .string()
  .max(63)
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "must be 1-63 characters of a-z, 0-9 and '-', not starting with '-'")
  .brand<"BranchId">();
export type BranchId = z.infer<typeof BranchId>;

/** A person (staff member) as named by the studio's identity system. */
export const UserId = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9._@-]+$/, "must be 1-64 characters of letters, digits and . _ @ -")
  .brand<"UserId">();
export type UserId = z.infer<typeof UserId>;

/** Lower-case hex SHA-256. */
export const Sha256Hex = z.string().max(64).regex(/^[0-9a-f]{64}$/, "must be a lower-case hex SHA-256");
export type Sha256Hex = z.infer<typeof Sha256Hex>;

/**
 * UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, version, 74 random bits.
 * Clock and randomness are injected so tests and simulations are deterministic.
 */
export function uuidv7(nowMs: number, random: (bytes: Uint8Array) => void): string {
  const bytes = new Uint8Array(16);
  random(bytes);
  let ms = Math.max(0, Math.floor(nowMs));
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const h = hex(bytes);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
