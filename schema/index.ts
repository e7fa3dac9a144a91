/**
 * The one vocabulary both sides import: entities, sync events, protocol v1, reject and close codes,
 * roles and permissions. No I/O here.
 */
export * from "./codes.js";
export * from "./entities/index.js";
export * from "./events.js";
export * from "./ids.js";
export * from "./limits.js";
export * from "./money.js";
export * from "./operations.js";
export * from "./permissions.js";
export * from "./protocol.js";
export * from "./result.js";
export * from "./text.js";
export * from "./wire.js";
export * from "./apply.js";
export * from "./ledger.js";
export * from "./chunking.js";
export * from "./token.js";
export * from "./sqlite.js";
export * from "./snapshot.js";
export * from "./time.js";
export * from "./devices.js";
