import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * One `npm test` runs two projects:
 *  - node:    schema, machines, desktop and end-to-end tests in plain Node;
 *  - workers: tests inside the real Workers runtime (workerd) via @cloudflare/vitest-pool-workers.
 */
export default defineConfig({
  test: {
    // One temp folder for the whole run, removed at its end, pass or fail (test/support/global-temp.ts).
    // The built dashboard the Worker serves (test/support/dashboard-assets.ts) must exist before workerd starts.
    globalSetup: ["./test/support/global-temp.ts", "./test/support/dashboard-assets.ts"],
    projects: [
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
          // fast-check draws from a fixed seed (FC_SEED to change it): the same cases on every run.
          setupFiles: ["./test/support/fast-check-seed.ts"],
          // One module graph for every file of a worker: loading it again for each of 76 files took
          // about 90 s of CI's 10 minutes of tests. So a test file must leave no global changed
          // behind (it restores process.env, timers and listeners; nothing here mocks modules).
          isolate: false,
        },
      },
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            main: "./durable/worker.ts",
            // A fixed secret for tests only; real ones live in .dev.vars / `wrangler secret put`.
            // The studio defaults stand in for a deployment's STUDIO_* vars (wrangler.toml leaves them empty).
            miniflare: {
              bindings: {
                TOKEN_SECRET: "test-secret-0123456789abcdef0123456789abcdef",
                STUDIO_NAME: "Lanka Light Studio",
                STUDIO_ADDRESS: "12 Galle Road\nColombo 3",
              },
            },
          }),
        ],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
    ],
  },
});
