/**
 * Signing in to a branch: the branch's id and either a one-time sign-in code from an owner or manager
 * (exchanged by the client's `enroll`; the code must be for an owner, manager or viewer) or a token
 * (`npm run token`). Every problem is said beside the field it is about; what was typed stays.
 */
import { useState } from "preact/hooks";
import { codeFormatProblem } from "../protocol/enrollment.js";
import type { Clock } from "./feed.js";
import type { ApiResult } from "./link.js";
import { isObserver, readToken, type SignIn } from "./sessions.js";

export interface Enrolled {
  token: string;
  device_id: string;
  role: string;
}
export type Enroll = (branch: string, code: string) => Promise<ApiResult<Enrolled>>;

type Method = "code" | "token";
type Problem = { field: "branch" | "code" | "token" | null; message: string };

const BRANCH_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** An enrollment refusal for people (the server's codes: code_wrong, code_used, …). */
function enrollWords(r: { status: number; error: string; message: string }): string {
  if (r.status === 0) return "The server cannot be reached. Check the connection and try again.";
  if (r.status === 429) return "Too many tries from here; wait a minute and try again.";
  switch (r.error) {
    case "enrollment_code_wrong":
      return "This code is not right for this branch. Check it, and the branch, and type it again.";
    case "enrollment_code_used":
      return "This code has been used already. Ask for a new one.";
    case "enrollment_code_expired":
      return "This code has expired. Ask for a new one.";
    case "enrollment_code_cancelled":
      return "This code was cancelled after too many wrong tries. Ask for a new one.";
    case "enrollment_code_malformed":
      return "This is not a sign-in code: 8 letters and digits, like K7QF-9M2X.";
    default:
      return r.message || r.error;
  }
}

export function SignInScreen({ clock, enroll, newId, initialBranch, known, onSignedIn, onCancel }: {
  clock: Clock;
  enroll: Enroll;
  newId: () => string;
  initialBranch: string;
  /** Sign-ins kept already: a device signing in again keeps its install id. */
  known: readonly SignIn[];
  onSignedIn: (s: SignIn) => void;
  onCancel: (() => void) | null;
}) {
  const [branch, setBranch] = useState(initialBranch);
  const [method, setMethod] = useState<Method>("code");
  const [code, setCode] = useState("");
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | null>(null);
  const installFor = (b: string, device: string) => known.find((s) => s.branch === b && s.device_id === device)?.install_id ?? newId();

  const submit = async () => {
    const b = branch.trim();
    if (!BRANCH_ID.test(b)) return setProblem({ field: "branch", message: "A branch id is lower-case letters, digits and dashes, like colombo-main." });
    if (method === "token") {
      const read = readToken(b, token, clock());
      if (!read.ok) return setProblem({ field: "token", message: read.message });
      onSignedIn({ ...read.signIn, install_id: installFor(b, read.signIn.device_id) });
      return;
    }
    const format = codeFormatProblem(code);
    if (format) return setProblem({ field: "code", message: format });
    setBusy(true);
    const r = await enroll(b, code);
    setBusy(false);
    if (!r.ok) return setProblem({ field: r.status === 0 || r.status === 429 ? null : "code", message: enrollWords(r) });
    if (!isObserver(r.value.role)) {
      return setProblem({ field: "code", message: `This code was for a ${r.value.role}, and it is used up now. The dashboard needs an owner's, a manager's or a viewer's code: ask for one.` });
    }
    const read = readToken(b, r.value.token, clock());
    if (!read.ok) return setProblem({ field: null, message: read.message });
    onSignedIn({ ...read.signIn, install_id: installFor(b, read.signIn.device_id) });
  };

  const fieldError = (field: Problem["field"]) =>
    problem?.field === field ? (
      <span id={`signin-${field}-error`} class="signin-error" role="alert">
        {problem.message}
      </span>
    ) : null;
  return (
    <div class="setup">
      <section class="card" aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in to a branch</h1>
        <p class="muted">The dashboard shows a branch's devices, conflicts, money and audit, live. Sign in with a one-time code from an owner or manager (Add a till, or <code>studiovault device add --role viewer</code>), or with a token.</p>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setProblem(null);
            void submit();
          }}
        >
          <label>
            Branch
            <input
              name="branch"
              value={branch}
              autoComplete="off"
              spellcheck={false}
              placeholder="colombo-main"
              aria-invalid={problem?.field === "branch"}
              aria-describedby={problem?.field === "branch" ? "signin-branch-error" : undefined}
              onInput={(e) => setBranch((e.target as HTMLInputElement).value)}
            />
          </label>
          {fieldError("branch")}
          <fieldset class="method">
            <legend>Sign in with</legend>
            <label class="inline">
              <input type="radio" name="method" checked={method === "code"} onChange={() => setMethod("code")} /> A sign-in code
            </label>
            <label class="inline">
              <input type="radio" name="method" checked={method === "token"} onChange={() => setMethod("token")} /> A token
            </label>
          </fieldset>
          {method === "code" ? (
            <label class="signin-field">
              Sign-in code
              <input
                name="code"
                value={code}
                autoComplete="one-time-code"
                spellcheck={false}
                placeholder="K7QF-9M2X"
                aria-invalid={problem?.field === "code"}
                aria-describedby={problem?.field === "code" ? "signin-code-error" : undefined}
                onInput={(e) => setCode((e.target as HTMLInputElement).value)}
              />
            </label>
          ) : (
            <label class="signin-field">
              Token
              <textarea
                name="token"
                rows={3}
                value={token}
                spellcheck={false}
                aria-invalid={problem?.field === "token"}
                aria-describedby={problem?.field === "token" ? "signin-token-error" : undefined}
                onInput={(e) => setToken((e.target as HTMLTextAreaElement).value)}
              />
            </label>
          )}
          {fieldError(method)}
          {problem?.field === null && (
            <p class="notice bad" role="alert">
              {problem.message}
            </p>
          )}
          <div class="row">
            <button type="submit" class="primary" disabled={busy || branch.trim() === "" || (method === "code" ? code.trim() === "" : token.trim() === "")}>
              {busy ? "Signing in…" : "Sign in"}
            </button>
            {onCancel && (
              <button type="button" class="secondary" onClick={onCancel}>
                Cancel
              </button>
            )}
          </div>
        </form>
      </section>
    </div>
  );
}
