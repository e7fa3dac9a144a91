/**
 * Electron preload (bundled to dist/preload.cjs; runs sandboxed, with context isolation on and
 * node integration off). All it does is expose the DesktopApi; see preload-api.ts.
 */
import { contextBridge, ipcRenderer } from "electron";
import { exposeDesktopApi } from "./preload-api.js";

exposeDesktopApi(contextBridge, ipcRenderer);
