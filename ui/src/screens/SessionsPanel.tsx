import { useState } from "preact/hooks";
import type { SessionItem } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { ErrorNotice } from "../components/Notice";
import { lockChoices, saveLockSecs, useLockSecs } from "../lib/autolock";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, notAfterNow, relativeTime } from "../lib/format";
import { toast } from "../lib/toast";
import { useCommand } from "../lib/useCommand";

/**
 * Settings → Sessions: where the person is signed in (this device marked), "Sign out
 * everywhere else" (the app's own confirm; the server asks for the sudo window, the prompt
 * handles it), and this computer's auto-lock time.
 */
export function SessionsPanel() {
  const sessions = useCommand((c) => c.listSessions());
  const [confirming, setConfirming] = useState(false);
  const others = sessions.data?.filter((s) => !s.current).length ?? 0;
  return (
    <div class="settings-panel" data-testid="sessions-panel">
      <section class="card card-flush" aria-labelledby="sessions-title">
        <div class="card-head">
          <h2 class="card-title" id="sessions-title">
            <Icon name="monitor" />
            Signed-in sessions
          </h2>
          <button
            type="button"
            class="button button-danger-ghost button-small"
            data-testid="end-other-sessions"
            disabled={others === 0}
            onClick={() => setConfirming(true)}
          >
            <Icon name="logOut" />
            Sign out everywhere else
          </button>
        </div>
        <p class="muted pad-x">Every place your account is signed in: this app, other computers, the command line. A session ends by itself after a while unused.</p>
        <SessionsTable sessions={sessions.data} error={sessions.error} loading={sessions.loading} />
      </section>
      <AutoLockCard />
      {confirming ? (
        <EndOthersDialog
          count={others}
          onClose={(done) => {
            setConfirming(false);
            if (done) sessions.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function SessionsTable(props: { sessions: SessionItem[] | null; error: CommandError | null; loading: boolean }) {
  if (props.sessions) {
    return (
      <div class="table-wrap">
        <table class="table" data-testid="sessions-table">
          <thead>
            <tr>
              <th scope="col">Session</th>
              <th scope="col">Signed in</th>
              <th scope="col">Last active</th>
              <th scope="col">Ends by</th>
            </tr>
          </thead>
          <tbody>
            {props.sessions.map((s) => (
              <tr key={s.id} data-testid={s.current ? "session-row-current" : "session-row"}>
                <td class="strong">
                  <span class="mono">{s.id}</span>{" "}
                  {s.current ? (
                    <span class="pill pill-good" data-testid="session-this-device">
                      This device
                    </span>
                  ) : null}
                </td>
                <td title={formatDate(s.created_at)}>{relativeTime(notAfterNow(s.created_at))}</td>
                <td title={formatDate(s.last_seen_at)}>{relativeTime(notAfterNow(s.last_seen_at))}</td>
                <td>{formatDate(s.expires_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  if (props.loading) return <p class="muted pad">Loading your sessions…</p>;
  return (
    <div class="pad">
      <ErrorNotice error={props.error} testid="sessions-error" />
    </div>
  );
}

/** "Sign out N other sessions?": Cancel first; the server may ask to confirm it's you. */
function EndOthersDialog(props: { count: number; onClose: (done: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const what = props.count === 1 ? "1 other session" : `${props.count} other sessions`;
  return (
    <Dialog
      title={`Sign out ${what}?`}
      description="Everywhere else your account is signed in (other computers, the command line) signs out at once. This app stays signed in. You will get a mail about it."
      onRequestClose={() => props.onClose(false)}
      testid="end-other-sessions-dialog"
    >
      <ErrorNotice error={error} testid="end-other-sessions-error" />
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" onClick={() => props.onClose(false)}>
          Cancel
        </button>
        <button
          type="button"
          class="button button-danger"
          data-testid="confirm-end-other-sessions"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              const ended = await call((c) => c.endOtherSessions());
              toast(ended === 1 ? "Signed out 1 other session" : `Signed out ${ended} other sessions`);
              props.onClose(true);
            } catch (e) {
              setError(toCommandError(e));
              setBusy(false);
            }
          }}
        >
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          Sign out everywhere else
        </button>
      </div>
    </Dialog>
  );
}

/** This computer's auto-lock time, saved as it is chosen. */
function AutoLockCard() {
  const info = useCommand((c) => c.appInfo());
  const secs = useLockSecs();
  const choices = lockChoices(info.data?.debug_lock_secs);
  // A saved choice that is no longer offered (a test build's) still shows as itself.
  const shown = choices.some((c) => c.secs === secs) ? choices : [...choices, { secs, label: `After ${secs} seconds` }];
  return (
    <section class="card" aria-labelledby="autolock-title" data-testid="autolock-card">
      <h2 class="card-title" id="autolock-title">
        <Icon name="lock" />
        Auto-lock
      </h2>
      <div class="field">
        <label class="field-label" for="autolock-time">
          Lock Keyhold when this computer is not used
        </label>
        <select
          id="autolock-time"
          data-testid="autolock-time"
          aria-describedby="autolock-hint"
          value={String(secs)}
          onChange={(e) => {
            const next = Number(e.currentTarget.value);
            saveLockSecs(next);
            toast(next === 0 ? "Auto-lock is off" : "Auto-lock time saved");
          }}
        >
          {shown.map((c) => (
            <option key={c.secs} value={String(c.secs)}>
              {c.label}
            </option>
          ))}
        </select>
        <p class="hint" id="autolock-hint">
          Without a key press or a pointer move in Keyhold for this long, it hides everything until you unlock it with your password or an
          authenticator code. You stay signed in. Kept on this computer only.
        </p>
      </div>
    </section>
  );
}
