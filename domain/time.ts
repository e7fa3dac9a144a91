/** The branch time zone as a wire/settings value. The rules themselves are in clock.ts (no zod). */
import { z } from "zod";
import { isTimeZone } from "./clock.js";

export const TimeZone = z.string().min(1).max(64).refine(isTimeZone, "must be an IANA time zone name such as Asia/Colombo");
export type TimeZone = z.infer<typeof TimeZone>;
