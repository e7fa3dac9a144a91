/** The app shell: identity, sync state at a glance, and the screens. Every list reads locally. */
import { useEffect, useState } from "preact/hooks";
import type { AppStatus, DesktopApi } from "../app/api.js";
import { AskProvider } from "./ask.js";
import { ConflictInbox } from "./conflicts.js";
import { Api, Revision, Status } from "./hooks.js";
import { InvoicesScreen } from "./invoices.js";
import { PosScreen } from "./pos.js";
import { ProjectsScreen } from "./projects.js";
import { SyncPanel } from "./sync-panel.js";

const SCREENS = { pos: "POS", projects: "Projects", invoices: "Invoices", sync: "Sync", conflicts: "Conflicts" } as const;
type Screen = keyof typeof SCREENS;

const LABEL: Record<string, string> = {
  offline: "Offline",
  connecting: "Connecting…",
  syncing: "Syncing…",
  live: "Live",
  backoff: "Reconnecting",
  auth_failed: "Sign-in needed",
  update_required: "Update required",
  replaced: "Open elsewhere",
};

/** Terminal refusals that a new sign-in on this install cannot fix: named, not "Sign-in needed". */
const REASON_LABEL: Record<string, string> = {
  device_revoked: "Device revoked",
  install_conflict: "Token used elsewhere",
};

export function App({ api }: { api: DesktopApi }) {
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [revision, setRevision] = useState(0);
  const [screen, setScreen] = useState<Screen>("pos");
  useEffect(() => {
    void api.call({ method: "status" }).then(setStatus);
    return api.subscribe((event) => {
      if (event.type === "status") setStatus(event.status);
      else setRevision((r) => r + 1);
    });
  }, [api]);
  const kind = status ? (status.paused ? "offline" : status.sync.kind) : "offline";
  const reason = status?.sync.kind === "auth_failed" ? status.sync.reason : null;
  const conflicts = status?.summary.conflicts_open ?? 0;
  return (
    <Api.Provider value={api}>
      <Status.Provider value={status}>
        <Revision.Provider value={revision}>
          <AskProvider>
          <header>
            <h1>StudioVault</h1>
            <nav aria-label="Screens">
              {(Object.keys(SCREENS) as Screen[]).map((s) => (
                <button key={s} aria-current={screen === s ? "page" : undefined} onClick={() => setScreen(s)}>
                  {SCREENS[s]}
                  {s === "conflicts" && conflicts > 0 ? ` (${conflicts})` : ""}
                </button>
              ))}
            </nav>
            <span class={`pill ${kind}`} role="status" aria-label="Sync state" data-testid="sync-pill">
              {(reason && REASON_LABEL[reason]) ?? LABEL[kind] ?? kind}
              {status && status.summary.pending > 0 ? ` · ${status.summary.pending} pending` : ""}
            </span>
          </header>
          <main>
            {screen === "pos" && <PosScreen />}
            {screen === "projects" && <ProjectsScreen />}
            {screen === "invoices" && <InvoicesScreen />}
            {screen === "sync" && <SyncPanel />}
            {screen === "conflicts" && <ConflictInbox />}
          </main>
          </AskProvider>
        </Revision.Provider>
      </Status.Provider>
    </Api.Provider>
  );
}
