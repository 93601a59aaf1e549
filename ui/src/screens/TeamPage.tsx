import { useState } from "preact/hooks";
import type { PendingInvitationView } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { InviteDialog } from "../components/InviteDialog";
import { ErrorNotice, Notice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, notAfterNow, relativeTime } from "../lib/format";
import { useCommand } from "../lib/useCommand";
import { MembersTable } from "./MembersPanel";

/**
 * Team, the first tab of Settings: the members (with their role and 2FA; owners and admins
 * change roles, remove people, reset a lost 2FA), inviting people, and the invitations
 * nobody has used yet (owners and admins; the server refuses everyone else, and the page
 * says so instead of failing).
 */
export function TeamPage(props: { myId?: string; canManage?: boolean }) {
  const members = useCommand((c) => c.listMembers());
  const invitations = useCommand((c) => c.listInvitations());
  const [inviting, setInviting] = useState(false);
  const [revoking, setRevoking] = useState<PendingInvitationView | null>(null);
  const canManage = props.canManage ?? true;

  return (
    <div class="settings-panel" data-testid="team-page">
      <section class="card card-flush" aria-labelledby="members-title">
        <div class="card-head">
          <h2 class="card-title" id="members-title">
            <Icon name="user" />
            Members
          </h2>
          <button type="button" class="button button-primary button-small" data-testid="team-invite-button" onClick={() => setInviting(true)}>
            <Icon name="plus" />
            Invite someone
          </button>
        </div>
        <MembersTable members={members} myId={props.myId} canManage={canManage} />
      </section>

      <section class="card card-flush" aria-labelledby="invitations-title">
        <h2 class="card-title" id="invitations-title">
          <Icon name="mail" />
          Pending invitations
        </h2>
        <p class="muted pad-x">An invitation link works once, for 7 days, for the address it was sent to.</p>
        <InvitationsTable invitations={invitations.data} error={invitations.error} loading={invitations.loading} onRevoke={setRevoking} />
      </section>

      {inviting ? <InviteDialog onClose={() => setInviting(false)} onSent={() => invitations.reload()} /> : null}
      {revoking ? (
        <RevokeInvitationDialog
          invitation={revoking}
          onClose={(done) => {
            setRevoking(null);
            if (done) invitations.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function InvitationsTable(props: {
  invitations: PendingInvitationView[] | null;
  error: CommandError | null;
  loading: boolean;
  onRevoke: (i: PendingInvitationView) => void;
}) {
  if (props.error?.kind === "forbidden") {
    return (
      <div class="pad">
        <Notice tone="info" testid="invitations-forbidden">
          Only owners and admins see and revoke pending invitations.
        </Notice>
      </div>
    );
  }
  if (props.invitations && props.invitations.length > 0) {
    return (
      <div class="table-wrap">
        <table class="table" data-testid="invitations-table">
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Invited by</th>
              <th scope="col">Expires</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {props.invitations.map((i) => (
              <tr key={i.id} data-testid={`invitation-row-${i.id}`} data-email={i.email}>
                <td class="strong">{i.email}</td>
                <td>{i.role}</td>
                <td title={`Sent ${formatDate(i.created_at)}`}>{i.invited_by}</td>
                <td data-testid={`invitation-expires-${i.id}`}>{formatDate(i.expires_at)}</td>
                <td class="row-actions">
                  <button type="button" class="button button-danger-ghost button-small" data-testid={`revoke-invitation-${i.id}`} onClick={() => props.onRevoke(i)}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  if (props.invitations) {
    return (
      <div class="empty-state" data-testid="invitations-empty">
        <Icon name="mail" size={28} />
        <h2>No pending invitations</h2>
        <p class="muted">Invitations appear here until they are used, revoked or expire.</p>
      </div>
    );
  }
  if (props.loading) return <p class="muted pad">Loading invitations…</p>;
  return (
    <div class="pad">
      <ErrorNotice error={props.error} testid="invitations-error" />
    </div>
  );
}

/** "Revoke?" in the app's own dialog; the revoke asks to confirm it's you past the sudo window. */
export function RevokeInvitationDialog(props: { invitation: PendingInvitationView; onClose: (done: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const i = props.invitation;
  return (
    <Dialog title={`Revoke the invitation to ${i.email}?`} onRequestClose={() => props.onClose(false)} testid="revoke-invitation-dialog">
      <p>
        The link sent to <strong>{i.email}</strong> ({i.role}, sent {relativeTime(notAfterNow(i.created_at))} by {i.invited_by}) stops working at once. You can invite them again later.
      </p>
      <ErrorNotice error={error} testid="revoke-invitation-error" />
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" onClick={() => props.onClose(false)}>
          Keep it
        </button>
        <button
          type="button"
          class="button button-danger"
          data-testid="confirm-revoke-invitation"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await call((c) => c.revokeInvitation(i.id));
              props.onClose(true);
            } catch (e) {
              setError(toCommandError(e));
              setBusy(false);
            }
          }}
        >
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          Revoke invitation
        </button>
      </div>
    </Dialog>
  );
}
