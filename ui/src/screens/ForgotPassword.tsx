import { useEffect, useRef, useState } from "preact/hooks";
import { call } from "../api";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { PasswordMeter, usePasswordStrength } from "../components/PasswordMeter";
import { toCommandError, type CommandError } from "../lib/errors";

type Step = "ask" | "reset" | "done";

/**
 * "Forgot password?": ask for a reset link by mail, then paste the link (or its code) with
 * a new password and, when the account has 2FA on, a code from the authenticator or a
 * backup code. The server answers the same whether or not the address has an account, and
 * so does this screen.
 */
export function ForgotPassword(props: { serverUrl: string; email: string; onBack: (email: string) => void }) {
  const [step, setStep] = useState<Step>("ask");
  const [email, setEmail] = useState(props.email);
  const [token, setToken] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [needsCode, setNeedsCode] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const strength = usePasswordStrength(step === "reset" ? password : "", email || null);
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), [step]);

  async function ask(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call((c) => c.requestPasswordReset(props.serverUrl, email.trim()));
      setStep("reset");
    } catch (err) {
      setError(toCommandError(err));
    } finally {
      setBusy(false);
    }
  }

  async function reset(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await call((c) => c.resetPassword(props.serverUrl, token, password, needsCode ? code : null));
      setPassword("");
      setToken("");
      setCode("");
      setStep("done");
    } catch (err) {
      const ce = toCommandError(err);
      if (ce.kind === "mfa_required") {
        // 2FA is on: ask for a code; say what went wrong only once one was given.
        if (needsCode && code.trim()) setError(ce);
        setNeedsCode(true);
        setCode("");
      } else {
        setError(ce);
      }
    } finally {
      setBusy(false);
    }
  }

  return (
    <div data-testid="forgot-password">
      <div class="step-icon">
        <Icon name={step === "done" ? "checkCircle" : "mail"} size={26} />
      </div>
      {step === "ask" ? (
        <>
          <h1 class="auth-title">Reset your password</h1>
          <p class="muted auth-sub">We mail a link to reset it. It works once, for one hour.</p>
          <form class="form" onSubmit={ask} noValidate>
            <div class="field">
              <label class="field-label" for="reset-email">
                Email
              </label>
              <input ref={first} id="reset-email" data-testid="reset-email" type="email" autocomplete="username" spellcheck={false} value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
            </div>
            <ErrorNotice error={error} testid="reset-error" />
            <button type="submit" class="button button-primary button-block" data-testid="reset-request" disabled={busy || !email.includes("@")}>
              {busy ? <span class="spinner" aria-hidden="true" /> : null}
              Mail me a reset link
            </button>
            <button type="button" class="button button-ghost button-block" data-testid="reset-have-link" onClick={() => setStep("reset")}>
              I already have a link
            </button>
          </form>
        </>
      ) : null}
      {step === "reset" ? (
        <>
          <h1 class="auth-title">Choose a new password</h1>
          <Notice tone="info" testid="reset-mailed">
            If <strong>{email || "that address"}</strong> has an account, a reset link is on its way. Paste the link, or the code in it, below.
          </Notice>
          <form class="form" onSubmit={reset} noValidate>
            <div class="field">
              <label class="field-label" for="reset-token">
                Link or code from the mail
              </label>
              <input ref={first} id="reset-token" data-testid="reset-token" type="password" autocomplete="off" spellcheck={false} value={token} onInput={(e) => setToken(e.currentTarget.value)} />
            </div>
            <div class="field">
              <label class="field-label" for="reset-password">
                New password
              </label>
              <input
                id="reset-password"
                data-testid="reset-password"
                type="password"
                autocomplete="new-password"
                value={password}
                aria-describedby="reset-meter"
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
              <PasswordMeter id="reset-meter" strength={strength} />
            </div>
            {needsCode ? (
              <div class="field">
                <label class="field-label" for="reset-code">
                  Code from your authenticator app, or a backup code
                </label>
                <input
                  id="reset-code"
                  data-testid="reset-code"
                  class="code-input"
                  type="text"
                  inputMode="numeric"
                  autocomplete="one-time-code"
                  maxLength={24}
                  value={code}
                  onInput={(e) => setCode(e.currentTarget.value)}
                />
                <p class="hint" data-testid="reset-code-hint">
                  Your account has two-factor authentication: a reset needs it too.
                </p>
              </div>
            ) : null}
            <ErrorNotice error={error} testid="reset-error" />
            <button
              type="submit"
              class="button button-primary button-block"
              data-testid="reset-submit"
              disabled={busy || !token.trim() || !password || (needsCode && !code.trim()) || (strength !== null && !strength.acceptable)}
            >
              {busy ? <span class="spinner" aria-hidden="true" /> : null}
              Set new password
            </button>
          </form>
        </>
      ) : null}
      {step === "done" ? (
        <>
          <h1 class="auth-title">Password changed</h1>
          <Notice tone="success" testid="reset-done">
            Every session of your account has ended, on every device. Sign in with your new password.
          </Notice>
        </>
      ) : null}
      <button type="button" class="button button-ghost button-block" data-testid="reset-back" onClick={() => props.onBack(email.trim())}>
        Back to sign in
      </button>
    </div>
  );
}
