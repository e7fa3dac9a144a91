/**
 * A field for an amount, a quantity or a percent: it keeps exactly the text the user typed (the
 * screen parses it with domain/amounts.ts, the one parser of numbers people type) and shows the
 * screen's error for it next to the field, tied to the input by `aria-describedby`. It never parses,
 * never computes and never throws: a half-typed `12,5` is text with an error, not NaN in a total.
 */
import { useId, useState } from "preact/hooks";

export interface AmountInputProps {
  label: string;
  text: string;
  onText: (text: string) => void;
  /** Why the text cannot be used (from the parser or a rule of the screen); null when it can. */
  error: string | null;
  inputMode?: "decimal" | "numeric" | "text";
  size?: number;
  placeholder?: string;
}

export function AmountInput({ label, text, onText, error, inputMode = "decimal", size, placeholder }: AmountInputProps) {
  const errorId = useId();
  // "Enter an amount" under a field nobody has reached yet is noise: an empty field's error waits
  // until the field is left. The screen's action stays disabled either way.
  const [left, setLeft] = useState(false);
  const shown = error !== null && (text.trim() !== "" || left) ? error : null;
  return (
    <div class="field">
      <label>
        {label}
        <input
          inputMode={inputMode}
          size={size}
          placeholder={placeholder}
          value={text}
          aria-invalid={shown !== null}
          aria-describedby={shown !== null ? errorId : undefined}
          onInput={(e) => onText((e.target as HTMLInputElement).value)}
          onBlur={() => setLeft(true)}
        />
      </label>
      {/* Always in the page, so screen readers announce the message when it appears. */}
      <span id={errorId} class="field-error" aria-live="polite">
        {shown}
      </span>
    </div>
  );
}
