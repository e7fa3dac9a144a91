/**
 * Decoding frames from an untrusted peer. Every decoder returns a Result: bad input (oversize,
 * invalid UTF-8, invalid JSON, nesting deep enough to overflow the parser's stack, the wrong shape)
 * is a value, never an exception.
 */
import { z } from "zod";
import { EventId } from "../domain/ids.js";
import { FRAME_LIMIT_BYTES, MAX_BATCH_EVENTS } from "./limits.js";
import { Chunk, ClientMessage, Hello, LeaseRequest, Ping, Pull, Push, ServerMessage, Status, UploadQuery, Watch } from "./messages.js";
import { err, ok, type Result } from "../lib/result.js";

export interface DecodeError {
  code: "frame_too_large" | "malformed_message";
  /** For people and logs: what was wrong, with the expected and received values where known. */
  message: string;
}

/** Any code unit that is not ASCII (ASCII is one byte in UTF-8). */
const NON_ASCII = /[^\x00-\x7f]/;

/**
 * UTF-8 length of a string without allocating its encoding. Frames are JSON and mostly ASCII, whose
 * UTF-8 length is the string's length: one regular-expression scan (native code from the first call)
 * finds the first other character, about 5× faster than the loop warm and far more on a device's
 * first frames, when the loop still runs in the interpreter. From there it is counted unit by unit.
 */
export function utf8ByteLength(text: string): number {
  const first = text.search(NON_ASCII);
  if (first === -1) return text.length;
  let bytes = first;
  for (let i = first; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

/** Raw frame → text, enforcing the byte limit before anything is parsed. */
export function frameText(
  raw: string | ArrayBuffer | ArrayBufferView,
  limitBytes: number = FRAME_LIMIT_BYTES,
): Result<string, DecodeError> {
  // A string of at most limit/3 UTF-16 units is at most `limitBytes` of UTF-8: only a longer one is counted.
  const size = typeof raw === "string" ? (raw.length <= limitBytes / 3 ? raw.length : utf8ByteLength(raw)) : raw.byteLength;
  if (size > limitBytes) {
    return err({ code: "frame_too_large", message: `frame is ${size} bytes; the limit is ${limitBytes} bytes` });
  }
  if (typeof raw === "string") return ok(raw);
  try {
    return ok(utf8.decode(raw));
  } catch {
    return err({ code: "malformed_message", message: "frame is not valid UTF-8" });
  }
}

/** JSON text → value. Deeply nested input makes V8's parser throw RangeError: also a value here. */
export function parseJson(text: string): Result<unknown, DecodeError> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (e) {
    const why = e instanceof RangeError ? "nested too deeply" : "is not valid JSON";
    return err({ code: "malformed_message", message: `message ${why}` });
  }
  // JSON.parse makes "__proto__" an ordinary own key, but copying the object (as zod does) turns it
  // into a prototype assignment and the key silently vanishes: a strict object would accept what it
  // should refuse. No message has such a key, so a message with one is malformed. The walk runs only
  // when the text could spell it (directly or with \u escapes), so ordinary frames pay one scan.
  if ((text.includes("__proto__") || text.includes("\\u")) && hasProtoKey(value)) {
    return err({ code: "malformed_message", message: 'message has a "__proto__" key, which no message may have' });
  }
  return ok(value);
}

function hasProtoKey(value: unknown): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== "object" || v === null) continue;
    if (!Array.isArray(v) && Object.prototype.hasOwnProperty.call(v, "__proto__")) return true;
    // A loop, not push(...v): a 20,000-item selection would be as many call arguments.
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (typeof child === "object" && child !== null) stack.push(child);
  }
  return false;
}

/** A zod error in a few readable lines, bounded so it fits an `error` message. */
export function describeZodError(error: z.ZodError): string {
  return z.prettifyError(error).slice(0, 900);
}

export function decodeWith<S extends z.ZodType>(
  schema: S,
  raw: string | ArrayBuffer | ArrayBufferView,
  limitBytes: number = FRAME_LIMIT_BYTES,
): Result<z.infer<S>, DecodeError> {
  const text = frameText(raw, limitBytes);
  if (!text.ok) return text;
  const json = parseJson(text.value);
  if (!json.ok) return json;
  const parsed = schema.safeParse(json.value);
  if (!parsed.success) return err({ code: "malformed_message", message: describeZodError(parsed.error) });
  return ok(parsed.data);
}

/**
 * The server's view of a push frame: the batch must be well formed and every event must carry a
 * valid id, but each event's body is validated on its own so that a bad event is rejected with a
 * verdict of its own (I2) instead of failing the whole frame.
 */
export const PushFrame = z.strictObject({
  type: z.literal("push"),
  batch_id: Push.shape.batch_id,
  events: z.array(z.looseObject({ id: EventId })).min(1).max(MAX_BATCH_EVENTS),
});
export type PushFrame = z.infer<typeof PushFrame>;

/** What the server decodes: ClientMessage with the lenient push envelope. */
export const ClientFrame = z.discriminatedUnion("type", [Hello, PushFrame, Pull, Chunk, UploadQuery, Ping, Status, Watch, LeaseRequest]);
export type ClientFrame = z.infer<typeof ClientFrame>;

export const decodeClientFrame = (raw: string | ArrayBuffer | ArrayBufferView, limitBytes?: number) =>
  decodeWith(ClientFrame, raw, limitBytes);
export const decodeClientMessage = (raw: string | ArrayBuffer | ArrayBufferView, limitBytes?: number) =>
  decodeWith(ClientMessage, raw, limitBytes);
export const decodeServerMessage = (raw: string | ArrayBuffer | ArrayBufferView, limitBytes?: number) =>
  decodeWith(serverMessageSchema, raw, limitBytes);

/**
 * What decodeServerMessage checks a frame against: ServerMessage, or, once compileServerDecoder has
 * run, the same schema compiled by zod (`z.compile`, zod 4.6): one generated function checks a frame,
 * and a frame it does not accept is parsed again by the runtime parser, so a refusal and its words
 * are the runtime's own. It accepts and returns exactly what the runtime would
 * (test/node/schema/compiled-decoder.test.ts holds the two to that on every message type and
 * mutations of them).
 *
 * Why (issue 16): a device decodes every change it is sent. The runtime parser reaches its speed only
 * once V8 has optimized it, after about 10,000 changes: until then 20-85 µs per change against 5, so
 * a device that has just started (a cold catch-up, a listener) spent as much CPU checking frames as
 * applying them. Compiled, the first 10,000 changes cost 5.6 µs each on average (the very first frame
 * about 40, then 2-6); docs/benchmarks.md, "Issue 16, fifth pass".
 *
 * Opt-in, because compiling generates code (`new Function`): a Node process (the desktop, the CLI)
 * calls it once at start-up, and it costs about 20 ms there (up to 70 ms in a process whose own code
 * is not optimized yet). Where generating code is not allowed (workerd, a page under a strict CSP)
 * zod hands the schema back uncompiled, and nothing changes.
 */
let serverMessageSchema: typeof ServerMessage = ServerMessage;
let compileTried = false;

/** Compiles decodeServerMessage's schema, once (a refusal is not tried again). Returns whether it is compiled. */
export function compileServerDecoder(): boolean {
  if (!compileTried) {
    compileTried = true;
    serverMessageSchema = z.compile(ServerMessage);
  }
  return serverMessageSchema !== ServerMessage;
}
