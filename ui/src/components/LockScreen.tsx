import { useEffect, useRef, useState } from "preact/hooks";
import type { LockView, SessionView } from "../bindings";
import { call } from "../api";
import { useRetryAfter } from "../lib/countdown";
import { toCommandError, type CommandError } from "../lib/errors";
import { Icon } from "./Icon";
import { Logo } from "./Logo";
import { ErrorNotice } from "./Notice";
import { proofToSend } from "../lib/reauth";

/**
 * The lock screen after idle time. A modal <dialog> over everything (above any dialog that
 * was open), opaque, that Escape does not close; the screen under it is hidden too. Unlocks
 * with a code from the authenticator app when 2FA is on, else the password, checked by
 * the server (`unlock_app`); the session stays signed in meanwhile. "Sign out" leaves.
 */
export function LockScreen(props: { lock: LockView; session: SessionView; onUnlocked: () => void; onSignOut: () => void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [proof, setProof] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const waiting = useRetryAfter(error) > 0;
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal?.();
    d?.querySelector<HTMLInputElement>("input")?.focus();
    return () => d?.close?.();
  }, []);

  const totp = props.lock.totp_enabled;
  const label = totp === false ? "Your password" : totp === true ? "Code from your authenticator app" : "Your password, or a code from your authenticator app";
  const user = props.session.user;
  return (
    <dialog
      ref={ref}
      class="lock-screen"
      data-testid="lock-screen"
      aria-labelledby="lock-title"
      aria-describedby="lock-desc"
      onCancel={(e) => e.preventDefault()}
    >
      <div class="lock-card">
        <Logo size={44} />
        <div class="lock-icon" aria-hidden="true">
          <Icon name="lock" size={26} />
        </div>
        <h1 id="lock-title" class="auth-title">
          Keyhold is locked
        </h1>
        <p id="lock-desc" class="muted">
          Locked after a while without use. You are still signed in as <strong>{user.display_name || user.email}</strong>.
        </p>
        <form
          class="form"
          noValidate
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              await call((c) => c.unlockApp(proofToSend(proof, totp)), { reauth: "manual" });
              setProof("");
              props.onUnlocked();
            } catch (err) {
              setError(toCommandError(err));
              setProof("");
              setBusy(false);
            }
          }}
        >
          <div class="field">
            <label class="field-label" for="unlock-proof">
              {label}
            </label>
            <input
              id="unlock-proof"
              data-testid="unlock-proof"
              class={totp === true ? "code-input" : undefined}
              // Preact 11 types each input type apart; this field is a code or a password.
              type={(totp === true ? "text" : "password") as "text"}
              inputMode={totp === true ? "numeric" : undefined}
              autocomplete={totp === true ? "one-time-code" : "current-password"}
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? "unlock-error" : undefined}
              value={proof}
              onInput={(e) => setProof(e.currentTarget.value)}
            />
          </div>
          <div id="unlock-error">
            <ErrorNotice error={error} testid="unlock-error" />
          </div>
          <button type="submit" class="button button-primary button-block" data-testid="unlock-submit" disabled={busy || waiting || !proof.trim()}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Unlock
          </button>
          <button type="button" class="button button-ghost button-block" data-testid="lock-sign-out" onClick={props.onSignOut}>
            <Icon name="logOut" size={16} />
            Sign out
          </button>
        </form>
      </div>
    </dialog>
  );
}
