import type { JSX } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { call } from "../api";
import { toCommandError, type CommandError } from "../lib/errors";
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
            // A TOTP code may be typed in groups ("123 456"); a password goes as typed.
            const value = totp === true ? proof.trim().replace(/\s+/gu, "") : proof;
            await call((c) => c.reauthenticate(value));
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
          <button type="submit" class="button button-primary" data-testid="reauth-submit" disabled={busy || totp === null || !proof.trim()}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Confirm
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The error a cancelled confirmation leaves: the change did not happen. */
export const REAUTH_CANCELLED: CommandError = {
  kind: "reauth_required",
  message: "Not changed: Keyhold needs you to confirm it's you first.",
  details: [],
  retry_after_secs: null,
};

/**
 * Run a change that may need the sudo window: on `reauth_required` the dialog asks the
 * person to confirm it's them, then the change runs again once. Render `dialog`.
 */
export function useSudo(): { run: <T>(action: () => Promise<T>) => Promise<T>; dialog: JSX.Element | null } {
  const [asking, setAsking] = useState<{ confirmed: () => void; cancel: () => void } | null>(null);
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );

  function run<T>(action: () => Promise<T>): Promise<T> {
    return action().catch((raw: unknown) => {
      const e = toCommandError(raw);
      if (e.kind !== "reauth_required" || !mounted.current) throw e;
      return new Promise<T>((resolve, reject) => {
        setAsking({
          confirmed: () => {
            setAsking(null);
            action().then(resolve, (err: unknown) => reject(toCommandError(err)));
          },
          cancel: () => {
            setAsking(null);
            reject(REAUTH_CANCELLED);
          },
        });
      });
    });
  }

  const dialog = asking ? <ReauthDialog onConfirmed={asking.confirmed} onCancel={asking.cancel} /> : null;
  return { run, dialog };
}
