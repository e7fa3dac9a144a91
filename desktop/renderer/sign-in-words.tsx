/**
 * Words and small parts shared by the setup, sign-in and add-a-till screens. No clock here: times
 * are the core's (the status or an answer carries them), shown in the branch's time zone, so the
 * words do not depend on where this computer thinks it is.
 */
import { useId } from "preact/hooks";

/** `2 Dec at 14:05` in `timeZone` (en-GB, 24-hour), for "Your sign-in expired on …". */
export function dayAndTime(ms: number, timeZone: string): string {
  const parts = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone }).formatToParts(new Date(ms));
  const part = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${part("day")} ${part("month")} at ${part("hour")}:${part("minute")}`;
}

/** A text field with its error beside it, tied by aria-describedby; the typed text is never changed. */
export function TextField(props: {
  label: string;
  value: string;
  onInput: (value: string) => void;
  error: string | null;
  hint?: string;
  placeholder?: string;
  autoFocus?: boolean;
  testId?: string;
  inputRef?: (el: HTMLInputElement | null) => void;
}) {
  const errorId = useId();
  const hintId = useId();
  const described = [props.hint ? hintId : null, props.error ? errorId : null].filter(Boolean).join(" ") || undefined;
  return (
    <div class="field signin-field">
      <label>
        {props.label}
        <input
          ref={props.inputRef}
          value={props.value}
          placeholder={props.placeholder}
          autoFocus={props.autoFocus}
          autoComplete="off"
          spellcheck={false}
          data-testid={props.testId}
          aria-invalid={props.error !== null}
          aria-describedby={described}
          onInput={(e) => props.onInput((e.target as HTMLInputElement).value)}
        />
      </label>
      {props.hint && (
        <span id={hintId} class="muted hint">
          {props.hint}
        </span>
      )}
      <span id={errorId} class="signin-error" role={props.error ? "alert" : undefined}>
        {props.error}
      </span>
    </div>
  );
}
