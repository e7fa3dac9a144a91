/**
 * Editing a project, every field it has (issue 14): title, client (name, email, phone), status,
 * dates, location, package (name, price, currency) and notes. The photo selection has its own screen
 * (Smart Select). Only the fields that changed are sent (an update replaces top-level fields, so a
 * changed client email sends the client). The price is read by the one parser of amounts and the
 * dates by the one parser of days (domain/); every other rule is the store's, refused in the same
 * words as when creating (PROJECT_FIELDS).
 */
import { useEffect, useId, useState } from "preact/hooks";
import type { ProjectData, ProjectPatch } from "../../domain/entities/project.js";
import { formatMinor, parseAmountMinor } from "../../domain/amounts.js";
import { parseDay } from "../../domain/clock.js";
import { err, ok, type Result } from "../../lib/result.js";
import { AmountInput } from "./amount-input.js";
import { PROJECT_FIELDS } from "./field-messages.js";
import { useApi, useWrite } from "./hooks.js";
import { LeaseNote, useLeaseWhile } from "./lease-note.js";

/** The statuses in the order a project moves through them, in words. */
export const PROJECT_STATUSES: ReadonlyArray<readonly [ProjectData["status"], string]> = [
  ["inquiry", "Inquiry"],
  ["booked", "Booked"],
  ["shooting", "Shooting"],
  ["editing", "Editing"],
  ["delivered", "Delivered"],
  ["archived", "Archived"],
];

/** The form's fields as typed: text, never parsed values, so a half-typed price stays on screen. */
export interface ProjectForm {
  title: string;
  client_name: string;
  email: string;
  phone: string;
  status: ProjectData["status"];
  starts_on: string;
  ends_on: string;
  location: string;
  package_name: string;
  price: string;
  currency: string;
  notes: string;
}

export function formOf(p: ProjectData): ProjectForm {
  return {
    title: p.title,
    client_name: p.client.name,
    email: p.client.email ?? "",
    phone: p.client.phone ?? "",
    status: p.status,
    starts_on: p.starts_on ?? "",
    ends_on: p.ends_on ?? "",
    location: p.location ?? "",
    package_name: p.package?.name ?? "",
    price: p.package ? formatMinor(p.package.price.amount_minor) : "",
    currency: p.package?.price.currency ?? "LKR",
    notes: p.notes,
  };
}

/** Each field that cannot be read yet, by the form's field name. */
export type FormErrors = Partial<Record<"starts_on" | "ends_on" | "price" | "package_name", string>>;

const emptyIsNull = (s: string) => (s.trim() === "" ? null : s);
const day = (s: string): Result<string | null, string> => (s.trim() === "" ? ok(null) : parseDay(s));

/**
 * The patch of what changed (null: nothing did), or the fields that cannot be read. Everything
 * readable is handed to the store as typed; it is the one judge of lengths, emails and phones.
 */
export function projectPatch(original: ProjectData, form: ProjectForm): Result<ProjectPatch | null, FormErrors> {
  const errors: FormErrors = {};
  const starts = day(form.starts_on);
  const ends = day(form.ends_on);
  if (!starts.ok) errors.starts_on = starts.error;
  if (!ends.ok) errors.ends_on = ends.error;
  const hasPackage = form.package_name.trim() !== "" || form.price.trim() !== "";
  const price = hasPackage ? parseAmountMinor(form.price) : ok(0);
  if (!price.ok) errors.price = price.error;
  if (hasPackage && form.package_name.trim() === "") errors.package_name = "Enter the package's name, or clear its price";
  if (!starts.ok || !ends.ok || !price.ok || Object.keys(errors).length > 0) return err(errors);
  const next: ProjectData = {
    ...original,
    title: form.title,
    client: { name: form.client_name, email: emptyIsNull(form.email), phone: emptyIsNull(form.phone) },
    status: form.status,
    starts_on: starts.value,
    ends_on: ends.value,
    location: emptyIsNull(form.location),
    package: hasPackage ? { name: form.package_name, price: { amount_minor: price.value, currency: form.currency.trim().toUpperCase() } } : null,
    notes: form.notes,
  };
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(next) as Array<keyof ProjectData>) {
    if (JSON.stringify(next[key]) !== JSON.stringify(original[key])) patch[key] = next[key];
  }
  return ok(Object.keys(patch).length === 0 ? null : (patch as ProjectPatch));
}

/**
 * The form starts from the project as stored when it opens, read afresh: the list it was opened from
 * can be a moment old (it re-reads after the core says data changed), and a form built on an old copy
 * would send back old values as changes.
 */
export function ProjectEdit({ id, onClose }: { id: string; onClose: () => void }) {
  const api = useApi();
  const [project, setProject] = useState<ProjectData | null | undefined>(undefined);
  useEffect(() => {
    let open = true;
    void api.call({ method: "get", id }).then((v) => open && setProject(v && v.entity.entity_type === "project" && v.entity.data ? v.entity.data : null));
    return () => {
      open = false;
    };
  }, [api, id]);
  if (project === undefined) return <section class="card">Loading…</section>;
  if (project === null) {
    return (
      <section class="card" aria-labelledby="project-edit-title">
        <h2 id="project-edit-title">This project is no longer here</h2>
        <p>It was deleted, on this till or on another one.</p>
        <button class="secondary" onClick={onClose}>
          Back to projects
        </button>
      </section>
    );
  }
  return <ProjectEditForm id={id} project={project} onClose={onClose} />;
}

function ProjectEditForm({ id, project, onClose }: { id: string; project: ProjectData; onClose: () => void }) {
  const [form, setForm] = useState<ProjectForm>(() => formOf(project));
  const { write, error } = useWrite(PROJECT_FIELDS);
  // The package and its price are the project's guarded `package` group: held on the branch from the
  // moment the person goes into those fields until the form is saved, cancelled or closed.
  const [editingPackage, setEditingPackage] = useState(false);
  useLeaseWhile(id, "package", editingPackage);
  const result = projectPatch(project, form);
  const errors: FormErrors = result.ok ? {} : result.error;
  const packageErrorId = useId();
  const set = (key: keyof ProjectForm) => (e: Event) => setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  const save = async () => {
    if (!result.ok || result.value === null) return;
    if ((await write({ kind: "project_update", id, patch: result.value })).ok) onClose();
  };
  return (
    <section class="card" aria-labelledby="project-edit-title">
      <h2 id="project-edit-title">Edit project “{project.title}”</h2>
      {/* noValidate: the browser's own bubbles would stop a save silently, in other words than the store's. */}
      <form
        class="project-form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void save();
        }}
      >
        <fieldset>
          <legend>Project</legend>
          <label>
            Title
            <input value={form.title} onInput={set("title")} />
          </label>
          <label>
            Status
            <select value={form.status} onChange={set("status")}>
              {PROJECT_STATUSES.map(([value, words]) => (
                <option key={value} value={value}>{words}</option>
              ))}
            </select>
          </label>
          <DateField label="Starts on" value={form.starts_on} onInput={set("starts_on")} error={errors.starts_on ?? null} />
          <DateField label="Ends on" value={form.ends_on} onInput={set("ends_on")} error={errors.ends_on ?? null} />
          <label>
            Location
            <input value={form.location} onInput={set("location")} />
          </label>
        </fieldset>
        <fieldset>
          <legend>Client</legend>
          <label>
            Client name
            <input value={form.client_name} onInput={set("client_name")} />
          </label>
          <label>
            Email
            <input type="email" value={form.email} onInput={set("email")} />
          </label>
          <label>
            Phone
            <input type="tel" value={form.phone} onInput={set("phone")} />
          </label>
        </fieldset>
        <fieldset onFocusIn={() => setEditingPackage(true)}>
          <legend>Package</legend>
          <LeaseNote entityId={id} group="package" editing={editingPackage} />
          <label>
            Package name
            <input value={form.package_name} onInput={set("package_name")} aria-invalid={errors.package_name !== undefined} aria-describedby={errors.package_name ? packageErrorId : undefined} />
          </label>
          <span id={packageErrorId} class="package-error" aria-live="polite">
            {errors.package_name}
          </span>
          <AmountInput label="Price" text={form.price} onText={(price) => setForm({ ...form, price })} error={form.package_name.trim() === "" && form.price.trim() === "" ? null : (errors.price ?? null)} size={12} />
          <label>
            Currency
            <input value={form.currency} onInput={set("currency")} size={4} />
          </label>
        </fieldset>
        <label class="wide">
          Notes
          <textarea rows={4} value={form.notes} onInput={set("notes")} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <div class="row">
          <button type="submit" class="primary" disabled={!result.ok || result.value === null}>
            Save changes
          </button>
          <button type="button" class="secondary" onClick={onClose}>
            Cancel
          </button>
          <span class="muted" aria-live="polite">
            {result.ok && result.value === null ? "Nothing changed yet" : ""}
          </span>
        </div>
      </form>
    </section>
  );
}

/**
 * A day as text, `YYYY-MM-DD` (the form receipts, the ledger and the CLI use), read by parseDay: not
 * the browser's date picker, which shows the host's locale order (12/05 is May or December) and
 * hands back "" for a half-typed day, so the shared parser could never say what is wrong.
 */
function DateField({ label, value, onInput, error }: { label: string; value: string; onInput: (e: Event) => void; error: string | null }) {
  const errorId = useId();
  return (
    <div class="field">
      <label>
        {label}
        <input value={value} onInput={onInput} placeholder="YYYY-MM-DD" size={11} aria-invalid={error !== null} aria-describedby={error !== null ? errorId : undefined} />
      </label>
      <span id={errorId} class="field-error" aria-live="polite">
        {error}
      </span>
    </div>
  );
}
