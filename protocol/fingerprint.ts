/**
 * The wire fingerprint: SHA-256 of the JSON Schema of every message, event and entity schema plus
 * the limits and close codes. A wire change changes it; the fingerprint test then demands a new
 * PROTOCOL_HISTORY entry (and so a version bump). Uses WebCrypto so it runs in Node and workerd.
 */
import { z } from "zod";
import { sha256Hex } from "../lib/bytes.js";
import { canonicalJson } from "./delta.js";
import { CLOSE_CODES } from "./close-codes.js";
import { RejectCode } from "../domain/reject-codes.js";
import { Entity } from "../domain/entities/index.js";
import { EVENT_PAYLOADS, SyncEvent } from "../domain/events.js";
import * as domainLimits from "../domain/limits.js";
import * as protocolLimits from "./limits.js";
import { ClientMessage, LeaseAnswerBody, LeaseList, ServerMessage } from "./messages.js";
import { LEASE_DEFAULT_TTL_MS, LEASE_GROUPS, LEASE_MAX_TTL_MS, LEASE_MIN_TTL_MS, MAX_ACTIVE_LEASES, MAX_LEASES_PER_DEVICE } from "../domain/leases.js";
import { AuditPage, DeviceBoard, EntityHistory, MoneyReport, RejectionDetail, RejectionPage, RejectionTimeline } from "./dashboard.js";

/** JSON with object keys sorted, so the text depends only on content: the one deltas hash (protocol/delta.ts). */
export { canonicalJson };

export function wireDescription(): unknown {
  const schema = (s: z.ZodType) => z.toJSONSchema(s, { io: "input", unrepresentable: "any" });
  const payloads = Object.fromEntries(
    Object.entries(EVENT_PAYLOADS).map(([type, ops]) => [
      type,
      Object.fromEntries(Object.entries(ops).map(([op, s]) => [op, schema(s as z.ZodType)])),
    ]),
  );
  return {
    client: schema(ClientMessage),
    server: schema(ServerMessage),
    event: schema(SyncEvent),
    entity: schema(Entity),
    payloads,
    reject_codes: RejectCode.options,
    close_codes: CLOSE_CODES,
    limits: { ...protocolLimits, ...domainLimits },
    // Since v6: the dashboard's HTTP answers (protocol/dashboard.ts) are part of the wire too.
    dashboard: Object.fromEntries(
      Object.entries({ AuditPage, DeviceBoard, EntityHistory, MoneyReport, RejectionDetail, RejectionPage, RejectionTimeline }).map(([name, s]) => [name, schema(s)]),
    ),
    // Since v7: the lease routes' answers, the high-risk field table and the lease limits.
    leases: { LeaseList: schema(LeaseList), LeaseAnswerBody: schema(LeaseAnswerBody), groups: LEASE_GROUPS, limits: { LEASE_DEFAULT_TTL_MS, LEASE_MIN_TTL_MS, LEASE_MAX_TTL_MS, MAX_LEASES_PER_DEVICE, MAX_ACTIVE_LEASES } },
  };
}

export async function wireFingerprint(): Promise<string> {
  return sha256Hex(canonicalJson(wireDescription()));
}
