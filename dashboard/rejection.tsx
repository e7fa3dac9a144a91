/**
 * One rejection in full: what the device attempted beside the server's entity at the version it was
 * judged against, field by field with the differences marked (in words and weight, not colour
 * alone); who made the winning change and when (`last_change`); the chain of `depends_on_rejected`
 * (the rejection it depended on, and those that depended on it); a way to the record's history.
 */
import { useEffect, useRef } from "preact/hooks";
import type { RejectionDetail } from "../protocol/dashboard.js";
import type { RejectionSummary } from "../protocol/observe.js";
import type { BranchFeed } from "./feed.js";
import { useLoad } from "./hooks.js";
import { LoadState } from "./ui.js";
import { codeWords, deviceLabel, deviceOnly, entityWords, formatTime, shortId } from "./words.js";

export interface FieldRow {
  field: string;
  attempted: string;
  server: string;
  differs: boolean;
}

/** A value for a table cell: text as it is, nothing as "—", anything else as compact JSON (cut at 200 characters). */
export function showValue(v: unknown): string {
  if (v === undefined || v === null) return "—";
  if (typeof v === "string") return v === "" ? "(empty)" : v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  const json = JSON.stringify(v);
  return json.length > 200 ? `${json.slice(0, 199)}…` : json;
}

/**
 * The attempted payload's fields beside the same fields of the server's entity (its `data`), then
 * the version each side had. A delete or void names only its reason; the server's side then says
 * whether the record was already deleted or voided.
 */
export function compareFields(d: Pick<RejectionDetail, "attempted" | "server_entity">): FieldRow[] {
  const rows: FieldRow[] = [];
  const attempted = d.attempted;
  const server = d.server_entity;
  const serverData = (server && server.data ? (server.data as Record<string, unknown>) : {}) as Record<string, unknown>;
  const payload = attempted && typeof attempted.payload === "object" && attempted.payload !== null ? (attempted.payload as Record<string, unknown>) : {};
  const fields = attempted?.operation === "create" || attempted?.operation === "update" ? Object.keys(payload) : [];
  for (const f of fields) {
    const a = showValue(payload[f]);
    const s = server ? showValue(serverData[f]) : "—";
    rows.push({ field: f, attempted: a, server: s, differs: server !== null && JSON.stringify(payload[f] ?? null) !== JSON.stringify(serverData[f] ?? null) });
  }
  if (attempted && (attempted.operation === "delete" || attempted.operation === "void")) {
    rows.push({ field: "reason", attempted: showValue(payload.reason), server: "—", differs: false });
  }
  if (attempted) {
    const serverState = server === null ? "does not exist" : server.deleted ? "deleted" : server.entity_type === "pos_order" && server.void ? "voided" : "live";
    rows.push({ field: "state", attempted: attempted.operation, server: serverState, differs: server === null || serverState !== "live" });
    const base = attempted.base_version;
    // No base version: a create, or a change that builds on an earlier change of its own device (depends_on).
    const chained = base === null && attempted.operation !== "create";
    rows.push({
      field: "version",
      attempted: base !== null ? `based on ${base}` : chained ? "after an earlier change of its own" : "none (new)",
      server: server ? String(server.version) : "—",
      differs: server !== null && base !== null && base !== server.version,
    });
  }
  return rows;
}

export function RejectionDetailPanel({ feed, eventId, onSelect, onOpenHistory }: { feed: BranchFeed; eventId: string; onSelect: (eventId: string | null) => void; onOpenHistory: (entityId: string) => void }) {
  const { data } = useLoad(() => feed.link.api.rejection(eventId), eventId);
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    if (data.kind === "ready") heading.current?.focus();
  }, [data.kind]);
  const tz = feed.timeZone;
  return (
    <section class="card detail" aria-labelledby="detail-title" data-testid="rejection-detail">
      <div class="detail-head">
        <h2 id="detail-title" ref={heading} tabIndex={-1}>
          {data.kind === "ready" ? `${codeWords(data.value.summary.code)}: ${entityWords(data.value.summary.entity_type)} ${data.value.summary.operation ?? ""}` : "Rejection"}
        </h2>
        <button type="button" class="secondary" onClick={() => onSelect(null)}>
          Close
        </button>
      </div>
      <LoadState data={data} what="the rejection" />
      {data.kind === "ready" && <Detail d={data.value} feed={feed} tz={tz} onSelect={onSelect} onOpenHistory={onOpenHistory} />}
    </section>
  );
}

function Detail({ d, feed, tz, onSelect, onOpenHistory }: { d: RejectionDetail; feed: BranchFeed; tz: string; onSelect: (eventId: string) => void; onOpenHistory: (entityId: string) => void }) {
  const s = d.summary;
  const rows = compareFields(d);
  const differing = rows.filter((r) => r.differs).length;
  const lc = d.last_change;
  return (
    <>
      <p class="lead">{s.message}</p>
      <dl class="facts">
        <dt>Decided</dt>
        <dd>
          <time dateTime={s.decided_at}>{formatTime(s.decided_at, tz)}</time>
        </dd>
        <dt>Sent by</dt>
        <dd>
          {s.user_id ? `${s.user_id} on ${deviceOnly(feed.devices.get(s.device_id), s.device_id)}` : deviceLabel(feed.devices.get(s.device_id), s.device_id)}
        </dd>
        <dt>Record</dt>
        <dd>
          {entityWords(s.entity_type)} <span class="mono">{s.entity_id}</span>{" "}
          <button type="button" class="link" onClick={() => onOpenHistory(s.entity_id)} data-testid="open-history">
            See this record's history
          </button>
        </dd>
      </dl>
      {lc && (
        <p class="who" data-testid="winning-change">
          The server's version {lc.operation === "create" ? "was created" : lc.operation === "update" ? "was last changed" : `was ${lc.operation === "void" ? "voided" : "deleted"}`} by <strong>{lc.user_id}</strong> on {deviceOnly(feed.devices.get(lc.device_id), lc.device_id)} at{" "}
          <time dateTime={lc.committed_at}>{formatTime(lc.committed_at, tz)}</time> (seq {lc.seq}){lc.reason ? `, because “${lc.reason}”` : ""}.
        </p>
      )}
      {rows.length > 0 ? (
        <table class="compare" data-testid="compare-table">
          <caption>
            What the device attempted beside the server's {entityWords(s.entity_type).toLowerCase()}
            {d.server_version ? ` at version ${d.server_version}` : ""}
            {differing > 0 ? ` — ${differing} ${differing === 1 ? "field differs" : "fields differ"}, marked “Differs”` : ""}
          </caption>
          <thead>
            <tr>
              <th scope="col">Field</th>
              <th scope="col">Attempted</th>
              <th scope="col">Server</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.field} class={r.differs ? "differs" : undefined}>
                <th scope="row">
                  {r.field}
                  {r.differs && <span class="differs-mark">Differs</span>}
                </th>
                <td>{r.attempted}</td>
                <td>{r.server}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p class="muted">{d.attempted_note ?? "The attempted change was not kept."}</p>
      )}
      <div class="chain" data-testid="rejection-chain">
        <h3>Chain of rejections</h3>
        {d.cause ? (
          <p>
            Rejected because it depended on an earlier rejected change: <ChainLink r={d.cause} tz={tz} onSelect={onSelect} />
          </p>
        ) : (
          <p class="muted">It depended on no rejected change.</p>
        )}
        {d.caused.length > 0 ? (
          <>
            <p>
              {d.caused.length === 1 ? "1 later change was rejected because it depended on this one:" : `${d.caused.length} later changes were rejected because they depended on this one:`}
            </p>
            <ol>
              {d.caused.map((c) => (
                <li key={c.id}>
                  <ChainLink r={c} tz={tz} onSelect={onSelect} />
                </li>
              ))}
            </ol>
          </>
        ) : (
          <p class="muted">No later change depended on it.</p>
        )}
      </div>
      <details class="support">
        <summary>Raw data</summary>
        <div class="sides">
          <div>
            <h4>Attempted</h4>
            <pre>{d.attempted ? JSON.stringify(d.attempted, null, 2) : (d.attempted_note ?? "not kept")}</pre>
          </div>
          <div>
            <h4>Server's entity now</h4>
            <pre>{d.current_entity ? JSON.stringify(d.current_entity, null, 2) : "none"}</pre>
          </div>
        </div>
      </details>
    </>
  );
}

function ChainLink({ r, tz, onSelect }: { r: RejectionSummary; tz: string; onSelect: (eventId: string) => void }) {
  return (
    <button type="button" class="link" onClick={() => onSelect(r.event_id)}>
      {codeWords(r.code)} · {entityWords(r.entity_type)} {r.operation ?? ""} <span class="mono">{shortId(r.entity_id)}</span> at {formatTime(r.decided_at, tz)}
    </button>
  );
}
