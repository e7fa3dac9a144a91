#!/usr/bin/env node
// `studiovault` (npx studiovault …): runs the TypeScript CLI through tsx's loader. runCli waits for
// stdout to drain before the exit (a pipe is written asynchronously: see process-io.ts).
import { register } from "tsx/esm/api";

register();
const { runCli } = await import("./main.ts");
process.exit(await runCli(process.argv.slice(2)));
