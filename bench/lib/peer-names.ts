/** Names the peers' rooms (bench/baseline/*-room.ts) and their clients (bench/clients/race/) share. */

/** The Y.Map every benchmark record is an entry of, and the TinyBase table every record is a row of. */
export const RECORDS = "records";
/** The partyserver party of the Yjs room: partyserver routes /parties/<kebab-case binding>/<room>. */
export const YJS_PARTY = "yjs-room";
