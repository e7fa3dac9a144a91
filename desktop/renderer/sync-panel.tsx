/** Sync made visible: state, pending work and its age, cursor, last sync, bootstrap progress, retry. */
import { useApi, useStatus } from "./app.js";

/** How long ago, measured on the core's clock (the status carries it; the renderer has no clock of its own). */
const ago = (iso: string | null, nowMs: number) => (iso ? `${Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000))} s ago` : "never");

export function SyncPanel() {
  const api = useApi();
  const status = useStatus();
  if (!status) return <section class="card">Loading…</section>;
  const { summary, sync, identity, bootstrap, clock } = status;
  return (
    <section class="card" aria-labelledby="sync-title">
      <h2 id="sync-title">Sync</h2>
      <table>
        <tbody>
          <tr><th>State</th><td data-testid="sync-state">{status.paused ? "offline (paused)" : sync.kind}</td></tr>
          <tr><th>Branch · device</th><td>{identity ? `${identity.branch_id} · ${identity.device_id} · ${identity.user_id} (${identity.role})` : "not set up"}</td></tr>
          <tr><th>Pending changes</th><td data-testid="pending">{summary.pending}</td></tr>
          <tr><th>Oldest pending</th><td>{ago(summary.oldest_pending_at, clock.now_ms)}</td></tr>
          <tr><th>Branch day</th><td data-testid="branch-day">{clock.today} ({clock.time_zone})</td></tr>
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
        <button class="secondary" onClick={() => void api.call({ method: "retryNow" })}>Retry now</button>
        <button class="secondary" onClick={() => void api.call({ method: "setOnline", online: status.paused })}>
          {status.paused ? "Go online" : "Work offline"}
        </button>
      </div>
    </section>
  );
}
