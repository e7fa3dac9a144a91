/**
 * Vitest global setup: every temporary file of a test run lives under one folder of its own, which
 * is removed when the run ends, passed or failed. Tests, the servers they start (wrangler's
 * persisted state), the CLI processes they spawn and Chromium all take their temp directory from
 * TMPDIR, so setting it here, before any worker starts, catches everything they create.
 *
 * A run that was killed outright cannot clean up: the next run removes the folders of runs whose
 * process is gone.
 */
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const PREFIX = "sv-test-run-";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

export default function setup(): () => void {
  const base = tmpdir();
  for (const name of readdirSync(base)) {
    const pid = Number(/^sv-test-run-(\d+)-/.exec(name)?.[1]);
    if (pid && !alive(pid)) rmSync(path.join(base, name), { recursive: true, force: true });
  }
  const root = mkdtempSync(path.join(base, `${PREFIX}${process.pid}-`));
  const previous = process.env.TMPDIR;
  process.env.TMPDIR = root;
  return () => {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(root, { recursive: true, force: true });
  };
}
