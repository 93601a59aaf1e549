import { useState } from "preact/hooks";
import type { MemberView } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { ROLES } from "../components/InviteDialog";
import { ErrorNotice, Notice } from "../components/Notice";
import { REAUTH_CANCELLED, ReauthDialog } from "../components/ReauthDialog";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate } from "../lib/format";
import type { Loaded } from "../lib/useCommand";
import { StatusBadge } from "../components/StatusBadge";

type Action = { kind: "role" | "remove" | "mfa"; member: MemberView };

/**
 * The tenant's people: role, 2FA, and (for owners and admins) change a role, remove
 * someone, or turn off the 2FA of someone who lost their phone. Each change goes through
 * the app's own dialog and the sudo prompt.
 */
export function MembersTable(props: { members: Loaded<MemberView[]>; myId?: string; canManage: boolean }) {
  const [action, setAction] = useState<Action | null>(null);
  const { data, error, loading } = props.members;
  const close = (done: boolean) => {
    setAction(null);
    if (done) props.members.reload();
  };
  let body;
  if (data && data.length > 0) {
    body = (
      <div class="table-wrap">
        <table class="table" data-testid="members-table">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">2FA</th>
              <th scope="col">Joined</th>
              {props.canManage ? (
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              ) : null}
            </tr>
          </thead>
          <tbody>
            {data.map((m) => {
              const me = m.id === props.myId;
              return (
                <tr key={m.id} data-testid={`member-row-${m.id}`} data-email={m.email}>
                  <td>
                    <div class="strong">
                      {m.display_name ?? m.email}
                      {me ? <span class="muted"> (you)</span> : null}
                    </div>
                    {m.display_name ? <div class="muted">{m.email}</div> : null}
                  </td>
                  <td data-testid={`member-role-${m.id}`}>{m.role}</td>
                  <td><StatusBadge tone={m.mfa_enabled ? "good" : "muted"} label={m.mfa_enabled ? "On" : "Off"} /></td>
                  <td>{formatDate(m.created_at)}</td>
                  {props.canManage ? (
                    <td class="row-actions nowrap">
                      <button type="button" class="button button-ghost button-small" data-testid={`member-change-role-${m.id}`} onClick={() => setAction({ kind: "role", member: m })}>
                        Change role
                      </button>
                      {m.mfa_enabled && !me ? (
                        <button type="button" class="button button-ghost button-small" data-testid={`member-reset-mfa-${m.id}`} onClick={() => setAction({ kind: "mfa", member: m })}>
                          Reset 2FA
                        </button>
                      ) : null}
                      <button type="button" class="button button-danger-ghost button-small" data-testid={`member-remove-${m.id}`} onClick={() => setAction({ kind: "remove", member: m })}>
                        {me ? "Leave" : "Remove"}
                      </button>
                    </td>
                  ) : null}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  } else if (loading) {
    body = <p class="muted pad">Loading members…</p>;
  } else {
    body = (
      <div class="pad">
        <ErrorNotice error={error} testid="members-error" />
      </div>
    );
  }
  return (
    <>
      {body}
      {action?.kind === "role" ? <RoleDialog member={action.member} onClose={close} /> : null}
      {action?.kind === "remove" ? <RemoveDialog member={action.member} me={action.member.id === props.myId} onClose={close} /> : null}
      {action?.kind === "mfa" ? <ResetMfaDialog member={action.member} onClose={close} /> : null}
    </>
  );
}

function name(m: MemberView): string {
  return m.display_name ?? m.email;
}

/** Run a sudo change from a dialog: busy, error, done. */
function useChange(onDone: () => void) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  async function run(action: () => Promise<unknown>) {
    setBusy(true);
    setError(null);
    try {
      await action();
      onDone();
    } catch (e) {
      setError(toCommandError(e));
      setBusy(false);
    }
  }
  return { busy, error, run };
}

export function RoleDialog(props: { member: MemberView; onClose: (done: boolean) => void }) {
  const m = props.member;
  const [role, setRole] = useState(m.role);
  const change = useChange(() => props.onClose(true));
  return (
    <Dialog title={`Change the role of ${name(m)}`} onRequestClose={() => props.onClose(false)} testid="member-role-dialog">
      <form
        class="form"
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          void change.run(() => call((c) => c.changeMemberRole(m.id, role)));
        }}
      >
        <div class="field">
          <label class="field-label" for="member-role">
            Role
          </label>
          <select id="member-role" data-testid="member-role-select" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
          <p class="hint">{ROLES.find((r) => r.value === role)?.hint}</p>
        </div>
        <ErrorNotice error={change.error} testid="member-role-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={() => props.onClose(false)}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" data-testid="member-role-save" disabled={change.busy || role === m.role}>
            {change.busy ? <span class="spinner" aria-hidden="true" /> : null}
            Save role
          </button>
        </div>
      </form>
    </Dialog>
  );
}

export function RemoveDialog(props: { member: MemberView; me: boolean; onClose: (done: boolean) => void }) {
  const m = props.member;
  const change = useChange(() => props.onClose(true));
  return (
    <Dialog title={props.me ? "Leave this team?" : `Remove ${name(m)}?`} onRequestClose={() => props.onClose(false)} testid="member-remove-dialog">
      <p>
        {props.me ? "Your" : "Their"} sessions end at once, {props.me ? "your" : "their"} agent keys and tokens are revoked, and the invitations {props.me ? "you" : "they"} sent stop working.
      </p>
      <ErrorNotice error={change.error} testid="member-remove-error" />
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" onClick={() => props.onClose(false)}>
          Keep {props.me ? "me" : "them"}
        </button>
        <button type="button" class="button button-danger" data-testid="member-remove-confirm" disabled={change.busy} onClick={() => void change.run(() => call((c) => c.removeMember(m.id)))}>
          {change.busy ? <span class="spinner" aria-hidden="true" /> : null}
          {props.me ? "Leave the team" : "Remove member"}
        </button>
      </div>
    </Dialog>
  );
}

/**
 * Lost phone and backup codes: an owner or admin turns the member's 2FA off with their own
 * code. Outside the sudo window the person confirms it's them first, then types the next
 * code (each code works once, so the one typed before cannot be reused).
 */
export function ResetMfaDialog(props: { member: MemberView; onClose: (done: boolean) => void }) {
  const m = props.member;
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [reauth, setReauth] = useState(false);
  const [confirmed, setConfirmed] = useState(false);
  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // Its own input is a one-time code: after confirming, ask for the next code rather than replay this one.
      await call((c) => c.resetMemberMfa(m.id, code), { reauth: "manual" });
      props.onClose(true);
    } catch (err) {
      const ce = toCommandError(err);
      if (ce.kind === "reauth_required") setReauth(true);
      else setError(ce);
      setBusy(false);
    }
  }
  return (
    <Dialog title={`Reset the 2FA of ${name(m)}?`} onRequestClose={() => props.onClose(false)} testid="member-reset-mfa-dialog">
      <Notice tone="warning">
        Do this only when you are sure it is them asking (call them). Their authenticator and backup codes stop working; they sign in with their password alone until they
        turn 2FA on again. They are told by mail.
      </Notice>
      <form class="form" noValidate onSubmit={submit}>
        <div class="field">
          <label class="field-label" for="reset-mfa-code">
            {confirmed ? "The next code from your authenticator app" : "Your own code from your authenticator app"}
          </label>
          <input
            id="reset-mfa-code"
            data-testid="member-reset-mfa-code"
            class="code-input"
            type="text"
            inputMode="numeric"
            autocomplete="one-time-code"
            maxLength={24}
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
          {confirmed ? (
            <p class="hint" data-testid="member-reset-mfa-next">
              Thanks for confirming. Each code works once: wait for your app to show a new one.
            </p>
          ) : null}
        </div>
        <ErrorNotice error={error} testid="member-reset-mfa-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={() => props.onClose(false)}>
            Cancel
          </button>
          <button type="submit" class="button button-danger" data-testid="member-reset-mfa-confirm" disabled={busy || !code.trim()}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Reset 2FA
          </button>
        </div>
      </form>
      {reauth ? (
        <ReauthDialog
          onConfirmed={() => {
            setReauth(false);
            setConfirmed(true);
            setCode("");
          }}
          onCancel={() => {
            setReauth(false);
            setError(REAUTH_CANCELLED);
          }}
        />
      ) : null}
    </Dialog>
  );
}
