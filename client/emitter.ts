/** A small typed event emitter: `on(name, fn)` returns its own unsubscribe. */
export class Emitter<Events extends object> {
  #listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(name: K, fn: (value: Events[K]) => void): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(fn as (value: never) => void);
    return () => void set.delete(fn as (value: never) => void);
  }

  /**
   * Calls every listener of `name`. A listener that throws does not stop the others nor the client:
   * the throw is reported to `onListenerError` (the client's own `error` event, else the console).
   */
  emit<K extends keyof Events>(name: K, value: Events[K], onListenerError: (error: unknown) => void): void {
    for (const fn of [...(this.#listeners.get(name) ?? [])]) {
      try {
        (fn as (value: Events[K]) => void)(value);
      } catch (error) {
        onListenerError(error);
      }
    }
  }
}
