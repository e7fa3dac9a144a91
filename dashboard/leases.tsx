/**
 * Leases (protocol v7): who is editing which high-risk fields right now. One row per lease in force:
 * what (the record and its field group, in words), who holds it (user, role, device, and whether that
 * device is still connected), since when and how long it has left, counting down from the branch's
 * `server_time_ms` by the feed's injected monotonic clock (feed.ts `serverNow`), never this machine's
 * wall clock. Live: the welcome's leases, then every `leases` the branch sends; a lease whose time is
 * up leaves the list at once, before the branch's alarm says so.
 *
 * An owner or manager breaks a lease with a reason (kept in the branch's audit); the server decides.
 * A refusal or a failure is said in the dialog with the reason kept as typed; a lease that had
 * already ended (409 `not_held`) is an outcome, said beside the list. A viewer sees no button.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { formatCount } from "../domain/amounts.js";
import type { Lease } from "../protocol/messages.js";
import type { BranchFeed } from "./feed.js";
import { failureWords, useFeed, useTick } from "./hooks.js";
import { mayBreakLeases } from "./sessions.js";
import { ReasonDialog } from "./ui.js";
import { ago, deviceOnly, entityWords, formatDuration, formatTime, leaseGroupWords, leaseLeft, leaseWhat, shortId } from "./words.js";

/** The countdown moves once a second. */
const COUNTDOWN_TICK_MS = 1_000;

export const NO_LEASES = "No one is editing high-risk fields right now";

type Outcome = { tone: "ok" | "warn"; text: string };

/** A lease's key on screen (`data-lease`): one lease per group of a record. */
export const leaseKey = (l: Pick<Lease, "entity_id" | "group">) => `${l.entity_id}:${l.group}`;

export function LeasesView({ feed, onOpenHistory }: { feed: BranchFeed; onOpenHistory: (entityId: string) => void }) {
  useFeed(feed);
  useTick(COUNTDOWN_TICK_MS);
  const [breaking, setBreaking] = useState<Lease | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const outcomeRef = useRef<HTMLParagraphElement>(null);
  // The dialog's button is gone with its row: the outcome takes the focus, so it is read at once.
  useEffect(() => {
    if (outcome) outcomeRef.current?.focus();
  }, [outcome]);
  const leases = feed.leasesInForce();
  const now = feed.serverNow();
  const tz = feed.timeZone;
  const canBreak = mayBreakLeases(feed.signIn.role) && feed.leaseApi !== null;
  const live = feed.state === "open" && feed.welcome !== null;
  const holder = (l: Lease) => `${l.user_id} (${l.role})`;
  const stillInForce = (l: Lease) => leases?.some((x) => leaseKey(x) === leaseKey(l) && x.device_id === l.device_id) ?? false;

  return (
    <section class="card" aria-labelledby="leases-title" data-testid="leases">
      <h2 id="leases-title">Leases</h2>
      <p class="muted lead-note">
        A lease keeps two people from doing the same risky work twice: while a device holds one, changes to those fields sent from any other device are refused. Leases end when released, when their time is up, or when an owner or
        manager breaks one.
      </p>
      {!live && leases !== null && (
        <p class="notice warn" data-testid="leases-stale">
          Not connected: these are the leases as last known, and some may have ended. The list updates when the branch answers again.
        </p>
      )}
      <p class="summary" data-testid="leases-summary">
        {leases === null ? (live ? "This branch's server does not report leases (it speaks an older protocol)." : "Waiting for the branch…") : leases.length === 0 ? NO_LEASES : `${formatCount(leases.length)} ${leases.length === 1 ? "lease" : "leases"} in force, soonest to end first`}
      </p>
      {outcome && (
        <p class={`notice ${outcome.tone}`} role="status" tabIndex={-1} ref={outcomeRef} data-testid="lease-outcome">
          {outcome.text}
        </p>
      )}
      {leases !== null && leases.length > 0 && (
        <div class="scroll">
          <table class="data leases" data-testid="leases-table">
            <caption class="visually-hidden">Leases in force, soonest to end first</caption>
            <thead>
              <tr>
                <th scope="col">Record and fields</th>
                <th scope="col">Held by</th>
                <th scope="col">Device</th>
                <th scope="col">Since</th>
                <th scope="col">Time left</th>
                {canBreak && <th scope="col">Action</th>}
              </tr>
            </thead>
            <tbody>
              {leases.map((l) => {
                const device = feed.devices.get(l.device_id);
                const left = l.expires_at_ms - now;
                return (
                  <tr key={leaseKey(l)} data-lease={leaseKey(l)}>
                    <th scope="row">
                      <span class="lease-what">
                        {entityWords(l.entity_type)} <span class="mono" title={l.entity_id}>{shortId(l.entity_id)}</span> — {leaseGroupWords(l.group)}
                      </span>
                      <button type="button" class="link small-link" onClick={() => onOpenHistory(l.entity_id)} aria-label={`See the history of ${entityWords(l.entity_type)} ${shortId(l.entity_id)}`}>
                        History
                      </button>
                    </th>
                    <td>
                      {l.user_id} · {l.role}
                    </td>
                    <td class="nowrap">
                      <span class="mono" title={l.device_id}>{deviceOnly(device, l.device_id)}</span>
                      <span class="block">
                        {device === undefined ? (
                          <span class="muted">not seen by this dashboard</span>
                        ) : device.revoked_at !== null ? (
                          <span class="state bad">Revoked {ago(device.revoked_at, now)}</span>
                        ) : device.connected ? (
                          <span class="state ok">Connected</span>
                        ) : (
                          <span class="state warn">
                            Offline, last seen <time dateTime={device.last_seen_at}>{ago(device.last_seen_at, now)}</time>
                          </span>
                        )}
                      </span>
                    </td>
                    <td class="nowrap">
                      <time dateTime={new Date(l.acquired_at_ms).toISOString()}>{formatTime(l.acquired_at_ms, tz)}</time>
                      <span class="block muted">for {formatDuration(now - l.acquired_at_ms)}</span>
                    </td>
                    <td class="nowrap">
                      <time dateTime={new Date(l.expires_at_ms).toISOString()} title={`Ends at ${formatTime(l.expires_at_ms, tz)} unless renewed`} class={left < 10_000 ? "state warn" : undefined} data-testid="lease-left">
                        {leaseLeft(l.expires_at_ms, now)}
                      </time>
                    </td>
                    {canBreak && (
                      <td>
                        <button type="button" class="secondary small" onClick={() => setBreaking(l)} aria-label={`Break ${holder(l)}'s lease on ${leaseWhat(l)}`}>
                          Break…
                        </button>
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {breaking && feed.leaseApi && (
        <ReasonDialog
          title={`Break ${breaking.user_id}'s lease?`}
          detail={
            `${leaseWhat(breaking)} are leased to ${holder(breaking)} on device ${deviceOnly(feed.devices.get(breaking.device_id), breaking.device_id)}. ` +
            "Breaking it ends it at once: every connected device is told, and changes anyone sends to these fields are then judged as usual. The reason is kept in the branch's audit." +
            (stillInForce(breaking) ? "" : " This lease seems to have just ended by itself: there may be nothing left to break.")
          }
          label="Reason (kept in the audit)"
          action="Break lease"
          onCancel={() => setBreaking(null)}
          onSubmit={async (reason) => {
            const api = feed.leaseApi;
            if (!api) return "This dashboard cannot reach the branch's lease routes.";
            const r = await api.breakLease(breaking.entity_id, breaking.group, reason);
            // No answer, a refused sign-in, an answer that does not decode: the dialog stays, with the reason as typed.
            if (!r.ok) return r.status === 0 ? "No answer from the server: the lease may not have been broken. Your reason is kept; try again when the connection is back." : failureWords(r);
            const v = r.value;
            if (v.outcome === "broken") {
              feed.leaseEnded(v.lease ?? breaking);
              setOutcome({ tone: "ok", text: `Broke ${holder(breaking)}'s lease on ${leaseWhat(breaking)}. Every connected device has been told; the reason is in the audit: “${reason}”.` });
              setBreaking(null);
              return null;
            }
            if (v.refusal === "not_held") {
              feed.leaseEnded(breaking);
              setOutcome({ tone: "warn", text: `Nothing was broken: ${holder(breaking)}'s lease on ${leaseWhat(breaking)} had already ended (released or run out). Your reason was not recorded: “${reason}”.` });
              setBreaking(null);
              return null;
            }
            if (v.refusal === "forbidden") return `Your role may not break leases: ${v.message}`;
            return `The branch refused: ${v.message}`;
          }}
        />
      )}
    </section>
  );
}
