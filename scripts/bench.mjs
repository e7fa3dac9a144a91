#!/usr/bin/env node
/** `npm run bench`: the benchmark suite arrives with its own issue; until then it says so. */
console.log("no benchmarks yet: the benchmark suite (push, live, catch-up, bootstrap, local writes, memory) is issue 7.");
