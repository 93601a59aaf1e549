// The server stopped answering while signed in: the banner shows, the server is asked
// every few seconds, and when it answers the page that failed is loaded again.
import { useEffect, useRef, useState } from "preact/hooks";
import type { SessionView } from "../bindings";
import { call, onOffline } from "../api";

export interface Offline {
  offline: boolean;
  /** Bumped when the server comes back, to reload the page that failed. */
  generation: number;
  /** Reload now (the banner's "Retry now", or a reset after another account signed in). */
  reload: () => void;
}

export function useOffline(session: SessionView | null, everySecs = 3): Offline {
  const [offline, setOffline] = useState(false);
  const [generation, setGeneration] = useState(0);

  const signedIn = useRef(session);
  signedIn.current = session;
  // A failure before sign-in (the launch's health check) is the can't-reach screen's.
  useEffect(() => onOffline(() => signedIn.current && setOffline(true)), []);
  useEffect(() => {
    if (!session) setOffline(false);
  }, [session]);

  useEffect(() => {
    if (!offline || !session) return;
    const t = setInterval(() => {
      call((c) => c.serverHealth(session.server_url))
        .then(() => {
          setOffline(false);
          setGeneration((g) => g + 1);
        })
        .catch(() => undefined);
    }, everySecs * 1000);
    return () => clearInterval(t);
  }, [offline, session, everySecs]);

  return {
    offline,
    generation,
    reload: () => {
      setOffline(false);
      setGeneration((g) => g + 1);
    },
  };
}
