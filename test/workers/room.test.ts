/**
 * The room contract (test/node/branch/contract/room-contract.ts) against the real branch Durable
 * Object: each socket goes through the Worker (token check, routing) into the DO in workerd, exactly
 * as a desktop's does. The same cases run in Node against the in-memory room (test/node/branch/room.test.ts).
 */
import type { Role } from "../../domain/index.js";
import { ContractSocket, roomContract, type RoomDriver } from "../node/branch/contract/room-contract.js";
import { openSocket, tokenFor } from "./support.js";

let n = 0;

function durableObjectDriver(): RoomDriver {
  // Each case gets its own branch, so its own Durable Object and storage.
  const branch = `contract-${Date.now().toString(36)}-${++n}`;
  const sockets: WebSocket[] = [];
  return {
    timeZone: "Asia/Colombo", // wrangler.toml BRANCH_TIME_ZONE
    studioName: "Lanka Light Studio", // STUDIO_NAME in vitest.config.ts's workers bindings
    nowMs: () => Date.now(),
    open: async (device: string, role: Role = "owner") => {
      const client = await openSocket(branch, await tokenFor(branch, device, role));
      if (client instanceof Response) throw new Error(`upgrade refused: ${client.status} ${await client.text()}`);
      const ws = client.ws;
      sockets.push(ws);
      const socket = new ContractSocket((text) => ws.send(text));
      ws.addEventListener("message", (event) => socket.received(event.data as string));
      ws.addEventListener("close", (event) => socket.closed(event.code, event.reason));
      return socket;
    },
    dispose: () => {
      for (const ws of sockets) {
        try {
          ws.close(1000, "done");
        } catch {
          /* already closed */
        }
      }
    },
  };
}

roomContract("the branch Durable Object in workerd", durableObjectDriver);
