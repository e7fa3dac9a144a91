/**
 * Simulated time: one queue of tasks ordered by (time, insertion), and a clock that jumps from task
 * to task. Everything that would be a macrotask in the real program (timers, XState delays, the
 * session's yield between slices, every network delivery) is a task here; promise continuations
 * (microtasks) run for real, and the scheduler lets them all run out after each task before it takes
 * the next. Nothing in the simulated code does real I/O (better-sqlite3 is synchronous; frames are
 * kept below the size that would need WebCrypto for chunks), so the order of everything is a
 * function of the seed alone.
 */

/** The real setImmediate, captured once: the microtask queue is empty when its callback runs. */
const realSetImmediate = globalThis.setImmediate;
const settle = () => new Promise<void>((resolve) => realSetImmediate(resolve));

export interface Task {
  readonly at: number;
  readonly order: number;
  cancelled: boolean;
  readonly run: () => void;
  readonly label: string;
}

export class Scheduler {
  #now: number;
  #order = 0;
  #heap: Task[] = [];
  /** Tasks run so far (a cost measure). */
  steps = 0;
  /** An exception thrown by a task: reported as a violation (nothing may throw past a boundary, I12). */
  readonly errors: Array<{ at: number; label: string; error: unknown }> = [];

  constructor(startMs: number) {
    this.#now = startMs;
  }

  get now(): number {
    return this.#now;
  }

  at(atMs: number, label: string, run: () => void): Task {
    const task: Task = { at: Math.max(atMs, this.#now), order: this.#order++, cancelled: false, run, label };
    this.#push(task);
    return task;
  }

  after(delayMs: number, label: string, run: () => void): Task {
    return this.at(this.#now + Math.max(0, delayMs), label, run);
  }

  cancel(task: Task | null | undefined): void {
    if (task) task.cancelled = true;
  }

  /** Time of the next live task, or null when nothing is scheduled. */
  peek(): number | null {
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
    return this.#heap[0]?.at ?? null;
  }

  /** Runs the next task and lets every promise continuation it caused run out. False when idle. */
  async step(): Promise<boolean> {
    if (this.peek() === null) return false;
    const task = this.#pop()!;
    this.#now = task.at;
    this.steps++;
    try {
      const result = task.run() as unknown;
      if (result instanceof Promise) result.catch((error: unknown) => this.errors.push({ at: this.#now, label: task.label, error }));
    } catch (error) {
      this.errors.push({ at: this.#now, label: task.label, error });
    }
    await settle();
    return true;
  }

  /**
   * Runs tasks until `done()` holds (checked after every task), the queue is empty, or the next task
   * lies beyond `untilMs`. Returns whether `done()` held.
   */
  async runUntil(untilMs: number, done: () => boolean = () => false): Promise<boolean> {
    for (;;) {
      if (done()) return true;
      const next = this.peek();
      if (next === null || next > untilMs) {
        this.#now = Math.max(this.#now, untilMs);
        return done();
      }
      await this.step();
    }
  }

  #push(task: Task): void {
    const heap = this.#heap;
    heap.push(task);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): Task | undefined {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length > 0 && last) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }
}

const before = (a: Task, b: Task) => a.at < b.at || (a.at === b.at && a.order < b.order);

/**
 * The timers of one process incarnation of a device: setTimeout/setInterval for the engine, the
 * XState clock for the sync machine, and the session's yield between slices. A crash kills the
 * scope: nothing the dead process scheduled ever runs again (a killed process runs no code).
 */
export class TimerScope {
  #alive = true;
  readonly #tasks = new Set<Task>();
  readonly #intervals = new Map<object, Task>();

  constructor(
    private readonly scheduler: Scheduler,
    private readonly name: string,
  ) {}

  get alive(): boolean {
    return this.#alive;
  }

  setTimeout = (fn: () => void, ms: number): unknown => {
    if (!this.#alive) return null;
    const task = this.scheduler.after(ms, `${this.name} timer`, () => {
      this.#tasks.delete(task);
      if (this.#alive) fn();
    });
    this.#tasks.add(task);
    return task;
  };

  clearTimeout = (handle: unknown): void => {
    const task = handle as Task | null;
    if (!task) return;
    this.scheduler.cancel(task);
    this.#tasks.delete(task);
  };

  setInterval = (fn: () => void, ms: number): unknown => {
    const handle = {};
    const arm = () => {
      if (!this.#alive) return;
      const task = this.scheduler.after(Math.max(1, ms), `${this.name} interval`, () => {
        this.#tasks.delete(task);
        if (!this.#alive || !this.#intervals.has(handle)) return;
        arm();
        fn();
      });
      this.#tasks.add(task);
      this.#intervals.set(handle, task);
    };
    arm();
    return handle;
  };

  clearInterval = (handle: unknown): void => {
    const task = this.#intervals.get(handle as object);
    this.#intervals.delete(handle as object);
    this.clearTimeout(task);
  };

  /** The session's yield between slices: a zero-delay task (a dead process never resumes). */
  yieldToEventLoop = (): Promise<void> => new Promise<void>((resolve) => void this.setTimeout(resolve, 0));

  kill(): void {
    this.#alive = false;
    for (const task of this.#tasks) this.scheduler.cancel(task);
    this.#tasks.clear();
    this.#intervals.clear();
  }
}
