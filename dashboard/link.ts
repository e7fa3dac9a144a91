/**
 * What the dashboard uses of a branch's browser client (client/ BranchClient): its connection, its
 * dashboard feed and its typed HTTP reads. A `Pick`, so the views depend on these members only.
 */
import type { BranchClient } from "../client/index.js";

export type BranchLink = Pick<BranchClient, "state" | "welcome" | "closed" | "api" | "start" | "stop" | "watch" | "on" | "reportStatus">;
export type { ApiResult, AuditQuery, ClientState as LinkState, ClosedInfo, RejectionQuery } from "../client/index.js";
