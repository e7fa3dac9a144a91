/** Sync made visible: state, pending work and its age, cursor, last sync, bootstrap progress, retry. */
import type { AppStatus } from "../app/api.js";
import { describeSkew } from "../../domain/clock.js";
import { clockWarning, describeStop, type StopCause, stopCause } from "../../machines/status-words.js";
import { useApi, useStatus } from "./hooks.js";

/** How long ago, measured on the core's clock (the status carries it; the renderer has no clock of its own). */
const ago = (iso: string | null, nowMs: number) => (iso ? `${Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000))} s ago` : "never");

export function SyncPanel() {
  const api = useApi();
  const status = useStatus();
  if (!status) return <section class="card">Loading…</section>;
  const { summary, sync, identity, bootstrap, clock } = status;
  const stopped = stopCause(sync);
  const clockWrong = clockWarning(clock.skew_ms);
  return (
    <section class="card" aria-labelledby="sync-title">
      <h2 id="sync-title">Sync</h2>
      {stopped && (
        <div class="notice bad" role="alert" data-testid="sync-stopped">
          <strong>Sync stopped: {describeStop(stopped)}.</strong> {whatToDo(stopped, summary.pending)}
        </div>
      )}
      {clockWrong && (
        <div class="notice warn" role="alert" data-testid="clock-warning">
          {clockWrong}
        </div>
      )}
      <table>
        <tbody>
          <tr><th>State</th><td data-testid="sync-state">{status.paused ? "offline (paused)" : sync.kind}</td></tr>
          <tr><th>Branch · device</th><td>{identity ? `${identity.branch_id} · ${identity.device_id} · ${identity.user_id} (${identity.role})` : "not set up"}</td></tr>
          <tr><th>Pending changes</th><td data-testid="pending">{summary.pending}</td></tr>
          <tr><th>Oldest pending</th><td>{ago(summary.oldest_pending_at, clock.now_ms)}</td></tr>
          <tr><th>Branch day</th><td data-testid="branch-day">{clock.today} ({clock.time_zone})</td></tr>
          <tr><th>Clock</th><td data-testid="clock-skew">{skewText(clock.skew_ms)}</td></tr>
          <tr><th>Cursor</th><td>{summary.cursor}</td></tr>
          <tr><th>Last confirmed</th><td>{ago(summary.last_confirmed_at, clock.now_ms)}</td></tr>
          <tr><th>Open conflicts</th><td>{summary.conflicts_open}</td></tr>
        </tbody>
      </table>
      {bootstrap && (
        <label>
          Bootstrap: {bootstrap.phase} {bootstrap.phase === "download" ? `${bootstrap.bytes}/${bootstrap.total_bytes} bytes` : `${bootstrap.entities}/${bootstrap.total_entities} entities`}
          <progress max={bootstrap.phase === "download" ? bootstrap.total_bytes : bootstrap.total_entities} value={bootstrap.phase === "download" ? bootstrap.bytes : bootstrap.entities} />
        </label>
      )}
      <div class="row" style="margin-top:1rem">
        {(!stopped || stopped.kind === "replaced") && (
          <button class="secondary" onClick={() => void api.call({ method: "retryNow" })}>Retry now</button>
        )}
        <button class="secondary" onClick={() => void api.call({ method: "setOnline", online: status.paused })}>
          {status.paused ? "Go online" : "Work offline"}
        </button>
      </div>
    </section>
  );
}

/** What the person at this till can do about it (the CLI says the same in commands). */
function whatToDo(cause: StopCause, pending: number): string {
  const kept = pending > 0 ? ` ${pending} change${pending === 1 ? "" : "s"} not yet sent stay${pending === 1 ? "s" : ""} on this computer.` : "";
  switch (cause.kind) {
    case "device_revoked":
    case "install_conflict":
      return `Ask a manager for a token for a new device, then set this till up again with it.${kept}`;
    case "token_refused":
      return `Ask a manager for a new device token for this till.${kept}`;
    case "update_required":
      return `Update the app; nothing is lost meanwhile.${kept}`;
    case "replaced":
      return "It is open in another window or on another computer: press Retry now to use it here instead (the other one stops).";
  }
}

function skewText(skewMs: AppStatus["clock"]["skew_ms"]): string {
  return skewMs === null ? "not compared with the server's yet" : `${describeSkew(skewMs)} the server's at the last connection`;
}
