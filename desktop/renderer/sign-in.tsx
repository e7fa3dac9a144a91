/**
 * Signed out (issue 14): when the server refuses this till's sign-in, say why in words ("Your sign-in
 * expired on 2 Dec at 14:05", "This till was removed by a manager") and, where signing in again can
 * help, take a manager's one-time code right here. The till stays the same device: its queue is kept
 * and sent as soon as the new sign-in is accepted. Times come from the status (the core's clock and
 * the branch's time zone); the renderer has no clock.
 */
import { useState } from "preact/hooks";
import type { AppStatus, SignInResult } from "../app/api.js";
import { keptWords } from "../../machines/status-words.js";
import { useApi } from "./hooks.js";
import { dayAndTime, TextField } from "./sign-in-words.js";

/** Why this till is signed out, in words, and whether a code can sign it in again. */
export function signedOutWords(status: AppStatus): { headline: string; advice: string; canSignIn: boolean } | null {
  const { sync, identity, clock } = status;
  if (sync.kind !== "auth_failed") return null;
  // A refused WebSocket upgrade may not say why ("unauthorized"): the token's own expiry, on the
  // core's clock, tells an expired sign-in from another refusal.
  const expires = identity?.token_expires_ms ?? null;
  const expired = expires !== null && expires <= clock.now_ms;
  switch (expired && sync.reason !== "device_revoked" ? "token_expired" : sync.reason) {
    case "device_revoked":
      return { headline: "This till was removed by a manager.", advice: "It cannot sign in again as this till. A manager can set this computer up again as a new till.", canSignIn: false };
    case "install_conflict":
      return { headline: "This till's sign-in is being used on another computer.", advice: "Ask a manager to set this computer up as a new till.", canSignIn: false };
    case "token_expired":
    case "expired": {
      const when = expires === null ? "" : ` on ${dayAndTime(expires, clock.time_zone)}`;
      return { headline: `Your sign-in expired${when}.`, advice: "Ask a manager for a sign-in code (on their till: Add a till) and type it here.", canSignIn: true };
    }
    default:
      return { headline: "The server did not accept this till's sign-in.", advice: "Ask a manager for a sign-in code (on their till: Add a till) and type it here.", canSignIn: true };
  }
}

export function SignInAgain({ status }: { status: AppStatus }) {
  const api = useApi();
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const words = signedOutWords(status);
  if (!words) return null;
  const kept = keptWords(status.summary.pending);

  const submit = async (event: Event) => {
    event.preventDefault();
    if (code.trim() === "") return setError("Type the sign-in code a manager gave you.");
    setBusy(true);
    let result: SignInResult;
    try {
      result = await api.call({ method: "signIn", code });
    } catch {
      result = { ok: false, field: "code", message: "The app could not reach its own core. Close it and open it again; nothing was changed.", detail: null };
    }
    setBusy(false);
    setError(result.ok ? null : result.message);
    if (result.ok) setCode("");
  };

  return (
    <section class="card signed-out" aria-labelledby="signed-out-title" data-testid="signed-out">
      <h2 id="signed-out-title">{words.headline}</h2>
      <p>
        {words.advice} {kept && <strong>{kept}</strong>}
        {kept && words.canSignIn ? ` ${status.summary.pending === 1 ? "It is" : "They are"} sent once you are signed in again.` : ""}
      </p>
      {words.canSignIn && (
        <form class="row" onSubmit={(e) => void submit(e)} noValidate>
          <TextField label="Sign-in code" value={code} onInput={setCode} error={error} placeholder="K7QF-9M2X" testId="signin-code" />
          <button class="primary" type="submit" disabled={busy}>
            {busy ? "Checking the code…" : "Sign in again"}
          </button>
        </form>
      )}
    </section>
  );
}
