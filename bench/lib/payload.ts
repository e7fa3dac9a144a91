/** The benchmarks' record: a project of about 200 bytes of JSON, the same for StudioVault and the baseline. */
import { newProject } from "../../desktop/renderer/defaults.js";
import type { ProjectData } from "../../domain/entities/project.js";

export function benchProject(i: number): ProjectData {
  const n = String(i).padStart(6, "0");
  return newProject(`Shoot ${n}`, `Client ${n}`);
}
