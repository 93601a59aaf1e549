import { useEffect, useRef, useState } from "preact/hooks";
import type { AppStatus, ServerUrlCheck, SessionView } from "../bindings";
import { call, reportFirstScreen } from "../api";
import { Icon } from "../components/Icon";
import { Logo } from "../components/Logo";
import { ErrorNotice, Notice } from "../components/Notice";
import { PasswordMeter, usePasswordStrength } from "../components/PasswordMeter";
import { useRetryAfter } from "../lib/countdown";
import { toCommandError, type CommandError } from "../lib/errors";
import { ForgotPassword } from "./ForgotPassword";

type Mode = "signin" | "signup";

/** First run and every sign-in: server address, sign in or create an account, the 2FA step. */
export function FirstRun(props: {
  status: AppStatus;
  onSignedIn: (s: SessionView) => void;
  onRetry: () => void;
  /** Start on the server address ("Change server" on the can't-reach screen). */
  focusServer?: boolean;
}) {
  const [mode, setMode] = useState<Mode>(props.status.last_email ? "signin" : "signup");
  const [server, setServer] = useState(props.status.server_url);
  const [check, setCheck] = useState<ServerUrlCheck | null>(null);
  const [name, setName] = useState("");
  const [email, setEmail] = useState(props.status.last_email ?? "");
  const [password, setPassword] = useState("");
  const [showPassword, setShowPassword] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [mfaFor, setMfaFor] = useState<string | null>(null);
  const [forgot, setForgot] = useState(false);
  const strength = usePasswordStrength(mode === "signup" ? password : "", email || null);
  // A rate-limited sign-in keeps its button off until the server's Retry-After ends.
  const waiting = useRetryAfter(error) > 0;

  useEffect(() => reportFirstScreen("sign_in"), []);
  useEffect(() => {
    if (props.focusServer) document.getElementById("server-url")?.focus();
  }, [props.focusServer]);

  useEffect(() => {
    let live = true;
    call((c) => c.checkServerUrl(server))
      .then((r) => live && setCheck(r))
      .catch(() => live && setCheck(null));
    return () => {
      live = false;
    };
  }, [server]);

  async function submit(e: Event) {
    e.preventDefault();
    setError(null);
    if (check && !check.ok) return;
    setBusy(true);
    try {
      const outcome =
        mode === "signup"
          ? await call((c) => c.signUp(server, email, password, name || null))
          : await call((c) => c.signIn(server, email, password));
      if (outcome.step === "signed_in") {
        setPassword("");
        props.onSignedIn(outcome.session);
      } else {
        setPassword("");
        setMfaFor(outcome.email);
      }
    } catch (err) {
      setError(toCommandError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <main class="first-run" data-testid="first-run">
      <section class="brand-panel" aria-label="About Keyhold">
        <div class="brand-lockup">
          <Logo size={40} />
          <span class="brand-name">Keyhold</span>
        </div>
        <h2 class="brand-headline">The security vault for your AI agents.</h2>
        <ul class="brand-points">
          <li>
            <Icon name="lock" />
            <span>
              <strong>Encrypted per secret.</strong> Every value has its own key; a copy of the database reveals nothing.
            </span>
          </li>
          <li>
            <Icon name="shieldCheck" />
            <span>
              <strong>Humans in the loop.</strong> Critical secrets open only after people you trust approve.
            </span>
          </li>
          <li>
            <Icon name="list" />
            <span>
              <strong>Nothing goes unrecorded.</strong> Every action lands in a tamper-evident audit log.
            </span>
          </li>
        </ul>
        <p class="brand-foot">Your session stays in the system keyring, never in this window.</p>
      </section>

      <section class="auth-panel">
        <div class="auth-card">
          {forgot ? (
            <ForgotPassword
              serverUrl={server}
              email={email}
              onBack={(typed) => {
                if (typed) setEmail(typed);
                setMode("signin");
                setError(null);
                setForgot(false);
              }}
            />
          ) : mfaFor ? (
            <MfaStep
              email={mfaFor}
              onSignedIn={props.onSignedIn}
              onBack={() => {
                void call((c) => c.cancelMfa()).catch(() => undefined);
                setMfaFor(null);
              }}
            />
          ) : (
            <>
              <h1 class="auth-title">{mode === "signup" ? "Create your vault" : "Welcome back"}</h1>
              <p class="muted auth-sub">
                {mode === "signup"
                  ? "Set up an account on your Keyhold server."
                  : "Sign in to see your security score, keys and approvals."}
              </p>
              <div class="segmented" role="tablist" aria-label="Sign in or create an account">
                <button
                  type="button"
                  role="tab"
                  id="tab-signin"
                  data-testid="mode-signin"
                  aria-selected={mode === "signin"}
                  class={mode === "signin" ? "active" : ""}
                  onClick={() => {
                    setMode("signin");
                    setError(null);
                  }}
                >
                  Sign in
                </button>
                <button
                  type="button"
                  role="tab"
                  id="tab-signup"
                  data-testid="mode-signup"
                  aria-selected={mode === "signup"}
                  class={mode === "signup" ? "active" : ""}
                  onClick={() => {
                    setMode("signup");
                    setError(null);
                  }}
                >
                  Create account
                </button>
              </div>

              {props.status.restore_problem ? (
                <Notice tone={props.status.restore_problem.kind === "offline" ? "warning" : "info"} testid="restore-problem">
                  {props.status.restore_problem.message}{" "}
                  {props.status.restore_problem.kind === "offline" ? (
                    <button type="button" class="link-button" onClick={props.onRetry}>
                      Try again
                    </button>
                  ) : null}
                </Notice>
              ) : null}

              <form class="form" onSubmit={submit} noValidate aria-labelledby={mode === "signup" ? "tab-signup" : "tab-signin"}>
                <div class="field">
                  <label class="field-label" for="server-url">
                    Server
                  </label>
                  <div class={`input-with-icon ${check && !check.ok ? "invalid" : ""}`}>
                    <Icon name="server" />
                    <input
                      id="server-url"
                      data-testid="server-url"
                      type="url"
                      inputMode="url"
                      autocomplete="url"
                      spellcheck={false}
                      value={server}
                      aria-describedby="server-url-hint"
                      aria-invalid={check ? !check.ok : undefined}
                      onInput={(e) => setServer(e.currentTarget.value)}
                    />
                  </div>
                  <p id="server-url-hint" data-testid="server-url-hint" class={`hint ${check && !check.ok ? "hint-error" : ""}`}>
                    {check === null
                      ? "\u00a0"
                      : check.ok
                        ? check.loopback
                          ? "A Keyhold server on this computer."
                          : "Encrypted connection (https)."
                        : check.problem}
                  </p>
                </div>

                {mode === "signup" ? (
                  <div class="field">
                    <label class="field-label" for="display-name">
                      Your name <span class="optional">optional</span>
                    </label>
                    <input
                      id="display-name"
                      data-testid="display-name"
                      type="text"
                      autocomplete="name"
                      value={name}
                      onInput={(e) => setName(e.currentTarget.value)}
                    />
                  </div>
                ) : null}

                <div class="field">
                  <label class="field-label" for="email">
                    Email
                  </label>
                  <input
                    id="email"
                    data-testid="email"
                    type="email"
                    autocomplete="username"
                    spellcheck={false}
                    required
                    value={email}
                    onInput={(e) => setEmail(e.currentTarget.value)}
                  />
                </div>

                <div class="field">
                  <label class="field-label" for="password">
                    Password
                  </label>
                  <div class="input-with-action">
                    <input
                      id="password"
                      data-testid="password"
                      // Preact 11 types each input type apart; this field switches between two.
                      type={(showPassword ? "text" : "password") as "text"}
                      autocomplete={mode === "signup" ? "new-password" : "current-password"}
                      required
                      value={password}
                      aria-describedby={mode === "signup" ? "signup-meter" : undefined}
                      onInput={(e) => setPassword(e.currentTarget.value)}
                    />
                    <button
                      type="button"
                      class="icon-button"
                      aria-label={showPassword ? "Hide password" : "Show password"}
                      aria-pressed={showPassword}
                      onClick={() => setShowPassword(!showPassword)}
                    >
                      <Icon name={showPassword ? "eyeOff" : "eye"} />
                    </button>
                  </div>
                  {mode === "signup" ? <PasswordMeter id="signup-meter" strength={strength} /> : null}
                  {mode === "signin" ? (
                    <button
                      type="button"
                      class="link-button forgot-link"
                      data-testid="forgot-password-link"
                      disabled={check !== null && !check.ok}
                      onClick={() => {
                        setError(null);
                        setPassword("");
                        setForgot(true);
                      }}
                    >
                      Forgot password?
                    </button>
                  ) : null}
                </div>

                <ErrorNotice error={error} testid="auth-error" />

                <button
                  type="submit"
                  class="button button-primary button-block"
                  data-testid="submit-auth"
                  disabled={busy || waiting || (check !== null && !check.ok)}
                >
                  {busy ? <span class="spinner" aria-hidden="true" /> : null}
                  {mode === "signup" ? "Create account" : "Sign in"}
                </button>
              </form>
            </>
          )}
        </div>
        <p class="auth-foot muted">
          <Icon name="lock" size={14} /> Plain http:// is accepted only for a server on this computer.
        </p>
      </section>
    </main>
  );
}

function MfaStep(props: { email: string; onSignedIn: (s: SessionView) => void; onBack: () => void }) {
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const waiting = useRetryAfter(error) > 0;
  useEffect(() => input.current?.focus(), []);

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const outcome = await call((c) => c.signInMfa(code));
      if (outcome.step === "signed_in") props.onSignedIn(outcome.session);
    } catch (err) {
      const ce = toCommandError(err);
      if (ce.kind === "signed_out") props.onBack();
      setError(ce);
      setCode("");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div data-testid="mfa-step">
      <div class="step-icon">
        <Icon name="smartphone" size={26} />
      </div>
      <h1 class="auth-title">Two-factor check</h1>
      <p class="muted auth-sub">
        Enter the 6-digit code from your authenticator app for <strong>{props.email}</strong>, or one of your backup codes.
      </p>
      <form class="form" onSubmit={submit} noValidate>
        <div class="field">
          <label class="field-label" for="mfa-code">
            Code
          </label>
          <input
            ref={input}
            id="mfa-code"
            data-testid="mfa-code"
            class="code-input"
            type="text"
            inputMode="numeric"
            autocomplete="one-time-code"
            spellcheck={false}
            maxLength={24}
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </div>
        <ErrorNotice error={error} testid="mfa-error" />
        <button type="submit" class="button button-primary button-block" data-testid="submit-mfa" disabled={busy || waiting || !code.trim()}>
          {busy ? <span class="spinner" aria-hidden="true" /> : null}
          Verify and sign in
        </button>
        <button type="button" class="button button-ghost button-block" data-testid="mfa-cancel" onClick={props.onBack}>
          Use a different account
        </button>
      </form>
    </div>
  );
}
