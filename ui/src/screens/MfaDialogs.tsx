import { useEffect, useState } from "preact/hooks";
import type { MfaStatus, TotpEnrollment } from "../bindings";
import { call } from "../api";
import { CopyButton } from "../components/CopyButton";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { DownloadButton, LeaveUnsaved } from "../components/ShowOnce";
import { toCommandError, type CommandError } from "../lib/errors";
import { backupCodesFile } from "../lib/format";
import { useCommand } from "../lib/useCommand";
import { toast } from "../lib/toast";

/** Backup codes, shown once: copy, download, print, and "I saved them" before closing. */
export function BackupCodesPanel(props: { codes: string[]; account: string; onDone: () => void }) {
  const [saved, setSaved] = useState(false);
  const text = backupCodesFile(props.codes, props.account);
  return (
    <div class="backup-codes" data-testid="backup-codes-panel">
      <Notice tone="warning" title="Save these codes now — they will not be shown again">
        Each code signs you in once if you lose your phone. Keep them offline, somewhere only you can reach.
      </Notice>
      <ol class="code-grid" data-testid="backup-codes">
        {props.codes.map((c) => (
          <li key={c}>
            <code>{c}</code>
          </li>
        ))}
      </ol>
      <div class="button-row">
        <CopyButton text={props.codes.join("\n")} label="Copy all" testid="backup-codes-copy" />
        <DownloadButton fileName="keyhold-backup-codes.txt" text={text} testid="backup-codes-download" />
        <button type="button" class="button button-secondary" data-testid="backup-codes-print" onClick={() => window.print()}>
          <Icon name="printer" />
          Print
        </button>
      </div>
      <label class="checkbox">
        <input type="checkbox" data-testid="backup-codes-saved" checked={saved} onChange={(e) => setSaved(e.currentTarget.checked)} />
        <span>I saved my backup codes somewhere safe</span>
      </label>
      <div class="dialog-actions">
        <button type="button" class="button button-primary" data-testid="backup-codes-done" disabled={!saved} onClick={props.onDone}>
          Done
        </button>
      </div>
    </div>
  );
}

function CodeField(props: { id: string; label: string; value: string; onInput: (v: string) => void; testid: string; hint?: string }) {
  return (
    <div class="field">
      <label class="field-label" for={props.id}>
        {props.label}
      </label>
      <input
        id={props.id}
        data-testid={props.testid}
        class="code-input"
        type="text"
        inputMode="numeric"
        autocomplete="one-time-code"
        maxLength={24}
        value={props.value}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
    </div>
  );
}

/**
 * Enroll: scan the QR (or type the key), confirm a code, then the backup codes once.
 * Starting and confirming both need the sudo window: on `reauth_required` the person
 * confirms it's them (their password, as 2FA is still off) and the step runs again once.
 */
export function MfaEnrollDialog(props: { account: string; onClose: () => void }) {
  const [enrollment, setEnrollment] = useState<TotpEnrollment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [startError, setStartError] = useState<CommandError | null>(null);

  useEffect(() => {
    call((c) => c.mfaBeginEnrollment())
      .then(setEnrollment)
      .catch((e) => setStartError(toCommandError(e)));
  }, []);

  const [leaving, setLeaving] = useState(false);
  function requestClose() {
    if (codes) setLeaving(true);
    else props.onClose();
  }

  async function confirm(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const result = await call((c) => c.mfaConfirmEnrollment(code));
      setCodes(result.codes);
    } catch (err) {
      setError(toCommandError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog
      title={codes ? "Your backup codes" : "Set up two-factor authentication"}
      description={codes ? undefined : "Use an authenticator app such as 1Password, Aegis, Google Authenticator or Authy."}
      onRequestClose={requestClose}
      testid="mfa-enroll-dialog"
      wide
    >
      {codes && leaving ? (
        <LeaveUnsaved title="Close without saving your backup codes?" onBack={() => setLeaving(false)} onLeave={props.onClose}>
          They will not be shown again. Without them, losing your phone locks you out.
        </LeaveUnsaved>
      ) : codes ? (
        <BackupCodesPanel codes={codes} account={props.account} onDone={props.onClose} />
      ) : startError ? (
        <ErrorNotice error={startError} testid="mfa-enroll-error" />
      ) : !enrollment ? (
        <p class="muted" aria-busy="true">
          <span class="spinner" aria-hidden="true" /> Preparing your key…
        </p>
      ) : (
        <form class="enroll" onSubmit={confirm} noValidate>
          <ol class="steps">
            <li>
              <strong>Scan this code</strong> with your authenticator app.
              <div class="qr-frame">
                <img src={enrollment.qr_data_url} alt={`QR code for ${enrollment.issuer}: ${enrollment.account}`} data-testid="mfa-qr" width={208} height={208} />
              </div>
            </li>
            <li>
              <strong>Or enter this key</strong> by hand:
              <div class="manual-key">
                <code data-testid="mfa-manual-key">{enrollment.manual_key}</code>
                <CopyButton text={enrollment.manual_key.replace(/\s+/gu, "")} testid="mfa-manual-key-copy" />
              </div>
            </li>
            <li>
              <strong>Enter the 6-digit code</strong> the app shows to finish.
              <CodeField id="mfa-confirm-code" label="Code" value={code} onInput={setCode} testid="mfa-confirm-code" />
            </li>
          </ol>
          <ErrorNotice error={error} testid="mfa-confirm-error" />
          <div class="dialog-actions">
            <button type="button" class="button button-ghost" onClick={requestClose}>
              Cancel
            </button>
            <button type="submit" class="button button-primary" data-testid="mfa-confirm-button" disabled={busy || !code.trim()}>
              {busy ? <span class="spinner" aria-hidden="true" /> : null}
              Turn on 2FA
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}

/** These take a one-time code themselves: after confirming it's you, ask for the next code (a retry would replay it). */
const MANUAL = { reauth: "manual" } as const;

/** With 2FA on: backup codes left, new codes, turn off — each behind a fresh code. */
export function MfaManageDialog(props: { account: string; onClose: () => void }) {
  const status = useCommand((c) => c.mfaStatus());
  const [action, setAction] = useState<null | "regenerate" | "disable">(null);
  const [code, setCode] = useState("");
  const [codes, setCodes] = useState<string[] | null>(null);
  const [leaving, setLeaving] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  // The server's sudo window lapsed: prove it is you again, then repeat the change.
  const [reauth, setReauth] = useState<"needed" | "done" | null>(null);

  async function run(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (reauth === "needed") {
        await call((c) => c.reauthenticate(code));
        setReauth("done");
        setCode("");
      } else if (action === "regenerate") {
        const r = await call((c) => c.mfaRegenerateBackupCodes(code), MANUAL);
        setCodes(r.codes);
      } else if (action === "disable") {
        await call((c) => c.mfaDisable(code), MANUAL);
        toast("Two-factor authentication is off.");
        props.onClose();
      }
    } catch (err) {
      const ce = toCommandError(err);
      if (ce.kind === "reauth_required") {
        setReauth("needed");
        setCode("");
      } else {
        setError(ce);
      }
    } finally {
      setBusy(false);
    }
  }

  const s: MfaStatus | null = status.data;
  return (
    <Dialog
      title={codes ? "Your new backup codes" : "Two-factor authentication"}
      onRequestClose={() => {
        if (codes) setLeaving(true);
        else props.onClose();
      }}
      testid="mfa-manage-dialog"
      wide={codes !== null}
    >
      {codes && leaving ? (
        <LeaveUnsaved title="Close without saving your new backup codes?" onBack={() => setLeaving(false)} onLeave={props.onClose}>
          They will not be shown again, and the old ones no longer work.
        </LeaveUnsaved>
      ) : codes ? (
        <BackupCodesPanel codes={codes} account={props.account} onDone={props.onClose} />
      ) : (
        <>
          {s ? (
            <dl class="facts">
              <div>
                <dt>Status</dt>
                <dd>{s.totp_enabled ? "On" : "Off"}</dd>
              </div>
              <div>
                <dt>Backup codes left</dt>
                <dd data-testid="backup-codes-remaining">{s.backup_codes_remaining}</dd>
              </div>
            </dl>
          ) : (
            <ErrorNotice error={status.error} />
          )}
          {action ? (
            <form class="form" onSubmit={run} noValidate>
              {reauth === "needed" ? (
                <Notice tone="info" title="Confirm it's you" testid="mfa-reauth-notice">
                  You signed in more than 10 minutes ago. Enter a code from your authenticator app to continue.
                </Notice>
              ) : reauth === "done" ? (
                <Notice tone="success" testid="mfa-reauth-done">
                  Confirmed. Now enter the next code your app shows: each code works only once.
                </Notice>
              ) : (
                <Notice tone={action === "disable" ? "danger" : "info"}>
                  {action === "disable"
                    ? "Turning off 2FA leaves your account protected by the password alone."
                    : "New codes replace the old ones; the old ones stop working at once."}
                </Notice>
              )}
              <CodeField
                id="mfa-manage-code"
                label="Code from your authenticator app"
                value={code}
                onInput={setCode}
                testid="mfa-manage-code"
                hint="Keyhold asks for a fresh code before this change."
              />
              <ErrorNotice error={error} />
              <div class="dialog-actions">
                <button type="button" class="button button-ghost" onClick={() => setAction(null)}>
                  Back
                </button>
                <button
                  type="submit"
                  class={`button ${action === "disable" && reauth !== "needed" ? "button-danger" : "button-primary"}`}
                  data-testid="mfa-manage-submit"
                  disabled={busy || !code.trim()}
                >
                  {reauth === "needed" ? "Confirm" : action === "disable" ? "Turn off 2FA" : "Create new codes"}
                </button>
              </div>
            </form>
          ) : (
            <div class="dialog-actions">
              <button type="button" class="button button-danger-ghost" data-testid="mfa-disable" onClick={() => setAction("disable")}>
                Turn off 2FA
              </button>
              <button type="button" class="button button-primary" data-testid="mfa-regenerate" onClick={() => setAction("regenerate")}>
                New backup codes
              </button>
            </div>
          )}
        </>
      )}
    </Dialog>
  );
}
