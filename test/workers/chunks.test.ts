/**
 * Chunked uploads into the real Durable Object: held in DO SQLite until whole, resumable across
 * connections, validated only when whole, and expired by the alarm when abandoned.
 */
import { env, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { splitIntoChunks } from "../../protocol/index.js";
import { type TransferId } from "../../domain/index.js";
import { useClock } from "../../durable/branch-do.js";
import { UPLOAD_TTL_MS } from "../../durable/core/uploads.js";
import { makeEventFactory } from "../support/events.js";
import { connect, newId, pullAll } from "./support.js";

const A = "01936f3c-0000-7000-8000-0000000000a1";

function bigProjectPush(f: ReturnType<typeof makeEventFactory>, items = 20_000) {
  const selection = Array.from({ length: items }, (_, i) => ({
    sha256: i.toString(16).padStart(64, "0"),
    file_name: `IMG_${String(i).padStart(5, "0")}.CR3`,
    size_bytes: 25_000_000 + i,
    note: i % 10 === 0 ? "retouch" : null,
  }));
  const base = f.createProject(A);
  const event = { ...base, payload: { ...(base.payload as object), media_selection: { items: selection } } };
  return { event, selection, text: JSON.stringify({ type: "push", batch_id: newId(), events: [event] }) };
}

describe("chunked uploads into the Durable Object", () => {
  it("resumes on a new connection and commits the whole project once", async () => {
    const branch = `chunks-${Date.now().toString(36)}`;
    const f = makeEventFactory(21);
    const { event, selection, text } = bigProjectPush(f);
    const chunks = await splitIntoChunks(text, newId() as TransferId);
    expect(chunks.length).toBeGreaterThanOrEqual(3);

    const first = await connect(branch, A);
    first.send(chunks[0]);
    expect(await first.next("upload_state")).toMatchObject({ next_index: 1, complete: false });
    first.send(chunks[1]);
    expect(await first.next("upload_state")).toMatchObject({ next_index: 2 });
    first.close(); // the connection drops halfway

    const second = await connect(branch, A);
    second.send({ type: "upload_query", transfer_id: chunks[0]!.transfer_id });
    expect(await second.next("upload_state")).toMatchObject({ next_index: 2, complete: false });
    for (const chunk of chunks.slice(2)) second.send(chunk);
    const verdicts = await second.next("verdicts", { skip: true });
    expect(verdicts.verdicts).toEqual([
      { event_id: event.id, status: "confirmed", seq: 1, entity_id: event.entity_id, version: 1, official_receipt_no: null, official_invoice_no: null },
    ]);
    const { changes } = await pullAll(second);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.entity).toMatchObject({ data: { media_selection: { items: selection } } });
    second.close();
  });

  it("expires an abandoned upload when the alarm fires", async () => {
    const branch = `chunks-exp-${Date.now().toString(36)}`;
    const f = makeEventFactory(22);
    const { text } = bigProjectPush(f, 8_000);
    const chunks = await splitIntoChunks(text, newId() as TransferId);
    const client = await connect(branch, A);
    client.send(chunks[0]);
    await client.next("upload_state");
    client.close();
    const stub = env.BRANCH.get(env.BRANCH.idFromName(branch));
    const storedAt = await runInDurableObject(stub, (instance) => instance.core.nowMs());
    const chunksLeft = () => runInDurableObject(stub, (instance) => ({ n: instance.core.uploadsInProgress().chunks }));
    // Age the upload by moving the branch's clock (I13), then let the alarm run: kept just before its
    // time to live is up, gone just after.
    await runInDurableObject(stub, (instance) => useClock(instance, () => storedAt + UPLOAD_TTL_MS - 60_000));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await chunksLeft()).toEqual({ n: 1 });
    await runInDurableObject(stub, (instance) => useClock(instance, () => storedAt + UPLOAD_TTL_MS + 1_000));
    await runDurableObjectAlarm(stub);
    expect(await chunksLeft()).toEqual({ n: 0 });
  });
});
