/**
 * Add a till (owners and managers, issue 14): ask the branch for a one-time sign-in code for a new
 * till, or for a till whose sign-in expired, and show it large with when it stops working. The code
 * is shown once; the branch keeps only its hash. The expiry is the server's, shown in the branch's
 * time zone.
 */
import { useState } from "preact/hooks";
import type { AddTillResult, AppStatus } from "../app/api.js";
import type { Role } from "../../domain/permissions.js";
import { useApi } from "./hooks.js";
import { dayAndTime, TextField } from "./sign-in-words.js";

const ROLE_WORDS: Record<Role, string> = { cashier: "Cashier", staff: "Staff", viewer: "Viewer (reads only)", manager: "Manager", owner: "Owner" };
/** A role may give codes for roles up to its own (the server checks it too). */
const GRANTABLE: Record<Role, readonly Role[]> = {
  owner: ["cashier", "staff", "viewer", "manager", "owner"],
  manager: ["cashier", "staff", "viewer", "manager"],
  staff: [],
  cashier: [],
  viewer: [],
};
const LIFETIMES = [
  { minutes: 15, words: "15 minutes" },
  { minutes: 60, words: "1 hour" },
  { minutes: 24 * 60, words: "1 day" },
] as const;

export const mayAddTills = (role: Role | undefined): boolean => role !== undefined && GRANTABLE[role].length > 0;

export function AddTill({ status }: { status: AppStatus }) {
  const api = useApi();
  const own = status.identity?.role ?? "viewer";
  const [role, setRole] = useState<Role>("cashier");
  const [user, setUser] = useState("");
  const [minutes, setMinutes] = useState(15);
  const [busy, setBusy] = useState(false);
  const [answer, setAnswer] = useState<AddTillResult | null>(null);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    try {
      setAnswer(await api.call({ method: "addTill", role, user, ttl_minutes: minutes }));
    } catch {
      setAnswer({ ok: false, field: null, message: "The app could not reach its own core. Close it and open it again." });
    }
    setBusy(false);
  };
  const failed = answer && !answer.ok ? answer : null;

  return (
    <section class="card" aria-labelledby="add-till-title" data-testid="add-till">
      <h2 id="add-till-title">Add a till</h2>
      <p class="muted">
        A one-time sign-in code sets up a new till, or signs in again a till whose sign-in expired. It works once. To approve a refused sale on a cashier's till, ask for a code for
        yourself (role Manager, your own name) and type it on that till, in its Conflicts screen.
      </p>
      <form onSubmit={(e) => void submit(e)} noValidate>
        <div class="row">
          <label>
            Role
            <select value={role} onChange={(e) => setRole((e.target as HTMLSelectElement).value as Role)} aria-invalid={failed?.field === "role"}>
              {GRANTABLE[own].map((r) => (
                <option key={r} value={r}>
                  {ROLE_WORDS[r]}
                </option>
              ))}
            </select>
          </label>
          <TextField label="Who will use it" value={user} onInput={setUser} error={failed?.field === "user" ? failed.message : null} placeholder="nimal" testId="add-till-user" />
          <label>
            Code works for
            <select value={String(minutes)} onChange={(e) => setMinutes(Number((e.target as HTMLSelectElement).value))}>
              {LIFETIMES.map((l) => (
                <option key={l.minutes} value={String(l.minutes)}>
                  {l.words}
                </option>
              ))}
            </select>
          </label>
          <button class="primary" type="submit" disabled={busy}>
            {busy ? "Asking the server…" : "Get a sign-in code"}
          </button>
        </div>
        {failed && failed.field !== "user" && (
          <p class="notice bad" role="alert">
            {failed.message}
          </p>
        )}
      </form>
      {answer?.ok && (
        <div class="code-card" data-testid="till-code">
          <p class="muted">Sign-in code for {answer.user} ({ROLE_WORDS[answer.role].toLowerCase()})</p>
          <output class="big-code" aria-label="Sign-in code" data-testid="big-code">
            {answer.code}
          </output>
          <p>
            Works once, until <strong>{dayAndTime(answer.expires_ms, status.clock.time_zone)}</strong>.
          </p>
          <p class="muted">
            On the new till, type the server <code>{answer.server_url}</code>, the branch <code>{answer.branch_id}</code> and this code. A till that is signed out types only the code.
          </p>
        </div>
      )}
    </section>
  );
}
