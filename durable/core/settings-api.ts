/**
 * `GET`/`PUT …/settings`: the branch's settings for its owner and managers. Kept apart from
 * http-api.ts's routing: reading and validating a settings change is one idea.
 */
import { studioIssueWords } from "../../domain/index.js";
import { parseJson, SettingsRequest, type BranchSettingsBody } from "../../protocol/index.js";
import type { Actor } from "./actor.js";
import type { BranchCore } from "./branch.js";

export type SettingsAnswer = { ok: true; settings: BranchSettingsBody } | { ok: false; message: string };

export function readSettings(core: BranchCore): BranchSettingsBody {
  const { time_zone, studio } = core.settings();
  return { time_zone, studio };
}

/** A change to the studio's details: every bad field named in words (nothing is changed then), else stored and audited. */
export function changeSettings(core: BranchCore, by: Actor, text: string): SettingsAnswer {
  const json = parseJson(text);
  if (!json.ok) return { ok: false, message: `the body is not JSON: ${json.error.message}` };
  const body = SettingsRequest.safeParse(json.value);
  if (!body.success) return { ok: false, message: `nothing was changed: ${studioIssueWords(body.error).join("; ")}` };
  core.updateStudio(by, body.data.studio);
  return { ok: true, settings: readSettings(core) };
}
