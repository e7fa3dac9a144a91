import { z } from "zod";

/** Operations on the sync queue. POS orders accept only `create` (sale or correction) and `void`. */
export const Operation = z.enum(["create", "update", "void", "delete"]);
export type Operation = z.infer<typeof Operation>;
