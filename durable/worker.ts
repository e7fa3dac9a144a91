/**
 * The Worker in front of the branch Durable Objects. Routing, auth and the HTTP API arrive with the
 * branch DO; for now it answers `/health` with the protocol it speaks.
 */
import { MIN_SUPPORTED_PROTOCOL_VERSION, PROTOCOL_VERSION } from "../schema/protocol.js";

export default {
  async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/health") {
      return Response.json({
        ok: true,
        protocol_version: PROTOCOL_VERSION,
        min_protocol_version: MIN_SUPPORTED_PROTOCOL_VERSION,
      });
    }
    return Response.json({ error: "not_found", message: `no route for ${url.pathname}` }, { status: 404 });
  },
} satisfies ExportedHandler;
