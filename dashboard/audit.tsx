/**
 * Audit: the branch's append-only audit log, newest first, a page at a time, filtered by kind and by
 * device. When the audit grows (`observed.audit_head`) the first page is read again, throttled.
 */
import { useEffect, useState } from "preact/hooks";
import { LIVE_REFRESH_MS } from "./conflicts.js";
import { type BranchFeed, throttle } from "./feed.js";
import { useFeed, useLoad } from "./hooks.js";
import type { AuditQuery } from "./link.js";
import { LoadState, SelectField } from "./ui.js";
import { codeWords, deviceLabel, formatTime, shortId } from "./words.js";

const PAGE = 50;
/** The kinds the branch writes (durable/core/audit.ts AuditKind; the dashboard does not import the server). */
export const AUDIT_KINDS = [
  "rejection", "permission_denied", "void", "correction", "delete", "device_first_seen", "device_revoked", "install_conflict", "clock_skew",
  "protocol_error", "snapshot_export", "enrollment_issued", "enrollment_used", "enrollment_refused", "conflict_resolved", "settings_changed", "token_failure",
  "lease_broken", "compaction", "day_closed", "day_amended", "drawer_counted",
] as const;

export function AuditView({ feed }: { feed: BranchFeed }) {
  useFeed(feed);
  const [kind, setKind] = useState("");
  const [device, setDevice] = useState("");
  const [pages, setPages] = useState<Array<number | undefined>>([undefined]);
  const before = pages[pages.length - 1];
  const query: AuditQuery = { limit: PAGE, ...(before === undefined ? {} : { before }), ...(kind ? { kind } : {}), ...(device ? { device } : {}) };
  const { data, reload } = useLoad(() => feed.link.api.audit(query), JSON.stringify(query));
  useEffect(() => {
    const refresh = throttle(reload, LIVE_REFRESH_MS);
    const off = feed.onAudit(refresh);
    return () => {
      off();
      refresh.cancel();
    };
  }, [feed, reload]);
  const tz = feed.timeZone;
  return (
    <section class="card" aria-labelledby="audit-title">
      <h2 id="audit-title">Audit</h2>
      <form class="row filters" aria-label="Filter the audit" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          id="audit-kind"
          label="Kind"
          value={kind}
          onChange={(v) => {
            setKind(v);
            setPages([undefined]);
          }}
        >
          <option value="">Every kind</option>
          {AUDIT_KINDS.map((k) => (
            <option key={k} value={k}>
              {codeWords(k)}
            </option>
          ))}
        </SelectField>
        <SelectField
          id="audit-device"
          label="Device"
          value={device}
          onChange={(v) => {
            setDevice(v);
            setPages([undefined]);
          }}
        >
          <option value="">Every device</option>
          {feed.deviceList().map((d) => (
            <option key={d.device_id} value={d.device_id}>
              {deviceLabel(d, d.device_id)}
            </option>
          ))}
        </SelectField>
      </form>
      <LoadState data={data} what="the audit" />
      {data.kind === "ready" && (
        <>
          <div class="scroll">
            <table class="data audit" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Kind</th>
                  <th scope="col">Who</th>
                  <th scope="col">Record</th>
                  <th scope="col">What happened</th>
                </tr>
              </thead>
              <tbody>
                {data.value.entries.map((a) => (
                  <tr key={a.id}>
                    <td>
                      <time dateTime={a.at}>{formatTime(a.at, tz)}</time>
                    </td>
                    <td>
                      {codeWords(a.kind)}
                      {a.code && a.code !== a.kind ? <span class="muted"> · {codeWords(a.code)}</span> : null}
                    </td>
                    <td>
                      {a.user_id ? `${a.user_id}${a.role ? ` (${a.role})` : ""}` : ""}
                      {a.user_id && a.device_id ? " on " : ""}
                      {a.device_id ? <span class="mono">{shortId(a.device_id)}</span> : a.user_id ? "" : "—"}
                    </td>
                    <td>{a.entity_id ? <span class="mono">{a.entity_type ?? ""} {shortId(a.entity_id)}</span> : "—"}</td>
                    <td class="message">{a.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {data.value.entries.length === 0 && <p class="muted">No audit entries{kind || device ? " match these filters" : ""}.</p>}
          <nav class="pager" aria-label="Audit pages">
            <p data-testid="page-range">{pages.length === 1 ? `Newest ${data.value.entries.length}` : `Page ${pages.length}`}</p>
            <button type="button" class="secondary" disabled={pages.length === 1} onClick={() => setPages(pages.slice(0, -1))}>
              ← Newer
            </button>
            <button type="button" class="secondary" disabled={data.value.next_before === null} onClick={() => setPages([...pages, data.value.next_before ?? undefined])}>
              Older →
            </button>
          </nav>
        </>
      )}
    </section>
  );
}
