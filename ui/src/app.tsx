import { useEffect, useState } from "preact/hooks";
import { AccountMenu } from "./components/AccountMenu";
import { ConnectScreen } from "./components/ConnectScreen";
import { Icon, type IconName } from "./components/Icon";
import { LockScreen } from "./components/LockScreen";
import { Logo } from "./components/Logo";
import { ReauthHost } from "./components/ReauthDialog";
import { SessionExpiredDialog } from "./components/SessionExpiredDialog";
import { Toasts } from "./components/Toasts";
import { ErrorNotice } from "./components/Notice";
import { pendingCount } from "./lib/approvals";
import { useIdle, useLockSecs } from "./lib/autolock";
import { applyTheme, loadTheme, type ThemeChoice } from "./lib/theme";
import { installTabKeys } from "./lib/tabKeys";
import { useFocusHeadingOnChange } from "./lib/focus";
import { seesAlerts, useAlertFeed } from "./lib/useAlertFeed";
import { useApprovalFeed } from "./lib/useApprovalFeed";
import type { KeyFocus } from "./lib/keys";
import { applyBackground, loadBackground } from "./lib/background";
import { useOffline } from "./lib/useOffline";
import { useSessionFlow } from "./lib/useSessionFlow";
import { ApprovalsPage } from "./screens/ApprovalsPage";
import { AuditPage } from "./screens/AuditPage";
import { FirstRun } from "./screens/FirstRun";
import { KeysPage } from "./screens/KeysPage";
import { SecretsPage } from "./screens/SecretsPage";
import { SettingsPage, type SettingsTab } from "./screens/SettingsPage";
import { VaultPage } from "./screens/VaultPage";

export type Page = "vault" | "secrets" | "keys" | "approvals" | "settings" | "audit";

const NAV: { page: Page; label: string; icon: IconName }[] = [
  { page: "vault", label: "Security Vault", icon: "shieldCheck" },
  { page: "secrets", label: "Secrets", icon: "lock" },
  { page: "keys", label: "Agent keys", icon: "key" },
  { page: "approvals", label: "Approvals", icon: "inbox" },
  { page: "audit", label: "Audit log", icon: "list" },
  { page: "settings", label: "Settings", icon: "settings" },
];

export function App() {
  const flow = useSessionFlow();
  const { status, session } = flow;
  const [page, setPage] = useState<Page>("vault");
  const [settingsTab, setSettingsTab] = useState<SettingsTab | undefined>(undefined);
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme());
  const { offline, generation, reload } = useOffline(session);
  // The agent key a recommendation points at, opened in the keys page with its dialog.
  const [focusKey, setFocusKey] = useState<KeyFocus | null>(null);
  function openKey(f: KeyFocus) {
    setFocusKey(f);
    setPage("keys");
  }

  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => installTabKeys(document), []);
  useFocusHeadingOnChange(page, () => document.getElementById("main"));

  // The inbox and its badge, kept live by the server's feed while signed in.
  const feed = useApprovalFeed(session, generation);
  const pending = feed.pending && session ? pendingCount(feed.pending, session.user.id) : 0;
  // The team's open alerts (owners and admins), live; their count badges the Vault.
  const alerts = useAlertFeed(session, generation);
  const openAlerts = alerts.open?.length ?? 0;

  // A click on a request's notification (the window was brought back by the app): show it.
  const [openApproval, setOpenApproval] = useState<string | null>(null);
  useEffect(() => {
    if (!feed.opened) return;
    setOpenApproval(feed.opened.id);
    setPage("approvals");
  }, [feed.opened]);

  // Tell the app whether closing the window keeps it in the tray (this device's choice).
  useEffect(() => {
    if (session) applyBackground(loadBackground(session.role), false).catch(() => undefined);
  }, [session]);

  // Auto-lock after the chosen idle time, while signed in and nothing else covers the screen.
  const lockSecs = useLockSecs();
  useIdle(lockSecs, Boolean(session) && !flow.lock && !flow.expired, flow.lockNow);

  if (flow.bootError) {
    return (
      <main class="boot">
        <ErrorNotice error={flow.bootError} />
        <button type="button" class="button button-primary" onClick={() => void flow.boot()}>
          Try again
        </button>
      </main>
    );
  }
  if (flow.unreachable) {
    return <ConnectScreen server={flow.unreachable} onRetry={flow.boot} onChangeServer={flow.changeServer} />;
  }
  if (!status) {
    return (
      <main class="boot" aria-busy="true">
        <Logo size={48} />
        <span class="spinner spinner-lg" aria-label="Loading" />
      </main>
    );
  }
  if (!session) {
    return (
      <FirstRun
        status={status}
        focusServer={flow.focusServer}
        onRetry={() => void flow.boot()}
        onSignedIn={(s) => {
          flow.signedIn(s);
          setPage("vault");
        }}
      />
    );
  }

  const signOut = flow.signOut;
  // While locked or signing in again, the screen stays mounted (drafts kept) but inert;
  // locked, it is hidden as well.
  const covered = Boolean(flow.lock) || flow.expired;

  return (
    <>
    <div class="shell" inert={covered} hidden={Boolean(flow.lock)} data-testid="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar" data-testid="topbar">
        <div class="topbar-brand">
          <Logo size={26} />
          <span class="brand-name">Keyhold</span>
        </div>
        <div class="topbar-spacer" />
        <span class={`server-pill ${offline ? "server-pill-offline" : ""}`} title={offline ? "Server unreachable" : "Connected server"}>
          <span class="dot" aria-hidden="true" />
          {session.server_url.replace(/^https?:\/\//u, "")}
        </span>
        <AccountMenu
          session={session}
          theme={theme}
          onTheme={setTheme}
          onSecurityVault={() => setPage("vault")}
          onSessions={() => {
            setSettingsTab("sessions");
            setPage("settings");
          }}
          onSignOut={() => void signOut()}
        />
      </header>
      <div class="shell-body">
        <nav class="sidebar" aria-label="Main">
          {NAV.map((n) => (
            <button
              key={n.page}
              type="button"
              class={`nav-item ${page === n.page ? "active" : ""}`}
              aria-current={page === n.page ? "page" : undefined}
              data-testid={`nav-${n.page}`}
              onClick={() => {
                setSettingsTab(undefined);
                setPage(n.page);
              }}
            >
              <Icon name={n.icon} />
              <span>{n.label}</span>
              {n.page === "approvals" && pending ? (
                <span class="nav-badge" data-testid="approvals-badge" aria-label={`${pending} waiting on you`}>
                  {pending}
                </span>
              ) : null}
              {n.page === "vault" && openAlerts ? (
                <span class="nav-badge" data-testid="alerts-badge" aria-label={`${openAlerts} open alerts`}>
                  {openAlerts}
                </span>
              ) : null}
            </button>
          ))}
          <div class="sidebar-foot muted" data-testid="keyring-status">
            <Icon name={status.keyring === "memory_only" ? "alert" : "lock"} size={14} />
            <span>
              {status.keyring === "secret_service"
                ? "Session held in the system keyring"
                : status.keyring === "kernel_keyutils"
                  ? "Session held in the kernel keyring"
                  : "No keyring found: you will sign in again next time"}
            </span>
          </div>
        </nav>
        <main class="content" id="main" tabIndex={-1} key={`${page}-${generation}-${settingsTab ?? ""}`}>
          {offline ? (
            <div class="offline-banner" role="alert" data-testid="offline-banner">
              <Icon name="wifiOff" />
              <span>
                Cannot reach the Keyhold server at <strong>{session.server_url}</strong>. Your data is safe; retrying every few seconds…
              </span>
              <button
                type="button"
                class="button button-secondary button-small"
                onClick={reload}
              >
                Retry now
              </button>
            </div>
          ) : null}
          {page === "vault" ? <VaultPage session={session} onNavigate={setPage} onOpenKey={openKey} alerts={seesAlerts(session) ? alerts : null} /> : null}
          {page === "secrets" ? <SecretsPage /> : null}
          {page === "keys" ? <KeysPage session={session} changes={alerts.changes} focus={focusKey} onFocusDone={() => setFocusKey(null)} /> : null}
          {page === "approvals" ? <ApprovalsPage myId={session.user.id} feed={feed} openId={openApproval} /> : null}
          {page === "settings" ? <SettingsPage session={session} initialTab={settingsTab} /> : null}
          {page === "audit" ? <AuditPage myId={session.user.id} /> : null}
        </main>
      </div>
      <ReauthHost />
      <Toasts />
    </div>
    {flow.expired ? (
      <SessionExpiredDialog
        session={session}
        onSignOut={() => void signOut()}
        onSignedIn={(s) => {
          // Another account: nothing of the previous person's screen may show.
          if (!flow.signedInAgain(s)) {
            setSettingsTab(undefined);
            setPage("vault");
            reload();
          }
        }}
      />
    ) : flow.lock ? (
      <LockScreen lock={flow.lock} session={session} onUnlocked={flow.unlocked} onSignOut={() => void signOut()} />
    ) : null}
    </>
  );
}
