/**
 * Serving snapshots from R2: the newest base or the newest chain (one small request either way), and
 * a snapshot's data with HTTP Range support, so an interrupted download resumes where it stopped
 * instead of starting over.
 */
import type { SnapshotChain } from "../../protocol/index.js";
import { json } from "../http.js";
import { latestChain, latestManifest } from "./export.js";

/**
 * `GET …/snapshots/latest`: the newest BASE manifest, what every reader understands (a format-2 device
 * never sees an increment). `GET …/snapshots/latest?chain=1`: the newest chain as a SnapshotChain,
 * base first, then its increments in order (format-3 readers). 404 when the branch has no snapshot.
 */
export async function serveLatestSnapshot(bucket: R2Bucket, branch: string, url: URL): Promise<Response> {
  if (url.searchParams.get("chain") === "1") {
    const chain = await latestChain(bucket, branch);
    return chain ? json(200, { chain } satisfies SnapshotChain) : json(404, { error: "not_found", message: `branch ${branch} has no snapshot yet` });
  }
  const manifest = await latestManifest(bucket, branch);
  return manifest ? json(200, manifest) : json(404, { error: "not_found", message: `branch ${branch} has no snapshot yet` });
}

export async function serveSnapshotData(bucket: R2Bucket, key: string, request: Request): Promise<Response> {
  const rangeHeader = request.headers.get("Range");
  let object: R2ObjectBody | R2Object | null;
  try {
    object = await bucket.get(key, rangeHeader ? { range: request.headers } : {});
  } catch {
    const head = await bucket.head(key);
    if (!head) return json(404, { error: "not_found", message: "no such snapshot (it may have been replaced by a newer one)" });
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${head.size}` } });
  }
  if (!object || !("body" in object)) {
    return json(404, { error: "not_found", message: "no such snapshot (it may have been replaced by a newer one)" });
  }
  const headers = new Headers({
    "Content-Type": "application/gzip",
    "Accept-Ranges": "bytes",
    ETag: object.httpEtag,
    "Cache-Control": "private, no-store",
  });
  const range = object.range as { offset?: number; length?: number } | undefined;
  if (rangeHeader && range) {
    const offset = range.offset ?? 0;
    const length = range.length ?? object.size - offset;
    headers.set("Content-Range", `bytes ${offset}-${offset + length - 1}/${object.size}`);
    headers.set("Content-Length", String(length));
    return new Response(object.body, { status: 206, headers });
  }
  headers.set("Content-Length", String(object.size));
  return new Response(object.body, { status: 200, headers });
}
