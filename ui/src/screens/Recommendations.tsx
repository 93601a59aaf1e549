// The Security Vault's recommendations, each with the action that fixes it: a dialog that
// opens on the spot, the page where the fix is, or the agent key it names (opened in the
// keys page). A recommendation with nothing to press is a dead end, so every id the server
// sends maps to an action here, and an id this version does not know still gets one
// (the page its wording points at, or the keys page for a key).
import type { RecommendationView } from "../bindings";
import type { Page } from "../app";
import { Icon, type IconName } from "../components/Icon";
import { focusForRecommendation, type KeyFocus } from "../lib/keys";

export type VaultDialog = "mfa-enroll" | "mfa-manage" | "password" | "verify-email";

/** What pressing a recommendation's button does. */
export type RecAction =
  | { kind: "dialog"; dialog: VaultDialog; label: string }
  | { kind: "page"; page: Page; label: string }
  | { kind: "key"; focus: KeyFocus; label: string }
  | { kind: "alerts"; label: string };

export function recommendationAction(r: RecommendationView): RecAction {
  switch (r.id) {
    case "verify_email":
      return { kind: "dialog", dialog: "verify-email", label: "Send the link" };
    case "enable_mfa":
      return { kind: "dialog", dialog: "mfa-enroll", label: "Set up 2FA" };
    case "strengthen_password":
      return { kind: "dialog", dialog: "password", label: "Change password" };
    case "regenerate_backup_codes":
      return { kind: "dialog", dialog: "mfa-manage", label: "New backup codes" };
    case "pending_approvals":
      return { kind: "page", page: "approvals", label: "Open the inbox" };
    case "acknowledge_alerts":
      return { kind: "alerts", label: "Review alerts" };
    default:
      // key_without_expiry, key_broad_scope, key_unused, key_old, key_suspended and any
      // per-key recommendation to come name their key in `target`.
      if (r.target) {
        // An old key opens its rotation, a key without expiry its edit dialog, the rest
        // its details (lib/keys.ts).
        const focus = focusForRecommendation(r.id, r.target) ?? { id: r.target, action: "details" };
        const label = { rotate: "Rotate it", edit: "Set an expiry", details: r.id === "key_suspended" ? "Review key" : "Open key" }[focus.action];
        return { kind: "key", focus, label };
      }
      return { kind: "page", page: "keys", label: "Open agent keys" };
  }
}

const REC_ICON: Record<string, IconName> = { critical: "alert", warning: "alert", info: "info" };

export function Recommendation(props: {
  rec: RecommendationView;
  onNavigate: (p: Page) => void;
  onOpenKey: (focus: KeyFocus) => void;
  onOpen: (d: VaultDialog) => void;
}) {
  const r = props.rec;
  const action = recommendationAction(r);
  function run() {
    switch (action.kind) {
      case "dialog":
        return props.onOpen(action.dialog);
      case "page":
        return props.onNavigate(action.page);
      case "key":
        return props.onOpenKey(action.focus);
      case "alerts": {
        const panel = document.getElementById("alerts-panel");
        panel?.scrollIntoView({ block: "start" });
        panel?.querySelector<HTMLElement>("button")?.focus();
        return;
      }
    }
  }
  return (
    <li class={`rec rec-${r.severity}`} data-testid={`rec-${r.id}`}>
      <Icon name={REC_ICON[r.severity] ?? "info"} />
      <span class="rec-message">{r.message}</span>
      <button type="button" class="link-button" data-testid={`rec-action-${r.id}`} onClick={run}>
        {action.label} <Icon name="chevronRight" size={14} />
      </button>
    </li>
  );
}
