/** Projects: list and search (local), create, edit notes, delete. Reads never wait on the network. */
import { useEffect, useState } from "preact/hooks";
import type { EntityView } from "../app/api.js";
import * as ex from "./defaults.js";
import { useApi, useRevision, useWrite } from "./hooks.js";
import { useAsk, useConfirm } from "./ask.js";
import { SmartSelect } from "./smart-select.js";

export function ProjectsScreen() {
  const api = useApi();
  const revision = useRevision();
  const [search, setSearch] = useState("");
  const [items, setItems] = useState<EntityView[]>([]);
  const [title, setTitle] = useState("");
  const [client, setClient] = useState("");
  const { write, error } = useWrite();
  const ask = useAsk();
  const confirm = useConfirm();
  const [selecting, setSelecting] = useState<EntityView | null>(null);
  useEffect(() => void api.call({ method: "list", type: "project", search, limit: 200 }).then(setItems), [api, revision, search]);

  const create = async () => {
    if ((await write({ kind: "project_create", data: ex.newProject(title, client) })).ok) {
      setTitle("");
      setClient("");
    }
  };
  if (selecting && selecting.entity.entity_type === "project" && selecting.entity.data) {
    return <SmartSelect projectId={selecting.entity.entity_id} current={selecting.entity.data.media_selection.items} onClose={() => setSelecting(null)} />;
  }
  return (
    <section class="card" aria-labelledby="projects-title">
      <h2 id="projects-title">Projects</h2>
      <div class="row">
        <label>
          Title
          <input value={title} onInput={(e) => setTitle((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          Client
          <input value={client} onInput={(e) => setClient((e.target as HTMLInputElement).value)} />
        </label>
        <button class="primary" disabled={!title || !client} onClick={() => void create()}>Create project</button>
        <label style="margin-left:auto">
          Search
          <input type="search" value={search} onInput={(e) => setSearch((e.target as HTMLInputElement).value)} />
        </label>
      </div>
      {error && <p class="error" role="alert">{error}</p>}
      <table aria-label="Projects" style="margin-top:1rem">
        <tbody>
          {items.map((p) =>
            p.entity.entity_type === "project" && p.entity.data ? (
              <tr key={p.entity.entity_id} data-testid="project-row">
                <td>
                  <strong>{p.entity.data.title}</strong> · {p.entity.data.client.name} {p.status !== "synced" && <span class={`badge ${p.status}`}>{p.status}</span>}
                  <br />
                  <span class="muted">{p.entity.data.notes || "no notes"} · {p.entity.data.media_selection.items.length} selected</span>
                </td>
                <td>
                  <button
                    class="secondary"
                    onClick={async () => {
                      const notes = await ask({ label: "Notes", initial: p.entity.data && "notes" in p.entity.data ? p.entity.data.notes : "" });
                      if (notes !== null) void write({ kind: "project_update", id: p.entity.entity_id, patch: { notes } });
                    }}
                  >
                    Edit notes
                  </button>{" "}
                  <button class="secondary" onClick={() => setSelecting(p)}>
                    Smart Select
                  </button>{" "}
                  <button
                    class="secondary"
                    aria-label={`Delete ${p.entity.data.title}`}
                    onClick={async () => {
                      if (p.entity.entity_type !== "project" || !p.entity.data) return;
                      const { title, client: who } = p.entity.data;
                      const sure = await confirm({
                        title: `Delete the project "${title}"?`,
                        detail: `The project for ${who.name}, its notes and its photo selection are removed from this till and, once sent, from every till in the branch. This cannot be undone here.`,
                        confirm: "Delete project",
                        cancel: "Keep project",
                      });
                      if (sure) void write({ kind: "project_delete", id: p.entity.entity_id, reason: "deleted in the app" });
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ) : null,
          )}
        </tbody>
      </table>
    </section>
  );
}
