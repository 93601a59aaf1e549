import { useState } from "preact/hooks";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { ErrorNotice } from "../components/Notice";
import { PasswordMeter, usePasswordStrength } from "../components/PasswordMeter";
import { toCommandError, type CommandError } from "../lib/errors";
import { toast } from "../lib/toast";

/** Change the password with the live zxcvbn meter. */
export function ChangePasswordDialog(props: { email: string; onClose: (changed: boolean) => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const strength = usePasswordStrength(next, props.email);
  const mismatch = repeat.length > 0 && repeat !== next;

  async function submit(e: Event) {
    e.preventDefault();
    if (mismatch) return;
    setBusy(true);
    setError(null);
    try {
      await call((c) => c.changePassword(current, next));
      toast("Password changed.");
      props.onClose(true);
    } catch (err) {
      setError(toCommandError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      title="Change your password"
      description="Other sessions are signed out when it changes."
      onRequestClose={() => props.onClose(false)}
      testid="change-password-dialog"
    >
      <form class="form" onSubmit={submit} noValidate>
        <div class="field">
          <label class="field-label" for="current-password">
            Current password
          </label>
          <input
            id="current-password"
            data-testid="current-password"
            type="password"
            autocomplete="current-password"
            value={current}
            onInput={(e) => setCurrent(e.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label class="field-label" for="new-password">
            New password
          </label>
          <input
            id="new-password"
            data-testid="new-password"
            type="password"
            autocomplete="new-password"
            aria-describedby="new-password-meter"
            value={next}
            onInput={(e) => setNext(e.currentTarget.value)}
          />
          <PasswordMeter id="new-password-meter" strength={strength} />
        </div>
        <div class="field">
          <label class="field-label" for="repeat-password">
            New password again
          </label>
          <input
            id="repeat-password"
            data-testid="repeat-password"
            type="password"
            autocomplete="new-password"
            aria-invalid={mismatch}
            aria-describedby="repeat-hint"
            value={repeat}
            onInput={(e) => setRepeat(e.currentTarget.value)}
          />
          <p id="repeat-hint" class={`hint ${mismatch ? "hint-error" : ""}`}>
            {mismatch ? "The two passwords differ." : "\u00a0"}
          </p>
        </div>
        <ErrorNotice error={error} testid="change-password-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={() => props.onClose(false)}>
            Cancel
          </button>
          <button
            type="submit"
            class="button button-primary"
            data-testid="change-password-submit"
            disabled={busy || !current || !strength?.acceptable || repeat !== next}
          >
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Change password
          </button>
        </div>
      </form>
    </Dialog>
  );
}
