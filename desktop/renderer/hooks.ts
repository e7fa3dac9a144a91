/**
 * What every screen reads from the app shell: the API, the status, and a revision that moves when the
 * core says data changed. Its own module so that screens and the shell (app.tsx) do not import each
 * other: the shell provides these, the screens use them.
 */
import { createContext } from "preact";
import { useContext, useState } from "preact/hooks";
import type { AppStatus, DesktopApi, WriteAction, WriteResult } from "../app/api.js";
import { describeRefusal, type FieldMessages } from "./field-messages.js";

export const Api = createContext<DesktopApi>(null as never);
/** Bumped whenever the core says data changed: screens re-read what they show. */
export const Revision = createContext(0);
export const Status = createContext<AppStatus | null>(null);

export const useApi = () => useContext(Api);
export const useRevision = () => useContext(Revision);
export const useStatus = () => useContext(Status);

/**
 * A local write from a screen: a refused write's message goes to `error`, in the server's words, or
 * in the screen's words for the fields it names in `fields` (field-messages.ts).
 */
export function useWrite(fields: FieldMessages = []) {
  const api = useApi();
  const [error, setError] = useState<string | null>(null);
  const write = async (action: WriteAction): Promise<WriteResult> => {
    const outcome = await api.call({ method: "write", action });
    setError(outcome.ok ? null : describeRefusal(outcome.error, fields));
    return outcome;
  };
  return { write, error, setError };
}
