import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

/**
 * One `npm test` runs two projects:
 *  - node:    schema, machines, desktop and end-to-end tests in plain Node;
 *  - workers: tests inside the real Workers runtime (workerd) via @cloudflare/vitest-pool-workers.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/node/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        plugins: [cloudflareTest({ wrangler: { configPath: "./wrangler.toml" }, main: "./durable/worker.ts" })],
        test: {
          name: "workers",
          include: ["test/workers/**/*.test.ts"],
        },
      },
    ],
  },
});
