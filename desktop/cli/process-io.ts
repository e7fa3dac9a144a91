/**
 * The real process's stdout and stderr as an Io, and the wait before exiting.
 *
 * Why the wait: when stdout is a pipe, Node writes to it asynchronously (files and terminals are
 * synchronous; Node's docs, "A note on process I/O"). `process.exit()` does not wait for queued
 * writes, so a result larger than the pipe's buffer (64 KiB on Linux) was cut at exactly 65,536
 * bytes with exit 0. `flushed()` resolves once the last line written has been handed to the OS.
 */
import type { Io } from "./context.js";

export interface ProcessIo extends Io {
  /** Resolves when everything written so far has left the process (or the reader went away). */
  flushed(): Promise<void>;
}

type Stream = NodeJS.WriteStream;

function writer(stream: Stream) {
  let last: Promise<void> = Promise.resolve();
  let closed = false;
  // A reader that goes away (`| head -1`) is not an error of ours: stop writing, exit as planned.
  stream.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    closed = true;
  });
  const write = (text: string) => {
    if (closed) return;
    last = new Promise((resolve) => stream.write(text, () => resolve()));
  };
  return { write, flushed: () => last };
}

export function processIo(json: boolean, stdout: Stream = process.stdout, stderr: Stream = process.stderr): ProcessIo {
  const out = writer(stdout);
  const err = writer(stderr);
  let progressShown = false;
  return {
    out: (line) => out.write(`${line}\n`),
    err: (line) => {
      // A log line in the middle of a progress line starts on a line of its own.
      if (progressShown) err.write("\n");
      progressShown = false;
      err.write(`${line}\n`);
    },
    // Only on a terminal and not under --json: a pipe or a script never sees a redrawn line.
    ...(stderr.isTTY && !json
      ? {
          progress: (line: string, final = false) => {
            err.write(`\r\x1b[K${line}${final ? "\n" : ""}`);
            progressShown = !final;
          },
        }
      : {}),
    flushed: async () => {
      await out.flushed();
      await err.flushed();
    },
  };
}
