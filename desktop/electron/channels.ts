/**
 * What Electron's main process and the preload agree on: the IPC channels, the reply envelope and
 * the app's own origin. No Electron import here: both sides, and the tests, share it.
 */

/** renderer → main: one DesktopApi call (`ipcRenderer.invoke`). */
export const CALL_CHANNEL = "studiovault:call";
/** main → renderer: an AppEvent (status changed, data changed). */
export const EVENT_CHANNEL = "studiovault:event";

/**
 * The renderer is served from this privileged scheme, never from file:// (which would let a page
 * read any local file) and never from the network. Calls are accepted from this origin only.
 */
export const APP_SCHEME = "studiovault";
export const APP_ORIGIN = `${APP_SCHEME}://app`;
export const APP_URL = `${APP_ORIGIN}/index.html`;

/**
 * A call's answer. Errors travel as a message of our own: Electron would otherwise wrap a thrown
 * error as "Error invoking remote method 'studiovault:call': Error: ...".
 */
export type CallReply = { ok: true; value: unknown } | { ok: false; message: string };
