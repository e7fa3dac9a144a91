export * from "./messages.js";
export * from "./close-codes.js";
export * from "./limits.js";
export * from "./wire.js";
export * from "./chunking.js";
export * from "./snapshot.js";
export * from "./devices.js";
export * from "./token.js";
