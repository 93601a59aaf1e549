import { useEffect, useState } from "preact/hooks";
import type { NotificationPrefsView, SessionView, TenantSettingsView } from "../bindings";
import { call } from "../api";
import { Icon, type IconName } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { DURATION_UNITS, joinDuration, splitDuration, type DurationUnit } from "../lib/settings";
import { useCommand } from "../lib/useCommand";
import { SessionsPanel } from "./SessionsPanel";
import { TeamPage } from "./TeamPage";
import { WebhooksPanel } from "./WebhooksPanel";
import { BackgroundMode } from "./BackgroundMode";

export type SettingsTab = "team" | "policy" | "webhooks" | "notifications" | "sessions";

const TABS: { tab: SettingsTab; label: string; icon: IconName }[] = [
  { tab: "team", label: "Team", icon: "user" },
  { tab: "policy", label: "Approval policy", icon: "shieldCheck" },
  { tab: "webhooks", label: "Webhooks", icon: "send" },
  { tab: "notifications", label: "Notifications", icon: "bell" },
  { tab: "sessions", label: "Sessions and lock", icon: "monitor" },
];

/** Whether the role may change the team's settings (the server decides; this only shapes the page). */
export function managesTeam(role: string | null | undefined): boolean {
  return role === "owner" || role === "admin";
}

/** Settings: the team, the approval policy, webhooks, the person's own notifications, sessions and auto-lock. */
export function SettingsPage(props: { session: SessionView; initialTab?: SettingsTab }) {
  const [tab, setTab] = useState<SettingsTab>(props.initialTab ?? "team");
  const manages = managesTeam(props.session.role);
  return (
    <div class="page" data-testid="settings-page">
      <header class="page-header">
        <div>
          <h1>Settings</h1>
          <p class="muted">Who is on your team, what a secret needs before it opens, and who hears about it.</p>
        </div>
      </header>
      <div class="tabs" role="tablist" aria-label="Settings">
        {TABS.map((t) => (
          <button
            key={t.tab}
            type="button"
            role="tab"
            id={`settings-tab-${t.tab}`}
            data-testid={`settings-tab-${t.tab}`}
            aria-selected={tab === t.tab}
            aria-controls="settings-panel"
            class={tab === t.tab ? "active" : ""}
            onClick={() => setTab(t.tab)}
          >
            <Icon name={t.icon} size={16} />
            {t.label}
          </button>
        ))}
      </div>
      <div id="settings-panel" role="tabpanel" aria-labelledby={`settings-tab-${tab}`}>
        {tab === "team" ? <TeamPage myId={props.session.user.id} canManage={manages} /> : null}
        {tab === "policy" ? <ApprovalPolicy canManage={manages} /> : null}
        {tab === "webhooks" ? <WebhooksPanel /> : null}
        {tab === "notifications" ? (
          <>
            <Notifications />
            <BackgroundMode role={props.session.role} />
          </>
        ) : null}
        {tab === "sessions" ? <SessionsPanel /> : null}
      </div>
    </div>
  );
}

function DurationField(props: { id: string; label: string; hint: string; value: string; onChange: (v: string) => void; disabled: boolean; allowZero?: boolean }) {
  const parts = splitDuration(props.value);
  return (
    <div class="field">
      <label class="field-label" for={props.id}>
        {props.label}
      </label>
      <div class="duration-input">
        <input
          id={props.id}
          data-testid={props.id}
          type="number"
          min={props.allowZero ? 0 : 1}
          step={1}
          value={parts.amount}
          disabled={props.disabled}
          onInput={(e) => props.onChange(joinDuration(e.currentTarget.value, parts.unit))}
        />
        <select
          aria-label={`${props.label}: unit`}
          data-testid={`${props.id}-unit`}
          value={parts.unit}
          disabled={props.disabled}
          onChange={(e) => props.onChange(joinDuration(parts.amount, e.currentTarget.value as DurationUnit))}
        >
          {DURATION_UNITS.map((u) => (
            <option key={u.unit} value={u.unit}>
              {u.label}
            </option>
          ))}
        </select>
      </div>
      <p class="hint">{props.hint}</p>
    </div>
  );
}

function CountField(props: { id: string; label: string; hint: string; min: number; value: number; onChange: (v: number) => void; disabled: boolean }) {
  return (
    <div class="field">
      <label class="field-label" for={props.id}>
        {props.label}
      </label>
      <input
        id={props.id}
        data-testid={props.id}
        type="number"
        min={props.min}
        max={100}
        step={1}
        value={String(props.value)}
        disabled={props.disabled}
        onInput={(e) => props.onChange(Number.parseInt(e.currentTarget.value, 10))}
      />
      <p class="hint">{props.hint}</p>
    </div>
  );
}

/** The approval policy: how many approvals each tier needs, the critical delay, lifetimes. Saved through the sudo prompt. */
export function ApprovalPolicy(props: { canManage: boolean }) {
  const loaded = useCommand((c) => c.tenantSettings());
  const [form, setForm] = useState<TenantSettingsView | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  useEffect(() => {
    if (loaded.data) setForm(loaded.data);
  }, [loaded.data]);

  if (!form) {
    return loaded.error ? <ErrorNotice error={loaded.error} testid="policy-error" /> : <p class="muted">Loading the approval policy…</p>;
  }
  const set = (change: Partial<TenantSettingsView>) => {
    setForm({ ...form, ...change });
    setSaved(false);
  };
  const dirty = JSON.stringify(form) !== JSON.stringify(loaded.data);
  const bad = !Number.isInteger(form.sensitive) || form.sensitive < 1 || !Number.isInteger(form.critical) || form.critical < 2;
  const ro = !props.canManage || busy;
  return (
    <>
    <form
      class="card settings-form"
      data-testid="policy-form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        if (bad || !dirty) return;
        setBusy(true);
        setError(null);
        try {
          const kept = await call((c) => c.saveTenantSettings(form));
          setForm(kept);
          loaded.reload();
          setSaved(true);
        } catch (err) {
          setError(toCommandError(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      {props.canManage ? null : (
        <Notice tone="info" testid="policy-read-only">
          Only owners and admins change the approval policy.
        </Notice>
      )}
      <h2 class="section-title">Approvals needed</h2>
      <div class="field-row">
        <CountField id="policy-sensitive" label="Sensitive secrets" hint="At least 1 person other than the one asking." min={1} value={form.sensitive} onChange={(n) => set({ sensitive: n })} disabled={ro} />
        <CountField id="policy-critical" label="Critical secrets" hint="At least 2, each with a code from their authenticator." min={2} value={form.critical} onChange={(n) => set({ critical: n })} disabled={ro} />
      </div>
      <h2 class="section-title">Timing</h2>
      <div class="field-row">
        <DurationField id="policy-critical-delay" label="Delay before a critical read" hint="After the last approval; anyone may still deny. 0 for none." allowZero value={form.critical_delay} onChange={(v) => set({ critical_delay: v })} disabled={ro} />
        <DurationField id="policy-request-ttl" label="Requests stay open for" hint="Then they expire unanswered." value={form.request_ttl} onChange={(v) => set({ request_ttl: v })} disabled={ro} />
      </div>
      <div class="field-row">
        <DurationField id="policy-grant-ttl" label="An approval may be used within" hint="One read, within this time." value={form.grant_ttl} onChange={(v) => set({ grant_ttl: v })} disabled={ro} />
        <DurationField id="policy-max-token-ttl" label="Longest token lifetime" hint="Scoped tokens agents issue live at most this long." value={form.max_token_ttl} onChange={(v) => set({ max_token_ttl: v })} disabled={ro} />
      </div>
      {bad ? (
        <p class="hint hint-error" data-testid="policy-invalid">
          Sensitive secrets need at least 1 approval, critical ones at least 2.
        </p>
      ) : null}
      <ErrorNotice error={error} testid="policy-save-error" />
      {saved ? (
        <Notice tone="success" testid="policy-saved">
          Saved. Owners and admins were told by mail.
        </Notice>
      ) : null}
      {props.canManage ? (
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" disabled={!dirty || busy} onClick={() => loaded.data && setForm(loaded.data)}>
            Undo changes
          </button>
          <button type="submit" class="button button-primary" data-testid="policy-save" disabled={!dirty || bad || busy}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Save policy
          </button>
        </div>
      ) : null}
    </form>
    {/* Outside the form: the prompt's own submit must not bubble into this one. */}
    </>
  );
}

/** The person's own notifications: approval mail on or off, saved as it is switched. */
export function Notifications() {
  const loaded = useCommand((c) => c.notificationPrefs());
  const [prefs, setPrefs] = useState<NotificationPrefsView | null>(null);
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  useEffect(() => {
    if (loaded.data) setPrefs(loaded.data);
  }, [loaded.data]);
  if (!prefs) {
    return loaded.error ? <ErrorNotice error={loaded.error} testid="notifications-error" /> : <p class="muted">Loading your notifications…</p>;
  }
  return (
    <section class="card" data-testid="notifications-panel" aria-labelledby="notifications-title">
      <h2 class="card-title" id="notifications-title">
        <Icon name="mail" />
        Mail
      </h2>
      <label class="checkbox">
        <input
          type="checkbox"
          data-testid="notifications-approval-mail"
          checked={prefs.approval_mail}
          disabled={busy}
          onChange={async (e) => {
            const next = { approval_mail: e.currentTarget.checked };
            setBusy(true);
            setSaved(false);
            setError(null);
            try {
              setPrefs(await call((c) => c.saveNotificationPrefs(next)));
              setSaved(true);
            } catch (err) {
              setError(toCommandError(err));
              setPrefs({ ...prefs });
            } finally {
              setBusy(false);
            }
          }}
        />
        <span>Mail me when an approval request I may decide opens, and when one of mine is decided</span>
      </label>
      <p class="hint">Mail about your account's security (a new password, 2FA turned off) always comes: it cannot be turned off.</p>
      <ErrorNotice error={error} testid="notifications-save-error" />
      {saved ? (
        <p class="hint" role="status" data-testid="notifications-saved">
          {prefs.approval_mail ? "Approval mail is on." : "Approval mail is off."}
        </p>
      ) : null}
    </section>
  );
}
