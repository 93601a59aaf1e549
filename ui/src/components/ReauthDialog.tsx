import { useEffect, useState } from "preact/hooks";
import { call } from "../api";
import { useRetryAfter } from "../lib/countdown";
import { toCommandError, type CommandError } from "../lib/errors";
import { proofToSend, REAUTH_CANCELLED, setReauthPrompt } from "../lib/reauth";
import { Dialog } from "./Dialog";
import { ErrorNotice } from "./Notice";

/**
 * "Confirm it's you": the server's sudo window lapsed (`reauth_required`). Asks for a code
 * from the authenticator app, or the password when 2FA is off, and proves it with
 * `reauthenticate`. The app's own dialog: never window.confirm or a browser prompt.
 */
export function ReauthDialog(props: { onConfirmed: () => void; onCancel: () => void }) {
  // null: not known yet; "unknown": the status could not be read.
  const [totp, setTotp] = useState<boolean | "unknown" | null>(null);
  const [proof, setProof] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const waiting = useRetryAfter(error) > 0;

  useEffect(() => {
    call((c) => c.mfaStatus())
      .then((s) => setTotp(s.totp_enabled))
      // Unknown: ask for either; the server takes a code or the password.
      .catch(() => setTotp("unknown"));
  }, []);

  const label = totp === false ? "Your password" : totp === true ? "Code from your authenticator app" : "Code from your authenticator app (or your password)";
  return (
    <Dialog title="Confirm it's you" description="You signed in more than 10 minutes ago. Keyhold asks again before this change." onRequestClose={props.onCancel} testid="reauth-dialog">
      <form
        class="form"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            await call((c) => c.reauthenticate(proofToSend(proof, totp)));
            props.onConfirmed();
          } catch (err) {
            setError(toCommandError(err));
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label class="field-label" for="reauth-proof">
            {label}
          </label>
          <input
            id="reauth-proof"
            data-testid="reauth-proof"
            class={totp === false ? undefined : "code-input"}
            // Preact 11 types each input type apart; this field is a code or a password.
            type={(totp === false ? "password" : "text") as "text"}
            inputMode={totp === true ? "numeric" : undefined}
            autocomplete={totp === false ? "current-password" : "one-time-code"}
            value={proof}
            onInput={(e) => setProof(e.currentTarget.value)}
          />
        </div>
        <ErrorNotice error={error} testid="reauth-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" data-testid="reauth-submit" disabled={busy || waiting || totp === null || !proof.trim()}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Confirm
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/**
 * The one place the "Confirm it's you" dialog is shown for commands (rendered once by the
 * app shell): it installs the prompt lib/reauth.ts calls when any command answers
 * `reauth_required`, and resolves it when the person confirms or cancels.
 */
export function ReauthHost() {
  const [pending, setPending] = useState<((ok: boolean) => void) | null>(null);
  useEffect(() => setReauthPrompt(() => new Promise<boolean>((resolve) => setPending(() => resolve))), []);
  if (!pending) return null;
  const done = (ok: boolean) => {
    setPending(null);
    pending(ok);
  };
  return <ReauthDialog onConfirmed={() => done(true)} onCancel={() => done(false)} />;
}

export { REAUTH_CANCELLED };
