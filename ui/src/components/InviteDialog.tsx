import { useState } from "preact/hooks";
import type { InvitationView } from "../bindings";
import { call } from "../api";
import { toCommandError, type CommandError } from "../lib/errors";
import { Dialog } from "./Dialog";
import { ErrorNotice, Notice } from "./Notice";

export const ROLES: { value: string; label: string; hint: string }[] = [
  { value: "approver", label: "Approver", hint: "Reads and writes secrets, and decides approval requests." },
  { value: "admin", label: "Admin", hint: "Also manages members, agent keys and settings." },
  { value: "member", label: "Member", hint: "Reads and writes secrets; cannot approve." },
  { value: "owner", label: "Owner", hint: "Everything, including other owners." },
];

/**
 * Invite someone by email (the link travels by mail). Needs the sudo window. `onSent` lets
 * a list of pending invitations refresh as soon as the invitation exists.
 */
export function InviteDialog(props: { onClose: () => void; onSent?: (sent: InvitationView) => void }) {
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("approver");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [sent, setSent] = useState<InvitationView | null>(null);

  return (
    <Dialog title="Invite someone" description="They get a link by email to join your team." onRequestClose={props.onClose} testid="invite-dialog">
      {sent ? (
        <>
          <Notice tone="success" testid="invite-sent">
            Invitation sent to <strong>{sent.email}</strong> as {sent.role}.
          </Notice>
          <div class="dialog-actions">
            <button type="button" class="button button-primary" data-testid="invite-done" onClick={props.onClose}>
              Done
            </button>
          </div>
        </>
      ) : (
        <form
          class="form"
          noValidate
          onSubmit={async (e) => {
            e.preventDefault();
            setBusy(true);
            setError(null);
            try {
              const invitation = await call((c) => c.inviteMember(email.trim(), role));
              setSent(invitation);
              props.onSent?.(invitation);
            } catch (err) {
              setError(toCommandError(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          <div class="field">
            <label class="field-label" for="invite-email">
              Email
            </label>
            <input id="invite-email" data-testid="invite-email" type="email" autocomplete="off" value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </div>
          <div class="field">
            <label class="field-label" for="invite-role">
              Role
            </label>
            <select id="invite-role" data-testid="invite-role" value={role} onChange={(e) => setRole(e.currentTarget.value)}>
              {ROLES.map((r) => (
                <option key={r.value} value={r.value}>
                  {r.label}
                </option>
              ))}
            </select>
            <p class="hint">{ROLES.find((r) => r.value === role)?.hint}</p>
          </div>
          <ErrorNotice error={error} testid="invite-error" />
          <div class="dialog-actions">
            <button type="button" class="button button-ghost" onClick={props.onClose}>
              Cancel
            </button>
            <button type="submit" class="button button-primary" data-testid="invite-submit" disabled={busy || !email.includes("@")}>
              {busy ? <span class="spinner" aria-hidden="true" /> : null}
              Send invitation
            </button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
