#!/usr/bin/env node
// `studiovault` (npx studiovault …): runs the TypeScript CLI through tsx's loader.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exit(await main(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) }));
