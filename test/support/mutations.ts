/**
 * Seeded random mutations of a JSON value, for holding two decoders to the same answers (a compiled
 * zod schema and the runtime parser): a key dropped or added, a value replaced by arbitrary JSON, an
 * array emptied or doubled, a number scaled out of range, a string made 300 times longer, a value
 * turned into its JSON text.
 */
import fc from "fast-check";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Every place in a JSON value: its container and the key or index there. */
function places(value: Json, out: Array<[Json[] | { [key: string]: Json }, string | number]> = []): typeof out {
  if (Array.isArray(value)) value.forEach((v, i) => (out.push([value, i]), places(v, out)));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push([value, k]), places(v, out);
  return out;
}

export const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom("drop", "add", "replace", "empty", "double", "stringify"),
  key: fc.constantFrom("extra", "type", "entity", "seq", "data", "__other"),
  value: fc.jsonValue({ maxDepth: 2 }),
});

/** `frame` with `mutations` applied, each at a place picked from those the value has then. */
export function mutate(frame: unknown, mutations: ReadonlyArray<{ at: number; op: string; key: string; value: unknown }>): Json {
  const copy = structuredClone(frame) as Json;
  for (const m of mutations) {
    const all = places(copy);
    if (all.length === 0) break;
    const [parent, key] = all[m.at % all.length]!;
    const target = (parent as Record<string | number, Json>)[key]!;
    switch (m.op) {
      case "drop":
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key as string];
        break;
      case "add":
        if (target !== null && typeof target === "object" && !Array.isArray(target)) target[m.key] = m.value as Json;
        else (parent as Record<string | number, Json>)[key] = { [m.key]: m.value as Json };
        break;
      case "replace":
        (parent as Record<string | number, Json>)[key] = m.value as Json;
        break;
      case "empty":
        (parent as Record<string | number, Json>)[key] = Array.isArray(target) ? [] : typeof target === "string" ? "" : 0;
        break;
      case "double":
        (parent as Record<string | number, Json>)[key] = Array.isArray(target) ? [...target, ...target] : typeof target === "number" ? target * 2 ** 40 : typeof target === "string" ? target.repeat(300) : target;
        break;
      case "stringify":
        (parent as Record<string | number, Json>)[key] = JSON.stringify(target);
        break;
    }
  }
  return copy;
}
