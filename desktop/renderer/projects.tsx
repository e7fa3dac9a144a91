/** Projects: list and search (local), create, edit every field (project-edit.tsx), delete. Reads never wait on the network. */
import { useEffect, useState } from "preact/hooks";
import type { EntityView } from "../app/api.js";
import { formatCount } from "../../domain/amounts.js";
import * as ex from "./defaults.js";
import { useApi, useRevision, useWrite } from "./hooks.js";
import { useConfirm } from "./ask.js";
import { PROJECT_FIELDS } from "./field-messages.js";
import { ProjectEdit } from "./project-edit.js";
import { SmartSelect } from "./smart-select.js";

export function ProjectsScreen() {
  const api = useApi();
  const revision = useRevision();
  const [search, setSearch] = useState("");
  const [items, setItems] = useState<EntityView[]>([]);
  const [title, setTitle] = useState("");
  const [client, setClient] = useState("");
  // Create and edit word a refusal the same way (PROJECT_FIELDS).
  const { write, error } = useWrite(PROJECT_FIELDS);
  const confirm = useConfirm();
  const [selecting, setSelecting] = useState<EntityView | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
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
  if (editing) return <ProjectEdit key={editing} id={editing} onClose={() => setEditing(null)} />;
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
                  <span class="muted">{p.entity.data.notes || "no notes"} · {formatCount(p.entity.data.media_selection.items.length)} selected</span>
                </td>
                <td>
                  <button class="secondary" aria-label={`Edit ${p.entity.data.title}`} onClick={() => setEditing(p.entity.entity_id)}>
                    Edit
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
