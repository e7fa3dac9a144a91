/**
 * The branch's settings over HTTP (`GET`/`PUT …/settings`, owner and manager): one shape for the
 * server that answers and the clients that read it (the CLI today, the dashboard next).
 */
import { z } from "zod";
import { StudioDetails, StudioDetailsPatch } from "../domain/studio.js";
import { TimeZone } from "../domain/time.js";

/** What `GET …/settings` and `PUT …/settings` answer: the settings in force. The time zone is fixed per branch. */
export const BranchSettingsBody = z.object({ time_zone: TimeZone, studio: StudioDetails });
export type BranchSettingsBody = z.infer<typeof BranchSettingsBody>;

/** The body of `PUT …/settings`: the studio fields to replace (the others are kept). */
export const SettingsRequest = z.strictObject({ studio: StudioDetailsPatch });
export type SettingsRequest = z.infer<typeof SettingsRequest>;
