/**
 * Devices: every device of the branch, live (the feed keeps them in place as `observed` arrives):
 * connected now or when last seen, who and in what role, the app, how far behind the branch's head
 * its cursor is, what waits in its queue and since when, its clock against the server's, when its
 * token expires, and whether it was revoked. An owner or manager revokes a device with a reason; the
 * server decides (a viewer sees no button, and a refusal is said in the dialog).
 */
import { useState } from "preact/hooks";
import { formatCount } from "../domain/amounts.js";
import { clockIsWrong, describeSkew } from "../domain/clock.js";
import type { DevicePresence } from "../protocol/observe.js";
import type { BranchFeed } from "./feed.js";
import { failureWords, useFeed, useTick } from "./hooks.js";
import { mayRevoke } from "./sessions.js";
import { ReasonDialog } from "./ui.js";
import { ago, deviceLabel, formatDuration, formatTime, shortId } from "./words.js";

export function DevicesView({ feed }: { feed: BranchFeed }) {
  useFeed(feed);
  useTick();
  const [revoking, setRevoking] = useState<DevicePresence | null>(null);
  const devices = feed.deviceList();
  const now = feed.serverNow();
  const tz = feed.timeZone;
  const canRevoke = mayRevoke(feed.signIn.role);
  const connected = devices.filter((d) => d.connected).length;
  return (
    <section class="card" aria-labelledby="devices-title">
      <h2 id="devices-title">Devices</h2>
      <p class="muted" data-testid="devices-summary">
        {feed.watching ? `${formatCount(connected)} of ${formatCount(devices.length)} connected now · head ${formatCount(feed.head)}` : "Waiting for the branch…"}
      </p>
      <div class="scroll">
        <table class="data devices" data-testid="devices-table">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">User · role</th>
              <th scope="col">Connection</th>
              <th scope="col">App</th>
              <th scope="col" class="num">Behind head</th>
              <th scope="col">Waiting to send</th>
              <th scope="col">Clock</th>
              <th scope="col">Token expires</th>
              <th scope="col">Status</th>
            </tr>
          </thead>
          <tbody>
            {devices.map((d) => {
              const me = d.device_id === feed.signIn.device_id;
              // This dashboard follows the branch live and never pulls history: its cursor says nothing.
              const lag = d.cursor === null || me ? null : Math.max(0, feed.head - d.cursor);
              return (
                <tr key={d.device_id} data-device={d.device_id} class={d.revoked_at ? "revoked" : undefined}>
                  <th scope="row" class="nowrap">
                    <span class="mono" title={d.device_id}>{shortId(d.device_id)}</span>
                    {me && <span class="badge block">this dashboard</span>}
                  </th>
                  <td>
                    {d.user_id} · {d.role}
                  </td>
                  <td>
                    {d.connected ? (
                      <span class="state ok">Connected</span>
                    ) : (
                      <span>
                        Last seen <time dateTime={d.last_seen_at} title={formatTime(d.last_seen_at, tz)}>{ago(d.last_seen_at, now)}</time>
                      </span>
                    )}
                  </td>
                  <td>{d.app ?? "—"}</td>
                  <td class="num">{lag === null ? "—" : lag === 0 ? "up to date" : formatCount(lag)}</td>
                  <td>
                    {d.pending === null ? "—" : d.pending === 0 ? "nothing" : (
                      <span class={d.pending > 0 ? "state warn" : undefined}>
                        {formatCount(d.pending)}
                        {d.oldest_pending_at ? `, oldest ${formatDuration(now - Date.parse(d.oldest_pending_at))}` : ""}
                      </span>
                    )}
                  </td>
                  <td class="nowrap">{d.clock_skew_ms === null ? "—" : <span class={clockIsWrong(d.clock_skew_ms) ? "state bad" : undefined}>{Math.abs(d.clock_skew_ms) < 1000 ? "in step" : `${describeSkew(d.clock_skew_ms)} server`}</span>}</td>
                  <td class="nowrap">{d.token_expires_at ? <time dateTime={d.token_expires_at} title={formatTime(d.token_expires_at, tz)}>{Date.parse(d.token_expires_at) <= now ? "expired" : `in ${formatDuration(Date.parse(d.token_expires_at) - now)}`}</time> : "—"}</td>
                  <td>
                    {d.revoked_at ? (
                      <span class="revoked-note">
                        <span class="state bad">
                          Revoked {ago(d.revoked_at, now)}
                          {d.revoked_by ? ` by ${d.revoked_by}` : ""}
                        </span>
                        {d.revoke_reason ? `: ${d.revoke_reason}` : ""}
                      </span>
                    ) : canRevoke && !me ? (
                      <button type="button" class="secondary small" onClick={() => setRevoking(d)} aria-label={`Revoke ${deviceLabel(d, d.device_id)}`}>
                        Revoke…
                      </button>
                    ) : (
                      "Active"
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      {devices.length === 0 && feed.watching && <p class="muted">No device has connected to this branch yet.</p>}
      {revoking && (
        <ReasonDialog
          title={`Revoke ${deviceLabel(revoking, revoking.device_id)}?`}
          detail={`From now on the server refuses this device (${revoking.user_id}, ${revoking.role}${revoking.app ? `, ${revoking.app}` : ""}); it is disconnected at once and its queued changes stay on it. The reason is kept in the branch's audit.`}
          label="Reason (kept in the audit)"
          action="Revoke device"
          onCancel={() => setRevoking(null)}
          onSubmit={async (reason) => {
            const r = await feed.link.api.revoke(revoking.device_id, reason);
            if (!r.ok) return failureWords(r);
            feed.updateDevice({ ...revoking, connected: false, revoked_at: r.value.revoked_at, revoked_by: feed.signIn.user_id, revoke_reason: reason });
            setRevoking(null);
            return null;
          }}
        />
      )}
    </section>
  );
}
