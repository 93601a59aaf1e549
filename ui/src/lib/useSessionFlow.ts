// Where the app stands with its server and session, and every move between those states:
// launch (restore a saved session, or find the server unreachable and keep trying), sign
// in, a session that ends while in use (the sign-in dialog over the kept screen), lock and
// unlock, sign out. The app shell (app.tsx) only renders what this says.
import { useEffect, useRef, useState } from "preact/hooks";
import type { AppStatus, LockView, SessionView } from "../bindings";
import { call, onLocked, onSignedOut } from "../api";
import { toCommandError, type CommandError } from "./errors";

export interface SessionFlow {
  status: AppStatus | null;
  session: SessionView | null;
  /** session_status itself failed (not the server: the app). */
  bootError: CommandError | null;
  /** The server that did not answer at launch, while the can't-reach screen shows. */
  unreachable: string | null;
  /** The sign-in screen should start on the server address ("Change server"). */
  focusServer: boolean;
  /** The session ended while in use: the sign-in dialog shows over the kept screen. */
  expired: boolean;
  /** Set while locked after idle time. */
  lock: LockView | null;
  /** Launch (again): resolves true once the server answered. */
  boot: () => Promise<boolean>;
  changeServer: () => void;
  signedIn: (s: SessionView) => void;
  /** After the expiry dialog's sign-in: true when it is the same person on the same server. */
  signedInAgain: (s: SessionView) => boolean;
  signOut: () => Promise<void>;
  lockNow: () => void;
  unlocked: () => void;
}

const UNKNOWN_LOCK: LockView = { totp_enabled: null };

export function useSessionFlow(): SessionFlow {
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [session, setSession] = useState<SessionView | null>(null);
  const [bootError, setBootError] = useState<CommandError | null>(null);
  const [unreachable, setUnreachable] = useState<string | null>(null);
  const [focusServer, setFocusServer] = useState(false);
  const [expired, setExpired] = useState(false);
  const [lock, setLock] = useState<LockView | null>(null);
  // Read by the listeners below, which are installed once.
  const shown = useRef<SessionView | null>(null);
  shown.current = session;

  async function boot(): Promise<boolean> {
    let s: AppStatus;
    try {
      s = await call((c) => c.sessionStatus());
    } catch (e) {
      setBootError(toCommandError(e));
      return true;
    }
    setBootError(null);
    setStatus(s);
    if (!s.session && (await serverDown(s))) {
      setUnreachable(s.server_url);
      return false;
    }
    setUnreachable(null);
    setSession(s.session);
    setLock(s.lock);
    return true;
  }

  useEffect(() => {
    void boot();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  useEffect(
    () =>
      onSignedOut((e) => {
        // In use: keep the screen (and every draft on it) under the sign-in dialog.
        if (shown.current) {
          setExpired(true);
          return;
        }
        setSession(null);
        setStatus((s) => (s ? { ...s, session: null, restore_problem: e } : s));
      }),
    [],
  );

  // Any command refused as `locked` (another path locked the app) shows the lock screen.
  useEffect(() => onLocked(() => setLock((l) => l ?? UNKNOWN_LOCK)), []);

  function signedIn(s: SessionView) {
    setSession(s);
    setExpired(false);
    setLock(null);
    setFocusServer(false);
  }

  return {
    status,
    session,
    bootError,
    unreachable,
    focusServer,
    expired,
    lock,
    boot,
    changeServer: () => {
      setUnreachable(null);
      setFocusServer(true);
    },
    signedIn,
    signedInAgain: (s) => {
      const before = shown.current;
      signedIn(s);
      return before !== null && before.user.id === s.user.id && before.server_url === s.server_url;
    },
    signOut: async () => {
      try {
        setStatus(await call((c) => c.signOut()));
      } catch {
        // Signing out never fails locally; keep the last status.
      }
      setSession(null);
      setExpired(false);
      setLock(null);
    },
    lockNow: () => {
      // Hidden at once; what unlocks it (code or password) follows from the server.
      setLock((l) => l ?? UNKNOWN_LOCK);
      call((c) => c.lockApp())
        .then((v) => setLock((l) => (l ? v : l)))
        .catch(() => undefined);
    },
    unlocked: () => setLock(null),
  };
}

/** With no session to restore, whether the server is down (then sign-in could not work). */
async function serverDown(s: AppStatus): Promise<boolean> {
  if (s.restore_problem?.kind === "offline") return true;
  try {
    await call((c) => c.serverHealth(s.server_url));
    return false;
  } catch (e) {
    return toCommandError(e).kind === "offline";
  }
}
