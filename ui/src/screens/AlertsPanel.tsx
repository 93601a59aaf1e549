import { useState } from "preact/hooks";
import type { AlertView } from "../bindings";
import type { Page } from "../app";
import { call } from "../api";
import { Icon } from "../components/Icon";
import { ErrorNotice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, relativeTime } from "../lib/format";
import { toast } from "../lib/toast";
import type { AlertFeed } from "../lib/useAlertFeed";
import { StatusBadge, type BadgeTone } from "../components/StatusBadge";

/** The rules' names as people read them (docs/alerts.md lists every rule). */
const RULES: Record<string, string> = {
  signin_failures_account: "Failed sign-ins to one account",
  signin_failures_address: "Failed sign-ins from one address",
  agent_failures: "Refused agent key uses",
  outside_allowlist: "Key used outside its IP allowlist",
  revoked_key_used: "Revoked key presented again",
  read_rate: "Unusual read rate",
  mfa_lockout: "Two-factor lockout",
  critical_secret_read: "Critical secret read",
  audit_chain: "Audit chain check failed",
};

export function ruleLabel(rule: string): string {
  return RULES[rule] ?? rule;
}

/** What the rule did besides alerting. */
export function responseLabel(response: string | null): string {
  if (response === "suspended_key") return "Key suspended";
  if (response === "blocked_address") return "Address blocked";
  return "Alert only";
}

/** "key:key_1" → "Agent key key_1": the subject kind in words, the id as the server gave it. */
export function subjectLabel(subject: string | null): string | null {
  if (!subject) return null;
  const [kind, ...rest] = subject.split(":");
  const id = rest.join(":");
  const word: Record<string, string> = { key: "Agent key", user: "Account", address: "Address", tenant: "Team" };
  return word[kind] ? `${word[kind]} ${id}` : subject;
}

const SEVERITY_TONE: Record<string, BadgeTone> = { critical: "bad", warning: "warn", info: "muted" };

/**
 * The open alerts of the team, live: the app's alerts feed reloads the list as the server
 * raises them. Owners and admins only (the Vault page shows it to them alone).
 */
export function AlertsPanel(props: { feed: AlertFeed; onNavigate: (p: Page) => void }) {
  const open = props.feed.open;
  const count = open?.length ?? 0;
  return (
    <section class="card" id="alerts-panel" aria-labelledby="alerts-title" data-testid="alerts-panel">
      <h2 class="card-title" id="alerts-title">
        <Icon name="bell" />
        Alerts
        {open ? (
          <span class={`pill ${count ? "pill-bad" : "pill-good"}`} data-testid="alerts-count" aria-label={`${count} open alerts`}>
            {count}
          </span>
        ) : null}
        {props.feed.live ? (
          <span class="muted small" data-testid="alerts-live">
            live
          </span>
        ) : null}
      </h2>
      {open && open.length === 0 ? (
        <p class="empty" data-testid="alerts-empty">
          <Icon name="checkCircle" /> No open alerts. Keyhold watches sign-ins, agent keys and reads, and tells you here.
        </p>
      ) : open ? (
        <ul class="rec-list" data-testid="alerts-list">
          {open.map((a) => (
            <AlertRow key={a.id} alert={a} onDone={props.feed.reload} onNavigate={props.onNavigate} />
          ))}
        </ul>
      ) : props.feed.error ? (
        <ErrorNotice error={props.feed.error} testid="alerts-error" />
      ) : (
        <p class="muted">Loading alerts…</p>
      )}
    </section>
  );
}

function AlertRow(props: { alert: AlertView; onDone: () => void; onNavigate: (p: Page) => void }) {
  const a = props.alert;
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const subject = subjectLabel(a.subject);
  async function acknowledge() {
    setBusy(true);
    setError(null);
    try {
      await call((c) => c.acknowledgeAlert(a.id));
      toast("Alert acknowledged.");
      props.onDone();
    } catch (e) {
      setError(toCommandError(e));
      setBusy(false);
    }
  }
  return (
    <li class={`rec rec-${a.severity} alert-row`} data-testid={`alert-row-${a.id}`} data-rule={a.rule} data-severity={a.severity}>
      <Icon name={a.severity === "info" ? "info" : "alert"} />
      <div class="rec-message">
        <div class="strong">
          {ruleLabel(a.rule)} <StatusBadge tone={SEVERITY_TONE[a.severity] ?? "muted"} label={a.severity} />
        </div>
        <div data-testid={`alert-message-${a.id}`}>{a.message}</div>
        <div class="muted small">
          {subject ? `${subject} · ` : ""}
          <span title={formatDate(a.raised_at)}>{relativeTime(a.raised_at)}</span> · <span data-testid={`alert-response-${a.id}`}>{responseLabel(a.response)}</span>
        </div>
        <ErrorNotice error={error} testid={`alert-error-${a.id}`} />
      </div>
      <div class="action-stack">
        {a.response === "suspended_key" ? (
          <button type="button" class="link-button" onClick={() => props.onNavigate("keys")}>
            Review key <Icon name="chevronRight" size={14} />
          </button>
        ) : null}
        <button type="button" class="button button-secondary button-small" data-testid={`ack-alert-${a.id}`} disabled={busy} onClick={acknowledge}>
          Acknowledge
        </button>
      </div>
    </li>
  );
}
