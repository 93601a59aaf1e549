import { useEffect, useState } from "preact/hooks";
import type { AppStatus, SessionView } from "./bindings";
import { call, onOffline, onSignedOut } from "./api";
import { AccountMenu } from "./components/AccountMenu";
import { Icon, type IconName } from "./components/Icon";
import { Logo } from "./components/Logo";
import { ReauthHost } from "./components/ReauthDialog";
import { Toasts } from "./components/Toasts";
import { ErrorNotice } from "./components/Notice";
import { toCommandError, type CommandError } from "./lib/errors";
import { pendingCount } from "./lib/approvals";
import { applyTheme, loadTheme, type ThemeChoice } from "./lib/theme";
import { installTabKeys } from "./lib/tabKeys";
import { useFocusHeadingOnChange } from "./lib/focus";
import { seesAlerts, useAlertFeed } from "./lib/useAlertFeed";
import { useApprovalFeed } from "./lib/useApprovalFeed";
import { applyBackground, loadBackground } from "./lib/background";
import { ApprovalsPage } from "./screens/ApprovalsPage";
import { AuditPage } from "./screens/AuditPage";
import { FirstRun } from "./screens/FirstRun";
import { KeysPage } from "./screens/KeysPage";
import { SecretsPage } from "./screens/SecretsPage";
import { SettingsPage } from "./screens/SettingsPage";
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
  const [status, setStatus] = useState<AppStatus | null>(null);
  const [bootError, setBootError] = useState<CommandError | null>(null);
  const [session, setSession] = useState<SessionView | null>(null);
  const [page, setPage] = useState<Page>("vault");
  const [theme, setTheme] = useState<ThemeChoice>(loadTheme());
  const [offline, setOffline] = useState(false);
  // The agent key a recommendation or an alert points at, opened in the keys page.
  const [_focusKey, setFocusKey] = useState<string | null>(null);
  function openKey(id: string) {
    setFocusKey(id);
    setPage("keys");
  }
  // Bumped when the server comes back, to reload the page that failed.
  const [generation, setGeneration] = useState(0);

  useEffect(() => applyTheme(theme), [theme]);
  useEffect(() => installTabKeys(document), []);
  useFocusHeadingOnChange(page, () => document.getElementById("main"));

  function boot() {
    call((c) => c.sessionStatus())
      .then((s) => {
        setStatus(s);
        setSession(s.session);
      })
      .catch((e) => setBootError(toCommandError(e)));
  }
  useEffect(boot, []);

  useEffect(
    () =>
      onSignedOut((e) => {
        setSession(null);
        setStatus((s) => (s ? { ...s, session: null, restore_problem: e } : s));
      }),
    [],
  );

  useEffect(() => onOffline(() => setOffline(true)), []);

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

  // While offline, ask every few seconds; when the server answers, reload the page.
  useEffect(() => {
    if (!offline || !session) return;
    const t = setInterval(() => {
      call((c) => c.serverHealth(session.server_url))
        .then(() => {
          setOffline(false);
          setGeneration((g) => g + 1);
        })
        .catch(() => undefined);
    }, 3000);
    return () => clearInterval(t);
  }, [offline, session]);

  if (bootError) {
    return (
      <main class="boot">
        <ErrorNotice error={bootError} />
      </main>
    );
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
        onRetry={boot}
        onSignedIn={(s) => {
          setSession(s);
          setPage("vault");
        }}
      />
    );
  }

  async function signOut() {
    try {
      const s = await call((c) => c.signOut());
      setStatus(s);
    } catch {
      // Signing out never fails locally; keep the last status.
    }
    setSession(null);
  }

  return (
    <div class="shell">
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
          onSignOut={signOut}
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
              onClick={() => setPage(n.page)}
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
        <main class="content" id="main" tabIndex={-1} key={`${page}-${generation}`}>
          {offline ? (
            <div class="offline-banner" role="alert" data-testid="offline-banner">
              <Icon name="wifiOff" />
              <span>
                Cannot reach the Keyhold server at <strong>{session.server_url}</strong>. Your data is safe; retrying every few seconds…
              </span>
              <button
                type="button"
                class="button button-secondary button-small"
                onClick={() => {
                  setOffline(false);
                  setGeneration((g) => g + 1);
                }}
              >
                Retry now
              </button>
            </div>
          ) : null}
          {page === "vault" ? <VaultPage session={session} onNavigate={setPage} onOpenKey={openKey} alerts={seesAlerts(session) ? alerts : null} /> : null}
          {page === "secrets" ? <SecretsPage /> : null}
          {page === "keys" ? <KeysPage session={session} changes={alerts.changes} /> : null}
          {page === "approvals" ? <ApprovalsPage myId={session.user.id} feed={feed} openId={openApproval} /> : null}
          {page === "settings" ? <SettingsPage session={session} /> : null}
          {page === "audit" ? <AuditPage myId={session.user.id} /> : null}
        </main>
      </div>
      <ReauthHost />
      <Toasts />
    </div>
  );
}
