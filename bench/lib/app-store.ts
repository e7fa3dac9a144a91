/**
 * The app's store as the benches' devices open it: a LocalStore file bound to the server with a
 * device token. Catch-up is measured by pulling (the snapshot bootstrap has its own benchmark,
 * bench/bootstrap.ts), so the store bootstraps from the branch as it was at seq 0, nothing staged,
 * and pulls the rest.
 */
import { LocalStore } from "../../desktop/store/local-store.js";

export function openBenchStore(db: string, server: string, token: string): { store: LocalStore; deviceId: string } {
  const store = LocalStore.open(db);
  const init = store.init({ server_url: server, token });
  if (!init.ok) throw new Error(init.error);
  store.stageSnapshot().swap(0, "empty snapshot at seq 0 (bench: catch-up is measured by pulling)");
  return { store, deviceId: init.value.device_id };
}
