/**
 * Result values for expected failures, `assert` for bugs (STYLE.md §6).
 *
 * A rejected event, a malformed frame or a refused token is an expected outcome of talking to an
 * untrusted peer: it is returned as a value. A broken internal invariant is a bug: it throws.
 */

export type Ok<T> = { readonly ok: true; readonly value: T };
export type Err<E> = { readonly ok: false; readonly error: E };
export type Result<T, E> = Ok<T> | Err<E>;

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });
export const err = <E>(error: E): Err<E> => ({ ok: false, error });

/** Thrown only by `assert`: an internal invariant does not hold. Never used for bad input. */
export class InvariantError extends Error {
  override readonly name = "InvariantError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}

/** Exhaustiveness guard: every `switch` over a union ends here. */
export function unreachable(value: never, what = "value"): never {
  throw new InvariantError(`unreachable ${what}: ${JSON.stringify(value)}`);
}
