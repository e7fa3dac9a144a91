/**
 * Sync made visible, in a cashier's words (machines/status-words.ts, the CLI's words too): what is
 * happening, when the next try is due (counted down on the core's clock), what waits to be sent,
 * and changes the server did not accept. Ids, state names and close codes are for support only,
 * behind "Details for support".
 */
import type { AppStatus } from "../app/api.js";
import { describeSkew } from "../../domain/clock.js";
import { formatCount, plural } from "../../domain/amounts.js";
import { clockWarning, conflictWords, keptWords, retryInSeconds, statusWords, stopCause } from "../../machines/status-words.js";
import { useApi, useStatus } from "./hooks.js";

/** How long ago, measured on the core's clock (the status carries it; the renderer has no clock of its own). */
function ago(iso: string | null, nowMs: number): string {
  if (!iso) return "never";
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3_600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3_600)} h ${Math.floor((s % 3_600) / 60)} min ago`;
}

export function SyncPanel({ onOpenConflicts, onOpenActivity }: { onOpenConflicts: () => void; onOpenActivity: () => void }) {
  const api = useApi();
  const status = useStatus();
  if (!status) return <section class="card">Loading…</section>;
  const { summary, sync, identity, bootstrap, clock } = status;
  const stopped = stopCause(sync);
  const words = statusWords(sync, { paused: status.paused, pending: summary.pending, nowMs: clock.now_ms });
  const clockWrong = clockWarning(clock.skew_ms);
  const rejected = conflictWords(summary.conflicts_open);
  return (
    <section class="card" aria-labelledby="sync-title">
      <h2 id="sync-title">Sync</h2>
      {stopped ? (
        <div class="notice bad" role="alert" data-testid="sync-stopped">
          <strong>{words.headline}</strong>
          {[words.advice, keptWords(summary.pending)].filter(Boolean).map((s) => ` ${s}`).join("")}
        </div>
      ) : (
        <p class={`headline ${words.tone}`} data-testid="sync-words">
          {words.headline}
        </p>
      )}
      {clockWrong && (
        <div class="notice warn" role="alert" data-testid="clock-warning">
          {clockWrong}
        </div>
      )}
      {rejected && (
        <p class="notice warn" data-testid="sync-rejected">
          {rejected}.{" "}
          <button class="link" onClick={onOpenConflicts}>
            Open the conflict inbox
          </button>
        </p>
      )}
      <table>
        <tbody>
          <tr><th scope="row">Waiting to be sent</th><td data-testid="pending">{summary.pending === 0 ? "nothing" : plural(summary.pending, "change")}</td></tr>
          <tr><th scope="row">Oldest waiting</th><td>{ago(summary.oldest_pending_at, clock.now_ms)}</td></tr>
          <tr><th scope="row">Last confirmed by the server</th><td>{ago(summary.last_confirmed_at, clock.now_ms)}</td></tr>
          <tr><th scope="row">Not accepted by the server</th><td data-testid="conflicts-open">{summary.conflicts_open === 0 ? "none" : `${formatCount(summary.conflicts_open)} to review`}</td></tr>
          <tr><th scope="row">Branch day</th><td data-testid="branch-day">{clock.today} ({clock.time_zone})</td></tr>
          <tr><th scope="row">Clock</th><td data-testid="clock-skew">{skewText(clock.skew_ms)}</td></tr>
          <tr><th scope="row">Signed in as</th><td>{identity ? `a ${identity.role}` : "not set up"}</td></tr>
        </tbody>
      </table>
      {bootstrap && (
        <label>
          {bootstrap.phase === "download" ? `Downloading the branch's records: ${formatCount(Math.round(bootstrap.bytes / 1024))} of ${formatCount(Math.round(bootstrap.total_bytes / 1024))} KB` : `Setting up: ${formatCount(bootstrap.entities)} of ${formatCount(bootstrap.total_entities)} records`}
          <progress max={bootstrap.phase === "download" ? bootstrap.total_bytes : bootstrap.total_entities} value={bootstrap.phase === "download" ? bootstrap.bytes : bootstrap.entities} />
        </label>
      )}
      <div class="row" style="margin-top:1rem">
        {(!stopped || stopped.kind === "replaced") && !status.paused && (
          <button class="secondary" onClick={() => void api.call({ method: "retryNow" })}>Retry now</button>
        )}
        <button class="secondary" onClick={() => void api.call({ method: "setOnline", online: status.paused })}>
          {status.paused ? "Go online" : "Work offline"}
        </button>
        <button class="secondary" onClick={onOpenActivity}>
          See every change (Sync activity)
        </button>
      </div>
      <SupportDetails status={status} />
    </section>
  );
}

/** The internal names, for whoever helps this till over the phone: closed unless opened. */
function SupportDetails({ status }: { status: AppStatus }) {
  const { sync, identity, summary, clock } = status;
  const rows: Array<[string, string]> = [
    ["state", status.paused ? `${sync.kind} (paused)` : sync.kind],
    ...(sync.kind === "syncing" ? [["phase", sync.phase] as [string, string]] : []),
    ...(sync.kind === "connecting" || sync.kind === "backoff" ? [["attempt", String(sync.attempt)] as [string, string]] : []),
    ...(sync.kind === "backoff" ? [["last close", sync.lastClose ? `${sync.lastClose.code} ${sync.lastClose.reason}` : "none"] as [string, string]] : []),
    ...(sync.kind === "backoff" ? [["next try in", `${retryInSeconds(sync, clock.now_ms) ?? "?"} s`] as [string, string]] : []),
    ...(sync.kind === "auth_failed" ? [["reason", sync.reason] as [string, string]] : []),
    ["branch", identity?.branch_id ?? "—"],
    ["device", identity?.device_id ?? "—"],
    ["user", identity?.user_id ?? "—"],
    ["cursor", String(summary.cursor)],
    ["pending", String(summary.pending)],
    ["conflicts open", String(summary.conflicts_open)],
  ];
  return (
    <details class="support" data-testid="support-details">
      <summary>Details for support</summary>
      <table aria-label="Details for support">
        <tbody>
          {rows.map(([name, value]) => (
            <tr key={name}>
              <th scope="row">{name}</th>
              <td><code>{value}</code></td>
            </tr>
          ))}
        </tbody>
      </table>
    </details>
  );
}

function skewText(skewMs: AppStatus["clock"]["skew_ms"]): string {
  return skewMs === null ? "not compared with the server's yet" : `${describeSkew(skewMs)} the server's at the last connection`;
}
