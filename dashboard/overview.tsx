/**
 * Several branches side by side: one card per signed-in branch with its connection, devices
 * connected now, the backlog waiting on its devices, rejections in the last hour (server clock), the
 * leases in force (protocol v7) and its head, all live. A card opens its branch.
 */
import { useEffect } from "preact/hooks";
import { formatCount } from "../domain/amounts.js";
import { LIVE_REFRESH_MS } from "./conflicts.js";
import { type BranchFeed, throttle } from "./feed.js";
import { useFeed, useLoad, useTick } from "./hooks.js";
import { connectionWords } from "./status.js";
import { formatDuration } from "./words.js";

const HOUR_MS = 3_600_000;

export function Overview({ feeds, onOpen, onSignOut }: { feeds: readonly BranchFeed[]; onOpen: (branch: string) => void; onSignOut: (branch: string) => void }) {
  return (
    <section aria-labelledby="overview-title">
      <h2 id="overview-title" class="page-title">
        Branches
      </h2>
      <div class="overview" data-testid="overview">
        {feeds.map((f) => (
          <BranchCard key={f.signIn.branch} feed={f} onOpen={() => onOpen(f.signIn.branch)} onSignOut={() => onSignOut(f.signIn.branch)} />
        ))}
      </div>
    </section>
  );
}

function BranchCard({ feed, onOpen, onSignOut }: { feed: BranchFeed; onOpen: () => void; onSignOut: () => void }) {
  useFeed(feed);
  // A lease whose time is up leaves the count before the branch's alarm says so.
  useTick();
  const lastHour = useLoad(() => feed.link.api.rejections({ from: new Date(feed.serverNow() - HOUR_MS).toISOString(), limit: 1 }), `${feed.signIn.branch}|${feed.watching}`);
  useEffect(() => {
    const refresh = throttle(lastHour.reload, LIVE_REFRESH_MS);
    const off = feed.onRejections(refresh);
    return () => {
      off();
      refresh.cancel();
    };
  }, [feed, lastHour.reload]);
  const devices = feed.deviceList();
  const connected = devices.filter((d) => d.connected).length;
  const now = feed.serverNow();
  const oldest = devices.reduce<number | null>((min, d) => (d.oldest_pending_at && d.revoked_at === null && (d.pending ?? 0) > 0 ? Math.min(min ?? Infinity, Date.parse(d.oldest_pending_at)) : min), null);
  const backlog = feed.backlog();
  const words = connectionWords(feed);
  const leases = feed.leasesInForce();
  const titleId = `card-${feed.signIn.branch}`;
  const rejections = lastHour.data.kind === "ready" ? formatCount(lastHour.data.value.total) : lastHour.data.kind === "failed" ? "?" : "…";
  return (
    <article class="card branch-card" aria-labelledby={titleId} data-branch={feed.signIn.branch}>
      <h3 id={titleId}>
        {feed.welcome?.studio.name && feed.welcome.studio.name !== feed.signIn.branch ? `${feed.welcome.studio.name} · ` : ""}
        {feed.signIn.branch}
      </h3>
      <p>
        <span class={`pill ${words.tone}`}>{words.text}</span> <span class="muted">as {feed.signIn.user_id} ({feed.signIn.role})</span>
      </p>
      <dl class="figures">
        <div>
          <dt>Connected devices</dt>
          <dd data-testid="card-connected">
            {formatCount(connected)} <span class="muted">of {formatCount(devices.length)}</span>
          </dd>
        </div>
        <div>
          <dt>Backlog</dt>
          <dd data-testid="card-backlog" class={backlog > 0 ? "warn" : undefined}>
            {formatCount(backlog)}
            {oldest !== null && <span class="muted"> oldest {formatDuration(now - oldest)}</span>}
          </dd>
        </div>
        <div>
          <dt>Rejections, last hour</dt>
          <dd data-testid="card-rejections" class={rejections !== "0" && rejections !== "…" ? "bad" : undefined}>
            {rejections}
          </dd>
        </div>
        <div>
          <dt>Leases in force</dt>
          <dd data-testid="card-leases">{leases === null ? "—" : formatCount(leases.length)}</dd>
        </div>
        <div>
          <dt>Head</dt>
          <dd data-testid="card-head">{formatCount(feed.head)}</dd>
        </div>
      </dl>
      <div class="row">
        <button type="button" class="primary" onClick={onOpen}>
          Open<span class="visually-hidden"> {feed.signIn.branch}</span>
        </button>
        <button type="button" class="secondary" onClick={onSignOut}>
          Sign out
        </button>
      </div>
    </article>
  );
}
