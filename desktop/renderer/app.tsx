/** The app shell: identity, sync state at a glance, and the screens. Every list reads locally. */
import { useEffect, useState } from "preact/hooks";
import type { AppStatus, DesktopApi } from "../app/api.js";
import { AskProvider } from "./ask.js";
import { DayCloseScreen } from "./day-close.js";
import { ConflictInbox } from "./conflicts.js";
import { Api, Revision, Status } from "./hooks.js";
import { InvoicesScreen } from "./invoices.js";
import { PosScreen } from "./pos.js";
import { ProjectsScreen } from "./projects.js";
import { SyncPanel } from "./sync-panel.js";
import { AddTill, mayAddTills } from "./add-till.js";
import { SetupScreen } from "./setup.js";
import { SignInAgain } from "./sign-in.js";
import { SyncActivity } from "./sync-activity.js";
import { STALE_LINK_EVENT, StaleLinkError } from "./client.js";
import { statusWords } from "../../machines/status-words.js";
import { formatCount } from "../../domain/amounts.js";

const SCREENS = { pos: "POS", day: "Close of day", projects: "Projects", invoices: "Invoices", sync: "Sync", activity: "Activity", conflicts: "Conflicts", tills: "Add a till" } as const;
type Screen = keyof typeof SCREENS;

/** Changes not yet sent, when the pill's words do not already count them. */
function pendingSuffix(status: AppStatus): string {
  const { pending } = status.summary;
  const counted = !status.paused && status.sync.kind === "syncing" && status.sync.phase === "push";
  return pending > 0 && !counted ? ` · ${formatCount(pending)} pending` : "";
}

export function App({ api }: { api: DesktopApi }) {
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [revision, setRevision] = useState(0);
  const [screen, setScreen] = useState<Screen>("pos");
  const [stale, setStale] = useState(false);
  useEffect(() => {
    void api.call({ method: "status" }).then(setStatus, (error: unknown) => {
      if (error instanceof StaleLinkError) setStale(true);
    });
    const onStale = () => setStale(true);
    window.addEventListener(STALE_LINK_EVENT, onStale);
    const unsubscribe = api.subscribe((event) => {
      if (event.type === "status") setStatus(event.status);
      else setRevision((r) => r + 1);
    });
    return () => {
      window.removeEventListener(STALE_LINK_EVENT, onStale);
      unsubscribe();
    };
  }, [api]);
  // First run: the setup screen until the database is bound, then while its first sync gets going.
  const [firstRun, setFirstRun] = useState(false);
  useEffect(() => {
    if (status && !status.identity) setFirstRun(true);
  }, [status]);
  if (stale) return <StaleLink />;
  const setup = status !== null && (!status.identity || (firstRun && (status.sync.kind === "connecting" || status.sync.kind === "syncing" || status.bootstrap !== null)));
  const words = status ? statusWords(status.sync, { paused: status.paused, pending: status.summary.pending, nowMs: status.clock.now_ms }) : null;
  const conflicts = status?.summary.conflicts_open ?? 0;
  return (
    <Api.Provider value={api}>
      <Status.Provider value={status}>
        <Revision.Provider value={revision}>
          <AskProvider>
          <header>
            <h1>StudioVault</h1>
            {!setup && <nav aria-label="Screens">
              {(Object.keys(SCREENS) as Screen[]).filter((s) => s !== "tills" || mayAddTills(status?.identity?.role)).map((s) => (
                <button key={s} aria-current={screen === s ? "page" : undefined} onClick={() => setScreen(s)}>
                  {SCREENS[s]}
                  {s === "conflicts" && conflicts > 0 ? ` (${formatCount(conflicts)})` : ""}
                </button>
              ))}
            </nav>}
            <span class={`pill ${words?.tone ?? "busy"}`} role="status" aria-label="Sync state" data-testid="sync-pill">
              {status && !status.identity ? "Not set up" : words && status ? `${words.short}${pendingSuffix(status)}` : "Starting…"}
            </span>
          </header>
          <main>
            {setup && <SetupScreen status={status} />}
            {!setup && status && <SignInAgain status={status} />}
            {!setup && screen === "tills" && status && <AddTill status={status} />}
            {!setup && screen === "pos" && <PosScreen />}
            {!setup && screen === "day" && <DayCloseScreen />}
            {!setup && screen === "projects" && <ProjectsScreen />}
            {!setup && screen === "invoices" && <InvoicesScreen />}
            {!setup && screen === "sync" && <SyncPanel onOpenConflicts={() => setScreen("conflicts")} onOpenActivity={() => setScreen("activity")} />}
            {!setup && screen === "activity" && <SyncActivity onOpenConflicts={() => setScreen("conflicts")} />}
            {!setup && screen === "conflicts" && <ConflictInbox />}
          </main>
          </AskProvider>
        </Revision.Provider>
      </Status.Provider>
    </Api.Provider>
  );
}

/**
 * Browser mode, opened with a link whose key the app no longer accepts (an old bookmark, or a link
 * from another database): say so, instead of showing a till that looks empty.
 */
function StaleLink() {
  return (
    <main class="stale" data-testid="stale-link">
      <section class="card" aria-labelledby="stale-title">
        <h1 id="stale-title">This link is out of date</h1>
        <p>This page was opened with a link the app no longer accepts, so it cannot show this till's sales, projects or invoices.</p>
        <p>
          <strong>Open the link printed by the app</strong> in the window where it was started (it begins with <code>http://127.0.0.1:</code>), or start the app again with <code>npm run desktop:browser</code>.
        </p>
        <p class="muted">Nothing was lost: every sale and change stays in the app's database.</p>
      </section>
    </main>
  );
}
