import { useEffect, useState } from "preact/hooks";
import type { FactorView, SecurityOverview, SessionView } from "../bindings";
import type { Page } from "../app";
import { call, reportFirstScreen } from "../api";
import { Icon, type IconName } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { ScoreRing } from "../components/ScoreRing";
import { toCommandError, type CommandError } from "../lib/errors";
import { statusTone, statusWord } from "../lib/format";
import type { AlertFeed } from "../lib/useAlertFeed";
import { useCommand } from "../lib/useCommand";
import { AlertsPanel } from "./AlertsPanel";
import { BlocksPanel } from "./BlocksPanel";
import { Recommendation, type VaultDialog } from "./Recommendations";
import type { KeyFocus } from "../lib/keys";
import { toast } from "../lib/toast";
import { ChangePasswordDialog } from "./ChangePasswordDialog";
import { MfaEnrollDialog, MfaManageDialog } from "./MfaDialogs";
import { StatusBadge } from "../components/StatusBadge";

type FactorId = "email_verified" | "mfa" | "password_strength";

const FACTORS: { id: FactorId; title: string; icon: IconName; testid: string }[] = [
  { id: "email_verified", title: "Email", icon: "mail", testid: "factor-email" },
  { id: "mfa", title: "Two-factor authentication", icon: "smartphone", testid: "factor-mfa" },
  { id: "password_strength", title: "Password", icon: "lock", testid: "factor-password" },
];

function summary(o: SecurityOverview): string {
  const on = o.factors.filter((f) => f.ok).length;
  if (on === o.factors.length) return "Every protection is on. Keep an eye on the recommendations below.";
  const left = o.factors.length - on;
  return `${on} of ${o.factors.length} protections are on. Fix the ${left === 1 ? "one" : left} below to reach Protected.`;
}

/** `alerts`: the team's live alerts, for owners and admins (null for everyone else). */
export function VaultPage(props: { session: SessionView; onNavigate: (p: Page) => void; onOpenKey: (focus: KeyFocus) => void; alerts: AlertFeed | null }) {
  // A new alert, an acknowledgement or a suspension moves the score: reload it with them.
  const overview = useCommand((c) => c.securityOverview(), [props.alerts?.changes ?? 0]);
  const [dialog, setDialog] = useState<null | "mfa-enroll" | "mfa-manage" | "password">(null);
  const [emailSent, setEmailSent] = useState(false);
  const o = overview.data;
  // "Verify email" from a recommendation sends the link at once, as the factor's button does.
  function openDialog(d: VaultDialog) {
    if (d !== "verify-email") return setDialog(d);
    call((c) => c.requestEmailVerification())
      .then(() => {
        setEmailSent(true);
        toast("Verification link sent: open it from your inbox.");
      })
      .catch(() => document.querySelector<HTMLElement>('[data-testid="verify-email-button"]')?.focus());
  }

  // After "Verify email", poll until the server sees the link was opened.
  useEffect(() => {
    if (!emailSent || o?.email_verified) return;
    const t = setInterval(overview.reload, 4000);
    return () => clearInterval(t);
  }, [emailSent, o?.email_verified]);

  // Effects run after the frame is painted: the dashboard is on screen with its data.
  const loaded = o !== null;
  useEffect(() => {
    if (loaded) reportFirstScreen("security_vault");
  }, [loaded]);

  const factor = (id: FactorId): FactorView | null => o?.factors.find((f) => f.id === id) ?? null;

  return (
    <div class="page" data-testid="vault-page">
      <header class="page-header">
        <div>
          <h1>Security Vault</h1>
          <p class="muted">How well your account and your agents' keys are protected, and what to fix next.</p>
        </div>
        <button type="button" class="button button-secondary" onClick={overview.reload} disabled={overview.loading}>
          <Icon name="refresh" />
          Refresh
        </button>
      </header>

      <section class="card score-card" aria-labelledby="score-title">
        {o ? (
          <ScoreRing score={o.score} status={o.status} />
        ) : (
          <div class="score-ring tone-none" data-testid="score-ring" role="img" aria-label="Security score unknown">
            <svg width="148" height="148" viewBox="0 0 148 148" aria-hidden="true">
              <circle class="ring-track" cx="74" cy="74" r="68" stroke-width="12" fill="none" />
            </svg>
            <div class="ring-label">
              <span class="ring-score" data-testid="score-value">
                –
              </span>
              <span class="ring-of">of 100</span>
            </div>
          </div>
        )}
        <div class="score-text">
          <p class="eyebrow" id="score-title">
            Security score
          </p>
          {o ? (
            <>
              <p class={`score-status tone-${statusTone(o.status)}`} data-testid="score-status" data-status={o.status}>
                {statusWord(o.status)}
              </p>
              <p class="muted">{summary(o)}</p>
            </>
          ) : overview.loading ? (
            <p class="muted">Checking your protections…</p>
          ) : (
            <>
              <p class="score-status tone-none" data-testid="score-status" data-status="unknown">
                Unknown
              </p>
              <ErrorNotice error={overview.error} testid="score-error" />
            </>
          )}
        </div>
      </section>

      {/* Right under the score, which an open critical alert lowers. */}
      {props.alerts ? <AlertsPanel feed={props.alerts} onNavigate={props.onNavigate} /> : null}

      <section class="card" aria-labelledby="factors-title">
        <h2 class="card-title" id="factors-title">
          Protections
        </h2>
        <ul class="factor-list">
          {FACTORS.map((f) => {
            const state = factor(f.id);
            return (
              <li key={f.id} class="factor" data-testid={f.testid} data-ok={state ? String(state.ok) : "unknown"}>
                <span class={`factor-icon ${state ? (state.ok ? "ok" : "bad") : ""}`}>
                  <Icon name={f.icon} size={20} />
                </span>
                <div class="factor-main">
                  <div class="factor-title">
                    {f.title}
                    {state ? (
                      <StatusBadge tone={state.ok ? "good" : "bad"} label={state.ok ? "On" : "Needs attention"} />
                    ) : (
                      <StatusBadge tone="muted" label="Unknown" />
                    )}
                  </div>
                  <p class="factor-detail muted">{state?.detail ?? FACTOR_HELP[f.id]}</p>
                  {f.id === "email_verified" && emailSent && !o?.email_verified ? (
                    <Notice tone="info" testid="email-sent">
                      We sent a link to <strong>{o?.email ?? props.session.user.email}</strong>. Open it to verify your address —
                      check spam if it has not arrived in a few minutes. This row updates by itself.
                    </Notice>
                  ) : null}
                </div>
                <div class="factor-action">
                  <FactorAction
                    id={f.id}
                    ok={state?.ok ?? null}
                    emailSent={emailSent}
                    onEmailSent={() => setEmailSent(true)}
                    onOpen={(d) => setDialog(d)}
                  />
                </div>
              </li>
            );
          })}
        </ul>
      </section>

      <section class="card" aria-labelledby="recs-title" data-testid="recommendations">
        <h2 class="card-title" id="recs-title">
          Recommendations
        </h2>
        {o && o.recommendations.length === 0 ? (
          <p class="empty">
            <Icon name="sparkles" /> Nothing to do right now.
          </p>
        ) : o ? (
          <ul class="rec-list">
            {o.recommendations.map((r) => (
              <Recommendation key={r.id} rec={r} onNavigate={props.onNavigate} onOpenKey={props.onOpenKey} onOpen={openDialog} />
            ))}
          </ul>
        ) : (
          <p class="muted">Recommendations appear here once the score is available.</p>
        )}
      </section>

      {props.alerts ? <BlocksPanel changes={props.alerts.changes} /> : null}

      {dialog === "mfa-enroll" ? (
        <MfaEnrollDialog
          account={props.session.user.email}
          onClose={() => {
            setDialog(null);
            overview.reload();
          }}
        />
      ) : null}
      {dialog === "mfa-manage" ? (
        <MfaManageDialog
          account={props.session.user.email}
          onClose={() => {
            setDialog(null);
            overview.reload();
          }}
        />
      ) : null}
      {dialog === "password" ? (
        <ChangePasswordDialog
          email={props.session.user.email}
          onClose={(changed) => {
            setDialog(null);
            if (changed) overview.reload();
          }}
        />
      ) : null}
    </div>
  );
}

const FACTOR_HELP: Record<FactorId, string> = {
  email_verified: "A verified address lets Keyhold reach you about your account.",
  mfa: "A code from an authenticator app, on top of your password.",
  password_strength: "A long password that is hard to guess.",
};

function FactorAction(props: {
  id: FactorId;
  ok: boolean | null;
  emailSent: boolean;
  onEmailSent: () => void;
  onOpen: (d: "mfa-enroll" | "mfa-manage" | "password") => void;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  if (props.id === "email_verified") {
    if (props.ok) return <span class="done"><Icon name="check" /> Verified</span>;
    return (
      <div class="action-stack">
        <button
          type="button"
          class="button button-primary"
          data-testid="verify-email-button"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            setError(null);
            try {
              await call((c) => c.requestEmailVerification());
              props.onEmailSent();
            } catch (e) {
              setError(toCommandError(e));
            } finally {
              setBusy(false);
            }
          }}
        >
          {props.emailSent ? "Send again" : "Verify email"}
        </button>
        <ErrorNotice error={error} testid="verify-email-error" />
      </div>
    );
  }
  if (props.id === "mfa") {
    return props.ok ? (
      <button type="button" class="button button-secondary" data-testid="manage-mfa-button" onClick={() => props.onOpen("mfa-manage")}>
        Manage
      </button>
    ) : (
      <button type="button" class="button button-primary" data-testid="enroll-mfa-button" onClick={() => props.onOpen("mfa-enroll")}>
        Set up 2FA
      </button>
    );
  }
  return (
    <button
      type="button"
      class={`button ${props.ok ? "button-secondary" : "button-primary"}`}
      data-testid="change-password-button"
      onClick={() => props.onOpen("password")}
    >
      Change password
    </button>
  );
}
