/** Connects Preact components to the SDK's state. */
import { createContext } from "preact";
import { useContext, useEffect, useRef, useState } from "preact/hooks";
import type { ChatClient, ChatState } from "../src/sdk/index.js";

export const ClientContext = createContext<ChatClient | null>(null);

export function useClient(): ChatClient {
  const client = useContext(ClientContext);
  if (!client) throw new Error("useClient outside of a ClientContext");
  return client;
}

/** The client's state; the component renders again whenever it changes. */
export function useChatState(): ChatState {
  const client = useClient();
  const [, setVersion] = useState(client.state.version);
  useEffect(() => client.state.subscribe(() => setVersion(client.state.version)), [client]);
  return client.state;
}

/** Runs `action`, keeping its error message for the UI; returns [run, error, busy]. */
export function useAction<A extends unknown[]>(
  action: (...args: A) => Promise<unknown>,
): [(...args: A) => Promise<boolean>, string | null, boolean] {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const run = async (...args: A) => {
    setBusy(true);
    setError(null);
    try {
      await action(...args);
      return true;
    } catch (e) {
      setError(describeError(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return [run, error, busy];
}

/** Error messages from the server are written for people; anything else gets a plain sentence. */
export function describeError(error: unknown): string {
  if (error instanceof Error && error.name === "ChatError") return error.message;
  if (error instanceof Error && error.name === "ChatTimeoutError") {
    return "No answer from TimeWise Chat. Check your connection and try again.";
  }
  return "Something went wrong. Please try again.";
}

/**
 * A ref that takes the focus once, when the element appears: the search box of a panel or dialog
 * the person just opened (the WAI-ARIA dialog pattern), so they can type at once.
 */
export function useFocusOnMount<T extends HTMLElement>(enabled = true) {
  const ref = useRef<T>(null);
  useEffect(() => {
    if (enabled) ref.current?.focus();
  }, []);
  return ref;
}
