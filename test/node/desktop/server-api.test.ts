/**
 * The CLI's health check (desktop/sync/server-api.ts `reachable`): a server that is up but slow to
 * answer is reachable. A cold workerd under load took more than the old 1.5 s for its first answer,
 * and `init` then said "server unreachable" (exit 3) to a server that was there.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { reachable } from "../../../desktop/sync/server-api.js";
import { startProxy, type TestProxy } from "../../support/proxy.js";
import { type LocalServer, startServer } from "../../support/server.js";

let server: LocalServer;
let proxy: TestProxy;

beforeAll(async () => {
  server = await startServer();
  proxy = await startProxy(server.url);
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await server?.stop();
});

it("a server that answers its health check after 3 s is reachable", async () => {
  const release = proxy.holdHttp(/^\/health/);
  const answered = reachable(proxy.url.toString());
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  release();
  expect(await answered).toBe(true);
});

it("a port nobody listens on is unreachable at once, without waiting for the timeout", async () => {
  const dead = await startProxy(server.url);
  const url = dead.url.toString();
  await dead.close();
  const started = performance.now();
  expect(await reachable(url)).toBe(false);
  expect(performance.now() - started).toBeLessThan(5_000);
});
