/** A partyserver connection as the room's Peer: its state is the session (a hibernation attachment). */
import type { Connection } from "partyserver";
import { type Peer, readSession, type Session } from "../core/room.js";

export function peerOf(connection: Connection<Session>): Peer {
  return {
    id: connection.id,
    session: () => readSession(connection.state),
    setSession: (session) => void connection.setState(session),
    // A device may vanish while its messages are being handled (a cut, a crash). Its answer has
    // nowhere to go; what it sent is in storage, and it asks again when it reconnects.
    send: (text) => {
      if (connection.readyState === WebSocket.READY_STATE_OPEN) connection.send(text);
    },
    // Closing a socket the runtime or the client already closed is a no-op, not an error.
    close: (code, reason) => {
      if (connection.readyState === WebSocket.READY_STATE_OPEN) connection.close(code, reason);
    },
  };
}
