import { useEffect, useRef, useState } from "preact/hooks";
import { backoffSecs, formatWait, useCountdown } from "../lib/countdown";
import { Icon } from "./Icon";
import { Logo } from "./Logo";

/**
 * "Can't reach <server>" at launch: the server did not answer, so neither the saved session
 * nor a sign-in can be checked. Tries again by itself on a growing delay (2, 4, 8, 16, then
 * every 30 s), shown as a countdown; "Retry now" tries at once; "Change server" goes to the
 * server address on the sign-in screen. `onRetry` resolves true once the server answered
 * (the app then goes on to where it was going: the restored session, or sign-in).
 */
export function ConnectScreen(props: {
  server: string;
  onRetry: () => Promise<boolean>;
  onChangeServer: () => void;
}) {
  const [attempt, setAttempt] = useState(1);
  const [trying, setTrying] = useState(false);
  const left = useCountdown(trying ? null : backoffSecs(attempt), attempt);
  const live = useRef(true);
  const retryButton = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    retryButton.current?.focus();
    return () => {
      live.current = false;
    };
  }, []);

  async function retry() {
    if (trying) return;
    setTrying(true);
    const answered = await props.onRetry().catch(() => false);
    if (!live.current || answered) return;
    setTrying(false);
    setAttempt((a) => a + 1);
  }

  // The next attempt by itself; the countdown above only shows it.
  useEffect(() => {
    if (trying) return;
    const t = setTimeout(() => void retry(), backoffSecs(attempt) * 1000);
    return () => clearTimeout(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [attempt, trying]);

  const host = props.server.replace(/^https?:\/\//u, "");
  return (
    <main class="boot connect-screen" data-testid="connect-screen" aria-labelledby="connect-title">
      <Logo size={48} />
      <div class="connect-card card">
        <div class="connect-icon" aria-hidden="true">
          <Icon name="wifiOff" size={28} />
        </div>
        <h1 id="connect-title" class="auth-title">
          Can't reach {host}
        </h1>
        <p class="muted">
          Keyhold could not reach its server at <strong>{props.server}</strong>. Your vault is safe; nothing was changed. Check that the server
          is running and that this computer is online.
        </p>
        <p class="connect-countdown" data-testid="connect-countdown" role="status">
          {trying ? (
            <>
              <span class="spinner" aria-hidden="true" /> Trying to reach the server…
            </>
          ) : (
            `Trying again in ${formatWait(left)} (attempt ${attempt + 1}).`
          )}
        </p>
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" data-testid="connect-change-server" onClick={props.onChangeServer}>
            <Icon name="server" size={16} />
            Change server
          </button>
          <button ref={retryButton} type="button" class="button button-primary" data-testid="connect-retry" disabled={trying} onClick={() => void retry()}>
            <Icon name="refresh" size={16} />
            Retry now
          </button>
        </div>
      </div>
    </main>
  );
}
