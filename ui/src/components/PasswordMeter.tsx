import { useEffect, useState } from "preact/hooks";
import type { PasswordStrength } from "../bindings";
import { call } from "../api";
import { strengthWord } from "../lib/format";

/** Live strength of `password`, estimated by the Rust zxcvbn through a command. */
export function usePasswordStrength(password: string, email: string | null): PasswordStrength | null {
  const [strength, setStrength] = useState<PasswordStrength | null>(null);
  useEffect(() => {
    if (!password) {
      setStrength(null);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      call((c) => c.passwordStrength(password, email))
        .then((s) => live && setStrength(s))
        .catch(() => live && setStrength(null));
    }, 120);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [password, email]);
  return strength;
}

export function PasswordMeter(props: { strength: PasswordStrength | null; id: string }) {
  const s = props.strength;
  const score = s?.score ?? 0;
  const tone = !s ? "none" : !s.acceptable || score < 2 ? "bad" : score < 3 ? "warn" : "good";
  return (
    <div class={`meter meter-${tone}`} id={props.id} data-testid="password-meter" aria-live="polite">
      <div class="meter-bars" aria-hidden="true">
        {[0, 1, 2, 3, 4].map((i) => (
          <span key={i} class={s && i <= score ? "on" : ""} />
        ))}
      </div>
      {s ? (
        <div class="meter-text">
          <span class="meter-word" data-testid="password-score" data-score={score}>
            {strengthWord(score)}
          </span>
          {s.crack_time ? <span class="muted"> · would take {s.crack_time} to crack</span> : null}
          {s.problems.length > 0 ? (
            <ul class="meter-list meter-problems">
              {s.problems.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
          {s.warning || s.suggestions.length > 0 ? (
            <ul class="meter-list">
              {s.warning ? <li>{s.warning}</li> : null}
              {s.suggestions.map((p) => (
                <li key={p}>{p}</li>
              ))}
            </ul>
          ) : null}
        </div>
      ) : (
        <div class="meter-text muted">Use at least 15 characters. A few unrelated words work well.</div>
      )}
    </div>
  );
}
