/**
 * First run (issue 14): a database not bound to a branch opens here instead of an error box. The
 * person types the server's address, the branch and a one-time sign-in code from a manager; the core
 * exchanges the code, binds the database and starts sync, which bootstraps from the branch's
 * snapshot (the progress bar below), then the normal app opens. A refused code or an unreachable
 * server is said beside its field, and everything typed stays.
 */
import { useState } from "preact/hooks";
import type { AppStatus, SignInResult } from "../app/api.js";
import { useApi } from "./hooks.js";
import { TextField } from "./sign-in-words.js";

/** A download's size for people: bytes below a KB (a new branch's snapshot is tiny), else KB or MB. */
function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} bytes`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

type Errors = Partial<Record<"server" | "branch" | "code", string>>;

export function SetupScreen({ status }: { status: AppStatus | null }) {
  const api = useApi();
  const [server, setServer] = useState("");
  const [branch, setBranch] = useState("");
  const [code, setCode] = useState("");
  const [errors, setErrors] = useState<Errors>({});
  const [detail, setDetail] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const bootstrap = status?.bootstrap ?? null;
  const bound = status?.identity != null;

  const submit = async (event: Event) => {
    event.preventDefault();
    const missing: Errors = {};
    if (server.trim() === "") missing.server = "Type the server address your manager gave you, e.g. https://sync.example.com.";
    if (branch.trim() === "") missing.branch = "Type the branch name, e.g. colombo-main.";
    if (code.trim() === "") missing.code = "Type the sign-in code a manager gave you.";
    setErrors(missing);
    setDetail(null);
    if (Object.keys(missing).length > 0) return;
    setBusy(true);
    let result: SignInResult;
    try {
      result = await api.call({ method: "setup", server, branch, code });
    } catch (e) {
      result = { ok: false, field: "server", message: "The app could not reach its own core. Close it and open it again; nothing was changed.", detail: String(e) };
    }
    setBusy(false);
    if (!result.ok) {
      setErrors({ [result.field]: result.message });
      setDetail(result.detail);
    }
  };

  return (
    <div class="setup" data-testid="setup-screen">
      <section class="card" aria-labelledby="setup-title">
        <h1 id="setup-title">Set up this till</h1>
        {bound ? (
          <div data-testid="setup-progress">
            <p class="headline ok">Signed in. Getting the branch's records…</p>
            {bootstrap ? (
              <label>
                {bootstrap.phase === "download"
                  ? `Downloading the branch's records: ${size(bootstrap.bytes)} of ${size(bootstrap.total_bytes)}`
                  : `Setting up: ${bootstrap.entities} of ${bootstrap.total_entities} records`}
                <progress max={bootstrap.phase === "download" ? bootstrap.total_bytes : bootstrap.total_entities} value={bootstrap.phase === "download" ? bootstrap.bytes : bootstrap.entities} />
              </label>
            ) : (
              <progress aria-label="Getting the branch's records" />
            )}
          </div>
        ) : (
          <form onSubmit={(e) => void submit(e)} noValidate>
            <p>This computer is not set up yet. Ask a manager for a <strong>sign-in code</strong> (on their till: Add a till), then type it here with the server's address and the branch.</p>
            <TextField label="Server address" value={server} onInput={setServer} error={errors.server ?? null} placeholder="https://sync.example.com" autoFocus testId="setup-server" />
            <TextField label="Branch" value={branch} onInput={setBranch} error={errors.branch ?? null} placeholder="colombo-main" testId="setup-branch" />
            <TextField label="Sign-in code" value={code} onInput={setCode} error={errors.code ?? null} placeholder="K7QF-9M2X" hint="8 letters and digits; capitals, dashes and spaces do not matter." testId="setup-code" />
            <div class="row">
              <button class="primary" type="submit" disabled={busy}>
                {busy ? "Checking the code…" : "Set up this till"}
              </button>
            </div>
            {detail && (
              <details class="support">
                <summary>Details for support</summary>
                <code>{detail}</code>
              </details>
            )}
          </form>
        )}
      </section>
    </div>
  );
}
