import { useEffect, useState } from "preact/hooks";
import type { SessionView } from "../bindings";
import { call } from "../api";
import { useRetryAfter } from "../lib/countdown";
import { toCommandError, type CommandError } from "../lib/errors";
import { Dialog } from "./Dialog";
import { ErrorNotice } from "./Notice";

/**
 * The session ended while the app was in use (it expired, or was signed out from another
 * device): sign in again here, over the screen, which stays as it was with every draft on
 * it (the shell is inert underneath). Password first, then a code when 2FA is on. Another
 * account may sign in; the app then starts over on the dashboard so that nothing of the
 * previous person's screen shows. Cancel signs out properly.
 */
export function SessionExpiredDialog(props: { session: SessionView; onSignedIn: (s: SessionView) => void; onSignOut: () => void }) {
  const [email, setEmail] = useState(props.session.user.email);
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [mfa, setMfa] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const waiting = useRetryAfter(error) > 0;

  // The code step replaces the password fields: its field takes the focus.
  useEffect(() => {
    if (mfa) document.getElementById("expired-code")?.focus();
  }, [mfa]);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const outcome = mfa
        ? await call((c) => c.signInMfa(code), { reauth: "manual" })
        : await call((c) => c.signIn(props.session.server_url, email, password), { reauth: "manual" });
      setPassword("");
      setCode("");
      if (outcome.step === "signed_in") {
        props.onSignedIn(outcome.session);
        return;
      }
      setMfa(true);
    } catch (err) {
      const ce = toCommandError(err);
      // The 2FA step timed out: back to the password.
      if (mfa && ce.kind === "signed_out") setMfa(false);
      setError(ce);
      setCode("");
    }
    setBusy(false);
  }

  return (
    <Dialog
      title="Sign in again"
      description={
        mfa
          ? "Enter the 6-digit code from your authenticator app, or a backup code."
          : "Your session ended. Sign in to pick up where you left off: this screen and what you typed are kept."
      }
      onRequestClose={props.onSignOut}
      testid="session-expired-dialog"
    >
      <form class="form" noValidate onSubmit={submit}>
        {mfa ? (
          <div class="field">
            <label class="field-label" for="expired-code">
              Code
            </label>
            <input
              id="expired-code"
              data-testid="expired-code"
              class="code-input"
              type="text"
              inputMode="numeric"
              autocomplete="one-time-code"
              maxLength={24}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? "expired-error" : undefined}
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
          </div>
        ) : (
          <>
            <div class="field">
              <label class="field-label" for="expired-email">
                Email
              </label>
              <input
                id="expired-email"
                data-testid="expired-email"
                type="email"
                autocomplete="username"
                spellcheck={false}
                value={email}
                onInput={(e) => setEmail(e.currentTarget.value)}
              />
            </div>
            <div class="field">
              <label class="field-label" for="expired-password">
                Password
              </label>
              <input
                id="expired-password"
                data-testid="expired-password"
                type="password"
                autocomplete="current-password"
                aria-invalid={error ? true : undefined}
                aria-describedby={error ? "expired-error" : undefined}
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </div>
          </>
        )}
        <div id="expired-error">
          <ErrorNotice error={error} testid="expired-error" />
        </div>
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" data-testid="expired-sign-out" onClick={props.onSignOut}>
            Sign out
          </button>
          <button
            type="submit"
            class="button button-primary"
            data-testid="expired-submit"
            disabled={busy || waiting || !(mfa ? code.trim() : password && email.trim())}
          >
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            {mfa ? "Verify and continue" : "Sign in"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
