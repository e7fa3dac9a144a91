/**
 * A small in-app question ("Why is this sale voided?"). Electron does not implement
 * `window.prompt`, and a native prompt would block the renderer anyway; this is a modal <dialog>
 * with a labelled field: Enter answers, Escape cancels, focus returns to where it was.
 */
import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";

export interface Question {
  label: string;
  initial?: string;
  inputMode?: "text" | "decimal";
}
type Ask = (question: Question) => Promise<string | null>;

const AskContext = createContext<Ask>(() => Promise.resolve(null));
/** `const ask = useAsk(); const reason = await ask({ label: "Why?" })`: null when cancelled or empty. */
export const useAsk = () => useContext(AskContext);

export function AskProvider({ children }: { children: ComponentChildren }) {
  const [pending, setPending] = useState<{ question: Question; answer: (value: string | null) => void } | null>(null);
  const ask: Ask = (question) => new Promise((resolve) => setPending({ question, answer: resolve }));
  return (
    <AskContext.Provider value={ask}>
      {children}
      {pending && (
        <AskDialog
          key={pending.question.label}
          question={pending.question}
          onDone={(value) => {
            setPending(null);
            pending.answer(value);
          }}
        />
      )}
    </AskContext.Provider>
  );
}

function AskDialog({ question, onDone }: { question: Question; onDone: (value: string | null) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState(question.initial ?? "");
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    dialog.current?.showModal();
    return () => before?.focus();
  }, []);
  const answer = value.trim();
  return (
    <dialog
      ref={dialog}
      class="ask"
      aria-label={question.label}
      onCancel={(e) => {
        e.preventDefault();
        onDone(null);
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          onDone(answer === "" ? null : answer);
        }}
      >
        <label>
          {question.label}
          <input autoFocus inputMode={question.inputMode ?? "text"} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        </label>
        <div class="row" style="margin-top:.75rem;justify-content:flex-end">
          <button type="button" class="secondary" onClick={() => onDone(null)}>Cancel</button>
          <button type="submit" class="primary" disabled={answer === ""}>OK</button>
        </div>
      </form>
    </dialog>
  );
}
