// The one status badge: every state a table or card shows (On/Off, Active, Suspended,
// Critical, Failed…) in one shape, one set of tones that pass WCAG AA in both themes
// (contrast.test.ts checks the colours), and one way of writing: sentence case, so that
// "SUSPENDED", "suspended" and "Suspended" never sit side by side.

export type BadgeTone = "good" | "bad" | "warn" | "muted";

/** "key_suspended" → "Key suspended"; "CRITICAL" → "Critical"; "Disabled: kept failing" stays. */
export function sentenceCase(text: string): string {
  const words = text.replace(/_/gu, " ").trim();
  if (!words) return "";
  const lower = words === words.toUpperCase() || /^[a-z]/u.test(words) ? words.toLowerCase() : words;
  return lower.charAt(0).toLocaleUpperCase() + lower.slice(1);
}

export function StatusBadge(props: { tone: BadgeTone; label: string; testid?: string; title?: string }) {
  return (
    <span class={`pill pill-${props.tone}`} data-testid={props.testid} title={props.title}>
      {sentenceCase(props.label)}
    </span>
  );
}
