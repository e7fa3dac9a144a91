/** A branch's connection in a few words and a tone (the desktop's pill tones: ok, busy, warn, bad). */
import type { BranchFeed } from "./feed.js";

export type Tone = "ok" | "busy" | "warn" | "bad";

export function connectionWords(feed: Pick<BranchFeed, "state" | "watching" | "closed">): { text: string; tone: Tone } {
  if (feed.closed) return { text: feed.closed.reason === "superseded" ? "Open in another tab" : "Signed out by the server", tone: "bad" };
  switch (feed.state) {
    case "open":
      return feed.watching ? { text: "Live", tone: "ok" } : { text: "Connecting…", tone: "busy" };
    case "connecting":
      return { text: "Connecting…", tone: "busy" };
    case "offline":
      return { text: "Offline, reconnecting", tone: "warn" };
    case "closed":
      return { text: "Closed", tone: "bad" };
    case "idle":
      return { text: "Not connected", tone: "busy" };
  }
}
