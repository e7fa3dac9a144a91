/**
 * The dashboard's shell: the branches signed in to (kept in localStorage), one live feed per branch,
 * and what is on screen: the sign-in form, the overview of every branch side by side, or one branch
 * with its views as tabs (Devices, Leases, Conflicts, Record history, Money, Close of day, Audit). Everything it needs from
 * outside (the clock, storage, the client, ids, the address's fragment) is passed in by main.tsx.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { AuditView } from "./audit.js";
import { ConflictsView } from "./conflicts.js";
import type { DayApi } from "./day-api.js";
import { DayView } from "./day.js";
import { DevicesView } from "./devices.js";
import { BranchFeed, type Clock, type MonotonicClock } from "./feed.js";
import { HistoryView } from "./history.js";
import { useFeed } from "./hooks.js";
import type { LeaseApi } from "./lease-api.js";
import { LeasesView } from "./leases.js";
import type { BranchLink } from "./link.js";
import { MoneyView } from "./money.js";
import { Overview } from "./overview.js";
import { fragmentSignIn, loadSignIns, readToken, saveSignIns, type SignIn, withSignIn } from "./sessions.js";
import { type Enroll, SignInScreen } from "./sign-in.js";
import { connectionWords } from "./status.js";
import { type Tab, TabPanel, Tabs } from "./ui.js";

export interface DashboardDeps {
  clock: Clock;
  /** Time passed, for counting down from the server's word (leases, ages): never jumps with the machine's clock. */
  monotonic: MonotonicClock;
  storage: Pick<Storage, "getItem" | "setItem">;
  connect: (signIn: SignIn) => BranchLink;
  /** The branch's lease routes over HTTP, with the sign-in's token. */
  leases: (signIn: SignIn) => LeaseApi;
  /** The branch's end-of-day routes over HTTP (protocol v10), with the sign-in's token. */
  days: (signIn: SignIn) => DayApi;
  enroll: Enroll;
  newId: () => string;
  /** The address's fragment at load (`#branch=…&token=…`), and how to remove it from the address bar. */
  fragment: string;
  clearFragment: () => void;
}

const TABS = [
  { key: "devices", label: "Devices" },
  { key: "leases", label: "Leases" },
  { key: "conflicts", label: "Conflicts" },
  { key: "history", label: "Record history" },
  { key: "money", label: "Money" },
  { key: "day", label: "Close of day" },
  { key: "audit", label: "Audit" },
] as const satisfies ReadonlyArray<Tab<string>>;
export type TabKey = (typeof TABS)[number]["key"];

type Route =
  | { view: "overview" }
  | { view: "signin"; branch: string }
  | { view: "branch"; branch: string; tab: TabKey; rejection: string | null; entity: string | null };

export function App({ deps }: { deps: DashboardDeps }) {
  const [signIns, setSignIns] = useState<SignIn[]>(() => loadSignIns(deps.storage));
  const [notice, setNotice] = useState<string | null>(null);
  const [route, setRoute] = useState<Route>(() => (signIns.length === 0 ? { view: "signin", branch: "" } : signIns.length === 1 ? branchRoute(signIns[0]!.branch) : { view: "overview" }));

  const update = (next: SignIn[]) => {
    saveSignIns(deps.storage, next);
    setSignIns(next);
  };
  const signedIn = (s: SignIn) => {
    update(withSignIn(signIns, s));
    setRoute(branchRoute(s.branch));
  };

  // A sign-in in the address's fragment (what `npm start` prints) is taken once and removed from the bar.
  useEffect(() => {
    const pair = fragmentSignIn(deps.fragment);
    if (!pair) return;
    deps.clearFragment();
    const read = readToken(pair.branch, pair.token, deps.clock());
    if (!read.ok) {
      setNotice(`The link's sign-in was not used: ${read.message}`);
      setRoute({ view: "signin", branch: pair.branch });
      return;
    }
    const install = signIns.find((s) => s.branch === pair.branch && s.device_id === read.signIn.device_id)?.install_id ?? deps.newId();
    signedIn({ ...read.signIn, install_id: install });
  }, []);

  // One feed per signed-in branch, made when it is signed in to and stopped when it is signed out of.
  const feeds = useFeeds(signIns, deps);
  const signOut = (branch: string) => {
    const next = signIns.filter((s) => s.branch !== branch);
    update(next);
    setRoute(next.length === 0 ? { view: "signin", branch: "" } : { view: "overview" });
  };

  const current = route.view === "branch" ? feeds.find((f) => f.signIn.branch === route.branch) : undefined;
  return (
    <>
      <header>
        <h1>StudioVault dashboard</h1>
        {signIns.length > 0 && (
          <nav aria-label="Branches">
            <button type="button" aria-current={route.view === "overview" ? "page" : undefined} onClick={() => setRoute({ view: "overview" })}>
              All branches
            </button>
            {signIns.map((s) => (
              <button type="button" key={s.branch} aria-current={route.view === "branch" && route.branch === s.branch ? "page" : undefined} onClick={() => setRoute(branchRoute(s.branch))}>
                {s.branch}
              </button>
            ))}
            <button type="button" aria-current={route.view === "signin" ? "page" : undefined} onClick={() => setRoute({ view: "signin", branch: "" })}>
              + Sign in to a branch
            </button>
          </nav>
        )}
      </header>
      <main>
        {notice && (
          <p class="notice warn" role="status">
            {notice}
          </p>
        )}
        {route.view === "signin" && (
          <SignInScreen
            key={route.branch}
            clock={deps.clock}
            enroll={deps.enroll}
            newId={deps.newId}
            initialBranch={route.branch}
            known={signIns}
            onSignedIn={(s) => {
              setNotice(null);
              signedIn(s);
            }}
            onCancel={signIns.length > 0 ? () => setRoute({ view: "overview" }) : null}
          />
        )}
        {route.view === "overview" && <Overview feeds={feeds} onOpen={(b) => setRoute(branchRoute(b))} onSignOut={signOut} />}
        {route.view === "branch" && current && <BranchScreen feed={current} route={route} onRoute={setRoute} onSignInAgain={() => setRoute({ view: "signin", branch: route.branch })} />}
      </main>
    </>
  );
}

const branchRoute = (branch: string): Route => ({ view: "branch", branch, tab: "devices", rejection: null, entity: null });

/**
 * One feed per sign-in, kept across renders: a new sign-in (or a new token for a branch) gets a new
 * feed, started after the render that made it; a feed whose sign-in is gone is stopped.
 */
function useFeeds(signIns: readonly SignIn[], deps: DashboardDeps): BranchFeed[] {
  const [feeds] = useState(() => new Map<string, BranchFeed>());
  const running = useRef(new Set<BranchFeed>());
  const key = signIns.map((s) => `${s.branch}|${s.token}`).join("\n");
  const list = useMemo(() => {
    for (const branch of feeds.keys()) if (!signIns.some((s) => s.branch === branch)) feeds.delete(branch);
    for (const s of signIns) {
      if (feeds.get(s.branch)?.signIn.token !== s.token) feeds.set(s.branch, new BranchFeed(s, deps.connect(s), deps.clock, deps.monotonic, deps.leases(s), deps.days(s)));
    }
    return signIns.map((s) => feeds.get(s.branch)!);
  }, [key]);
  useEffect(() => {
    for (const f of running.current) {
      if (!list.includes(f)) {
        f.stop();
        running.current.delete(f);
      }
    }
    for (const f of list) {
      if (!running.current.has(f)) {
        f.start();
        running.current.add(f);
      }
    }
  }, [list]);
  useEffect(() => () => running.current.forEach((f) => f.stop()), []);
  return list;
}

function BranchScreen({ feed, route, onRoute, onSignInAgain }: { feed: BranchFeed; route: Extract<Route, { view: "branch" }>; onRoute: (r: Route) => void; onSignInAgain: () => void }) {
  useFeed(feed);
  const words = connectionWords(feed);
  const prefix = `branch-${route.branch}`;
  const go = (patch: Partial<Extract<Route, { view: "branch" }>>) => onRoute({ ...route, ...patch });
  return (
    <section class="branch" aria-labelledby={`${prefix}-title`}>
      <div class="branch-head">
        <h2 id={`${prefix}-title`} class="page-title">
          {feed.welcome?.studio.name && feed.welcome.studio.name !== route.branch ? `${feed.welcome.studio.name} · ` : ""}
          {route.branch}
        </h2>
        <span class={`pill ${words.tone}`} role="status" aria-label="Connection" data-testid="connection">
          {words.text}
        </span>
        <span class="muted">
          as {feed.signIn.user_id} ({feed.signIn.role}) · times in {feed.timeZone}
        </span>
      </div>
      {feed.closed && (
        <div class="notice bad" role="alert">
          <p>
            {feed.closedWords()}
          </p>
          <button type="button" class="secondary" onClick={onSignInAgain}>
            Sign in again
          </button>
        </div>
      )}
      <Tabs label={`Views of ${route.branch}`} idPrefix={prefix} tabs={TABS} selected={route.tab} onSelect={(tab) => go({ tab })} />
      <TabPanel idPrefix={prefix} selected={route.tab}>
        {route.tab === "devices" && <DevicesView feed={feed} />}
        {route.tab === "leases" && <LeasesView feed={feed} onOpenHistory={(entity) => go({ tab: "history", entity })} />}
        {route.tab === "conflicts" && <ConflictsView feed={feed} selected={route.rejection} onSelect={(rejection) => go({ rejection })} onOpenHistory={(entity) => go({ tab: "history", entity })} />}
        {route.tab === "history" && <HistoryView feed={feed} entityId={route.entity} onEntity={(entity) => go({ entity })} onOpenRejection={(rejection) => go({ tab: "conflicts", rejection })} />}
        {route.tab === "money" && <MoneyView feed={feed} />}
        {route.tab === "day" && <DayView feed={feed} />}
        {route.tab === "audit" && <AuditView feed={feed} />}
      </TabPanel>
    </section>
  );
}
