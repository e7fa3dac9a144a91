/**
 * Size and count limits shared by both sides. Units are in the names.
 *
 * Every string and array on the wire has an upper bound, so a hostile or buggy peer cannot make
 * either side allocate without limit while validating.
 */

/**
 * Largest WebSocket frame either side sends. Cloudflare documents 1 MiB as the WebSocket message
 * limit, and frames just below 1 MiB have been seen to fail on hibernated Durable Object sockets
 * (LiveStore's sync-cf uses 900_000 for the same reason), so we stay at 900 KB.
 */
export const FRAME_LIMIT_BYTES = 900_000;

/**
 * Raw bytes carried by one chunk. Base64 turns 600_000 bytes into 800_000 characters, which with the
 * chunk envelope (< 400 bytes) keeps every chunk frame under FRAME_LIMIT_BYTES.
 */
export const CHUNK_RAW_BYTES = 600_000;

/**
 * Largest message that may be reassembled from chunks. A Worker isolate has 128 MB; reassembly holds
 * the text, its parse and the stored copy at once, so 16 MiB keeps a wide margin.
 */
export const MAX_ASSEMBLED_MESSAGE_BYTES = 16 * 1024 * 1024;
export const MAX_CHUNKS_PER_TRANSFER = Math.ceil(MAX_ASSEMBLED_MESSAGE_BYTES / CHUNK_RAW_BYTES);

/**
 * Uploads in progress per device (I12: no device can grow a branch without bound). An honest device
 * sends one message at a time and may leave one unfinished behind a crash; starting one more than
 * this abandons the device's oldest, so storage per device stays under this × MAX_ASSEMBLED_MESSAGE_BYTES
 * and a device that crashed is never locked out.
 */
export const MAX_OPEN_UPLOADS_PER_DEVICE = 2;

/**
 * Live broadcasts a connection may be sent without a frame from it. Past this, it gets a `poke`
 * (tens of bytes) instead of the changes: an honest device pulls, which counts as a frame.
 */
export const LIVE_UNREAD_BUDGET_BYTES = 1024 * 1024;
/** Pokes in a row without a frame from the connection before it is closed as `slow_consumer`. */
export const MAX_UNANSWERED_POKES = 256;

/** Largest single sync event once serialized (UTF-8 JSON). Larger events are refused `payload_too_large`. */
export const MAX_EVENT_BYTES = 12 * 1024 * 1024;

/** A push batch is bounded by count; its bytes are bounded by the frame (or the chunked transfer). */
export const MAX_BATCH_EVENTS = 200;

/** A pull page is bounded by count and by bytes; a page always carries at least one change. */
export const MAX_PULL_PAGE_CHANGES = 1_000;
export const PULL_PAGE_TARGET_BYTES = 512 * 1024;

/** Since v6: the most devices a `watching`/`observed` lists (most recently seen first); the rest over HTTP. */
export const MAX_WATCHED_DEVICES = 500;
/** Since v6: the most rejections one `observed` carries; beyond it `more_rejections` says read them over HTTP. */
export const MAX_OBSERVED_REJECTIONS = 200;
/** Since v6: a connected device sends `status` at least this often, and when its queue changes no more than every STATUS_MIN_INTERVAL_MS. */
export const STATUS_INTERVAL_MS = 30_000;
export const STATUS_MIN_INTERVAL_MS = 1_000;
