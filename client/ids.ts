/** Request, batch and transfer ids: UUIDv7 (the id shape of protocol/messages.ts) from WebCrypto randomness. */
import { uuidv7 } from "../domain/ids.js";

export const newRequestId = (nowMs: number): string => uuidv7(nowMs, (bytes) => crypto.getRandomValues(bytes));

/** The wall clock, for callers that inject none (tests always inject theirs). */
export const systemClock = (): number => Date.now();
