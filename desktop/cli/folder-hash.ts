/** Smart Select from a local folder: every regular file in it, identified by its SHA-256. */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type { MediaItem } from "../../domain/index.js";
import { UsageError } from "./args.js";

/**
 * The folder's regular files in name order (not recursive). An unreadable folder is a usage error
 * naming `--folder`, the flag it came from.
 */
export function mediaFromFolder(dir: string): MediaItem[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    throw new UsageError(`--folder: cannot read ${dir}: ${(e as Error).message}`);
  }
  const items: MediaItem[] = [];
  for (const name of names) {
    const file = path.join(dir, name);
    const info = statSync(file);
    if (!info.isFile()) continue;
    items.push({ sha256: createHash("sha256").update(readFileSync(file)).digest("hex"), file_name: name, size_bytes: info.size, note: null });
  }
  return items;
}
