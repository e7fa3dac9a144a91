/** Waiting for a condition in a benchmark device, woken by what changes it. */

/** Resolves when `done()` holds, re-checked whenever `poke` is called and every 20 ms. */
export class Waiters {
  #waiters: Array<{ done: () => boolean; resolve: () => void }> = [];
  wait(done: () => boolean): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setInterval(() => this.poke(), 20);
      this.#waiters.push({
        done,
        resolve: () => {
          clearInterval(timer);
          resolve();
        },
      });
    });
  }
  poke(): void {
    const still = [];
    for (const w of this.#waiters) (w.done() ? w.resolve() : still.push(w));
    this.#waiters = still;
  }
}
