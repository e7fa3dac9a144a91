/**
 * A push's storage: the branch's SqlStore, with what every event of a batch reads and writes done for
 * the whole batch at once.
 *
 * Per event, deciding reads the event's stored verdict (and its dependency's) and its entity, and a
 * commit writes two rows (the entity version and the log row; layout 13 dropped a third, the
 * entity's pointer). One statement each made four per event, each a call into the runtime with its
 * cursor object. Here the reads are answered for the whole batch by two statements made up front,
 * and a commit's rows wait and are written together, two statements per batch. Measured in workerd:
 * about 10% less CPU per pushed event; SQLite's own work on the rows stays (docs/benchmarks.md,
 * "second pass").
 *
 * Nothing else changes: the answers are exactly what SQL would give, because
 *  - `sql` is the branch's store with one rule added: before any statement, the rows waiting are
 *    written. Whatever reads or writes through it (a POS commit's ledger rows, a rejection, a replay)
 *    sees every commit made before it, in order;
 *  - the up-front answers are SQL's at the start of the batch, kept current by `commit` (the only
 *    writer of what they answer, besides a rejection). Any other write (`sql.run`) forgets them all:
 *    from then on they are read from SQL, one statement each, as before.
 * A batch that throws rolls back its transaction; the storage is made anew for each attempt.
 */
import type { Entity } from "../../domain/index.js";
import { assert } from "../../lib/result.js";
import type { Change } from "../../protocol/index.js";
import { currentEntities, ENTITY_PART_CHARS, entityHead, readEntity, storeVersions, storeVersionText, type VersionRow } from "./entity-store.js";
import { appendChanges, type LogRow, logRow } from "./log.js";
import type { SqlStore, SqlValue } from "./sql.js";
import { type VerdictRecord, verdictRecord, verdictRecords } from "./verdicts.js";

/**
 * Entities read up front are those whose text is at most this long (a batch's up-front reads hold a
 * few MB at most); a longer one is read when an event needs it, as before.
 */
const PREFETCH_ENTITY_CHARS = 16 * 1024;
/**
 * Rows wait while their entities' texts add up to at most this many characters: their JSON is one
 * SQLite value, which a Durable Object caps at 2 MB (a character is at most 3 bytes in UTF-8, and
 * escaping grows a text). A longer entity is written at once, on its own.
 */
const WAITING_CHARS = 256 * 1024;
assert(WAITING_CHARS < ENTITY_PART_CHARS, "a waiting entity is one part");

/** What a batch's events name, as far as they can be read before validation: ids are only used as keys. */
export interface BatchKeys {
  eventIds: readonly string[];
  entityIds: readonly string[];
}

export class PushStorage {
  /** The branch's store: every statement first writes the rows waiting; a write forgets the up-front answers. */
  readonly sql: SqlStore;
  readonly #base: SqlStore;
  /** Known answers: a record, or null for none. An id not in the map is asked of SQL. */
  #verdicts = new Map<string, VerdictRecord | null>();
  #entities = new Map<string, Entity | null>();
  #versions: VersionRow[] = [];
  #log: LogRow[] = [];
  #waitingChars = 0;

  constructor(base: SqlStore, keys: BatchKeys) {
    this.#base = base;
    this.sql = {
      all: <T>(query: string, ...params: SqlValue[]) => (this.flush(), base.all<T>(query, ...params)),
      one: <T>(query: string, ...params: SqlValue[]) => (this.flush(), base.one<T>(query, ...params)),
      run: (query: string, ...params: SqlValue[]) => {
        this.flush();
        this.#forget();
        base.run(query, ...params);
      },
      script: (query: string) => {
        this.flush();
        this.#forget();
        base.script(query);
      },
      transaction: <T>(fn: () => T) => base.transaction(fn),
    };
    if (keys.eventIds.length > 0) {
      const found = verdictRecords(base, keys.eventIds);
      for (const id of keys.eventIds) this.#verdicts.set(id, found.get(id) ?? null);
    }
    if (keys.entityIds.length > 0) this.#entities = currentEntities(base, keys.entityIds, PREFETCH_ENTITY_CHARS);
  }

  /** verdicts.ts verdictRecord. */
  verdictRecord(eventId: string): VerdictRecord | null {
    const known = this.#verdicts.get(eventId);
    return known !== undefined ? known : verdictRecord(this.sql, eventId);
  }

  /**
   * The version of an entity's current state, or null when there is none (entity-store.ts
   * entityHead): its text is not read, unless it is known already.
   */
  headVersion(entityId: string): number | null {
    const known = this.#entities.get(entityId);
    if (known !== undefined) return known?.version ?? null;
    return entityHead(this.sql, entityId)?.version ?? null;
  }

  /** entity-store.ts readEntity. */
  entity(entityId: string): Entity | null {
    const known = this.#entities.get(entityId);
    return known !== undefined ? known : readEntity(this.sql, entityId);
  }

  /**
   * A commit's rows: the entity version (`text`, JSON.stringify of `entity`) and the log row, which
   * also makes it the entity's current version (entity-store.ts). They wait, in order, with the other commits of the batch; the up-front answers learn them.
   */
  commit(change: Change, text: string, changedFields: string, delta: string | null = null): void {
    const { entity } = change;
    // A delta waits in the log rows' JSON (one SQLite value, like the versions'): it counts against the budget too.
    const deltaChars = delta?.length ?? 0;
    assert(deltaChars <= WAITING_CHARS / 2, "a kept delta is far shorter than the waiting budget (commit.ts MAX_DELTA_CHARS)");
    if (text.length > WAITING_CHARS) {
      // Too long to wait in one JSON value with others: its parts are written now, each bound alone.
      this.flush();
      storeVersionText(this.#base, entity.entity_id, entity.version, text);
      this.#waitingChars += deltaChars;
    } else {
      if (this.#waitingChars + text.length + deltaChars > WAITING_CHARS) this.flush();
      this.#versions.push([entity.entity_id, entity.version, 0, text]); // one part: WAITING_CHARS < ENTITY_PART_CHARS
      this.#waitingChars += text.length + deltaChars;
    }
    this.#log.push(logRow(change, changedFields, delta));
    // Empty once forgotten (a batch names at least one event): from then on everything is read from SQL.
    if (this.#verdicts.size > 0) {
      this.#verdicts.set(change.event_id, {
        status: "confirmed",
        event_id: change.event_id,
        device_id: change.device_id,
        entity_id: change.entity_id,
        seq: change.seq,
        version: entity.version,
        // A POS order's receipt number is in pos_orders, written next through `sql`: which forgets these answers.
        official_receipt_no: null,
      });
      this.#entities.set(entity.entity_id, entity);
    }
  }

  /** Writes the rows waiting. Call before the batch's transaction ends. */
  flush(): void {
    if (this.#log.length === 0) return;
    storeVersions(this.#base, this.#versions);
    appendChanges(this.#base, this.#log);
    this.#versions = [];
    this.#log = [];
    this.#waitingChars = 0;
  }

  #forget(): void {
    this.#verdicts.clear();
    this.#entities.clear();
  }
}
