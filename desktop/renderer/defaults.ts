/** Defaults for new records created from the UI. */
import type { ProjectData } from "../../domain/entities/project.js";

export const newProject = (title: string, client: string): ProjectData => ({
  title,
  client: { name: client, email: null, phone: null },
  status: "inquiry",
  starts_on: null,
  ends_on: null,
  location: null,
  package: null,
  notes: "",
  media_selection: { items: [] },
});
