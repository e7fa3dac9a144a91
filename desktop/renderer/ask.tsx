/**
 * Small in-app questions: "Why is this sale voided?" (`useAsk`) and "Delete this project?"
 * (`useConfirm`). Electron does not implement `window.prompt`/`confirm`, and a native one would
 * block the renderer anyway; these are modal <dialog>s: Enter answers, Escape cancels, focus returns
 * to where it was. A confirmation names what will happen and focuses the safe choice, so a stray
 * Enter or a double click never destroys anything.
 */
import { createContext, type ComponentChildren } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";

export interface Question {
  label: string;
  /** What answering will do, shown above the field (e.g. "The sale stays in the records, marked void."). */
  detail?: string;
  /** Live words shown under the detail while the question is open (a lease's note: lease-note.tsx). */
  note?: ComponentChildren;
  initial?: string;
  inputMode?: "text" | "decimal";
  /**
   * What is wrong with the answer as typed so far, in words, or null when it is fine: checked as
   * the person types, shown beside the field, and OK stays disabled while there is a problem.
   */
  validate?: (answer: string) => string | null;
}

export interface Confirmation {
  /** The question, naming the thing: `Delete the project "Perera wedding"?` */
  title: string;
  /** What will happen if confirmed, in a sentence or two. */
  detail: string;
  /** The destructive choice, as a verb: "Delete project". */
  confirm: string;
  /** The safe choice, focused: "Keep project". */
  cancel: string;
}

type Ask = (question: Question) => Promise<string | null>;
type Confirm = (confirmation: Confirmation) => Promise<boolean>;

const AskContext = createContext<Ask>(() => Promise.resolve(null));
const ConfirmContext = createContext<Confirm>(() => Promise.resolve(false));
/** `const ask = useAsk(); const reason = await ask({ label: "Why?" })`: null when cancelled or empty. */
export const useAsk = () => useContext(AskContext);
/** `const confirm = useConfirm(); if (await confirm({ … })) …`: false when cancelled. */
export const useConfirm = () => useContext(ConfirmContext);

type Pending =
  | { kind: "ask"; question: Question; answer: (value: string | null) => void }
  | { kind: "confirm"; confirmation: Confirmation; answer: (value: boolean) => void };

export function AskProvider({ children }: { children: ComponentChildren }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const ask: Ask = (question) => new Promise((resolve) => setPending({ kind: "ask", question, answer: resolve }));
  const confirm: Confirm = (confirmation) => new Promise((resolve) => setPending({ kind: "confirm", confirmation, answer: resolve }));
  return (
    <AskContext.Provider value={ask}>
      <ConfirmContext.Provider value={confirm}>
        {children}
        {pending?.kind === "ask" && (
          <AskDialog
            key={pending.question.label}
            question={pending.question}
            onDone={(value) => {
              setPending(null);
              pending.answer(value);
            }}
          />
        )}
        {pending?.kind === "confirm" && (
          <ConfirmDialog
            key={pending.confirmation.title}
            confirmation={pending.confirmation}
            onDone={(value) => {
              setPending(null);
              pending.answer(value);
            }}
          />
        )}
      </ConfirmContext.Provider>
    </AskContext.Provider>
  );
}

/** Opens `dialog` as a modal on mount; on unmount, gives focus back to what had it before. */
function useModal(dialog: { current: HTMLDialogElement | null }, focus?: { current: HTMLElement | null }) {
  useEffect(() => {
    const before = document.activeElement as HTMLElement | null;
    dialog.current?.showModal();
    focus?.current?.focus();
    return () => before?.focus();
  }, []);
}

function AskDialog({ question, onDone }: { question: Question; onDone: (value: string | null) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState(question.initial ?? "");
  useModal(dialog);
  const answer = value.trim();
  const problem = answer === "" || !question.validate ? null : question.validate(answer);
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
          if (problem === null) onDone(answer === "" ? null : answer);
        }}
      >
        {question.detail && <p class="ask-detail">{question.detail}</p>}
        {question.note}
        <label>
          {question.label}
          <input
            autoFocus
            inputMode={question.inputMode ?? "text"}
            value={value}
            aria-invalid={problem !== null}
            aria-describedby={question.validate ? "ask-problem" : undefined}
            onInput={(e) => setValue((e.target as HTMLInputElement).value)}
          />
        </label>
        {question.validate && (
          <p id="ask-problem" class="error ask-problem" aria-live="polite" data-testid="ask-problem">
            {problem ?? ""}
          </p>
        )}
        <div class="row" style="margin-top:.75rem;justify-content:flex-end">
          <button type="button" class="secondary" onClick={() => onDone(null)}>Cancel</button>
          <button type="submit" class="primary" disabled={answer === "" || problem !== null}>OK</button>
        </div>
      </form>
    </dialog>
  );
}

function ConfirmDialog({ confirmation, onDone }: { confirmation: Confirmation; onDone: (value: boolean) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const safe = useRef<HTMLButtonElement>(null);
  // The safe choice has the focus: Enter or Space right away keeps things as they are.
  useModal(dialog, safe);
  return (
    <dialog
      ref={dialog}
      class="ask"
      role="alertdialog"
      aria-labelledby="confirm-title"
      aria-describedby="confirm-detail"
      onCancel={(e) => {
        e.preventDefault();
        onDone(false);
      }}
    >
      <h2 id="confirm-title" class="ask-title">{confirmation.title}</h2>
      <p id="confirm-detail" class="ask-detail">{confirmation.detail}</p>
      <div class="row" style="margin-top:.75rem;justify-content:flex-end">
        <button type="button" class="secondary" ref={safe} autoFocus onClick={() => onDone(false)}>
          {confirmation.cancel}
        </button>
        <button type="button" class="danger" onClick={() => onDone(true)}>
          {confirmation.confirm}
        </button>
      </div>
    </dialog>
  );
}
