/**
 * Browser mode's access key, kept beside the database so the printed link stays the same across
 * restarts of `npm run desktop:browser` for the same database (a bookmark keeps working), while
 * another database gets another key. The file is the secret: mode 0600, like an SSH key, so other
 * users of the computer cannot read it (on Windows the mode is ignored and the folder's ACL decides).
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";

/** 16 random bytes as hex: what startBrowserBridge accepts as a key. */
export const BROWSER_KEY = /^[0-9a-f]{32}$/;

export const newBrowserKey = (): string => randomBytes(16).toString("hex");

/** Where the key of the database at `dbPath` is kept. */
export const browserKeyPath = (dbPath: string): string => `${dbPath}.browser-key`;

/**
 * The key of the database at `dbPath`: read from its key file, or made and saved there (0600) on the
 * first start. A file that is not a key (edited, truncated) is replaced: old links stop working, and
 * the page they open says so. A file readable by others is narrowed to 0600.
 */
export function browserKeyFor(dbPath: string): string {
  const file = browserKeyPath(dbPath);
  if (existsSync(file)) {
    const saved = readFileSync(file, "utf8").trim();
    if (BROWSER_KEY.test(saved)) {
      if (process.platform !== "win32" && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
      return saved;
    }
  }
  const key = newBrowserKey();
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  chmodSync(file, 0o600); // writeFile's mode applies only to a file it creates
  return key;
}
