/**
 * Smart Select: pick a client's photos from a local folder. Each file is identified by its SHA-256
 * (hashed here, in the renderer, one file at a time), so a selection survives renames and copies.
 * The list is windowed: only the visible rows are in the DOM, so thousands of items stay smooth.
 */
import { useMemo, useState } from "preact/hooks";
import type { MediaItem } from "../../domain/entities/project.js";
import { formatCount } from "../../domain/amounts.js";
import { sha256Hex } from "../../lib/bytes.js";
import { useApi } from "./hooks.js";

const ROW_PX = 32;
const VISIBLE_ROWS = 14;

const sha256 = async (file: File): Promise<string> => sha256Hex(await file.arrayBuffer());

export function SmartSelect({ projectId, current, onClose }: { projectId: string; current: MediaItem[]; onClose: () => void }) {
  const api = useApi();
  const [items, setItems] = useState<MediaItem[]>(current);
  const [picked, setPicked] = useState<Set<string>>(() => new Set(current.map((i) => i.sha256)));
  const [hashing, setHashing] = useState<{ done: number; total: number } | null>(null);
  const [scroll, setScroll] = useState(0);
  const [error, setError] = useState<string | null>(null);

  const load = async (files: FileList | null) => {
    if (!files) return;
    const list = Array.from(files).filter((f) => !f.name.startsWith("."));
    const known = new Map(items.map((i) => [i.sha256, i]));
    setHashing({ done: 0, total: list.length });
    for (let i = 0; i < list.length; i++) {
      const file = list[i]!;
      const hash = await sha256(file);
      if (!known.has(hash)) known.set(hash, { sha256: hash, file_name: file.name, size_bytes: file.size, note: null });
      setHashing({ done: i + 1, total: list.length });
    }
    const all = [...known.values()].sort((a, b) => a.file_name.localeCompare(b.file_name));
    setItems(all);
    setHashing(null);
  };

  const first = Math.floor(scroll / ROW_PX);
  const visible = useMemo(() => items.slice(first, first + VISIBLE_ROWS + 2), [items, first]);
  const toggle = (hash: string) =>
    setPicked((p) => {
      const next = new Set(p);
      if (next.has(hash)) next.delete(hash);
      else next.add(hash);
      return next;
    });

  const save = async () => {
    const selection = { items: items.filter((i) => picked.has(i.sha256)) };
    const outcome = await api.call({ method: "write", action: { kind: "media_selection", id: projectId, selection } });
    if (!outcome.ok) return setError(outcome.error.message);
    onClose();
  };

  return (
    <section class="card" aria-labelledby="smart-select-title">
      <h2 id="smart-select-title">Smart Select</h2>
      <div class="row">
        <label>
          Photos folder
          <input type="file" multiple {...{ webkitdirectory: true }} aria-label="Photos folder" onChange={(e) => void load((e.target as HTMLInputElement).files)} />
        </label>
        <span data-testid="selected-count">{formatCount(picked.size)} of {formatCount(items.length)} selected</span>
        <button class="secondary" onClick={() => setPicked(new Set(items.map((i) => i.sha256)))}>Select all</button>
        <button class="secondary" onClick={() => setPicked(new Set())}>Clear</button>
      </div>
      {hashing && (
        <label>
          Reading files: {formatCount(hashing.done)} of {formatCount(hashing.total)}
          <progress max={hashing.total} value={hashing.done} />
        </label>
      )}
      <div
        role="list"
        aria-label="Photos"
        style={`height:${ROW_PX * VISIBLE_ROWS}px;overflow-y:auto;margin-top:.75rem;border:1px solid var(--line);border-radius:6px`}
        onScroll={(e) => setScroll((e.target as HTMLElement).scrollTop)}
      >
        <div style={`height:${items.length * ROW_PX}px;position:relative`}>
          {visible.map((item, i) => (
            <label
              role="listitem"
              key={item.sha256}
              style={`position:absolute;top:${(first + i) * ROW_PX}px;left:0;right:0;height:${ROW_PX}px;display:flex;gap:.5rem;align-items:center;padding:0 .5rem;color:var(--ink)`}
            >
              <input type="checkbox" checked={picked.has(item.sha256)} onChange={() => toggle(item.sha256)} />
              {item.file_name} <span class="muted">{(item.size_bytes / 1e6).toFixed(1)} MB · {item.sha256.slice(0, 10)}</span>
            </label>
          ))}
        </div>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <div class="row" style="margin-top:.75rem">
        <button class="primary" disabled={hashing !== null} onClick={() => void save()}>Save selection</button>
        <button class="secondary" onClick={onClose}>Cancel</button>
      </div>
    </section>
  );
}
