/**
 * The dashboard's entry: the one place that touches the browser's clocks, storage, address and
 * random ids, and makes the real client (client/) for each signed-in branch. The page is served by
 * the same Worker it talks to, so the server is this page's origin.
 */
import { render } from "preact";
import { BranchClient, enroll } from "../client/index.js";
import { App, type DashboardDeps } from "./app.js";
import { dayApi } from "./day-api.js";
import { leaseApi } from "./lease-api.js";

export const DASHBOARD_APP = "studiovault-dashboard/0.1.0";
const server = location.origin;

const deps: DashboardDeps = {
  clock: () => Date.now(),
  monotonic: () => performance.now(),
  storage: localStorage,
  newId: () => crypto.randomUUID(),
  connect: (s) =>
    new BranchClient({ server, branch: s.branch, token: s.token, deviceId: s.device_id, installId: s.install_id, app: DASHBOARD_APP, follow: "live" }),
  leases: (s) => leaseApi({ server, branch: s.branch, token: s.token, fetch: (input, init) => fetch(input, init) }),
  days: (s) => dayApi({ server, branch: s.branch, token: s.token, fetch: (input, init) => fetch(input, init) }),
  enroll: (branch, code) => enroll({ server, branch, code }),
  fragment: location.hash,
  clearFragment: () => history.replaceState(null, "", `${location.pathname}${location.search}`),
};

render(<App deps={deps} />, document.getElementById("app")!);
