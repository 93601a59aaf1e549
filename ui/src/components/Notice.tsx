import type { ComponentChildren } from "preact";
import { formatWait, useRetryAfter } from "../lib/countdown";
import type { CommandError } from "../lib/errors";
import { Icon, type IconName } from "./Icon";

type Tone = "info" | "success" | "warning" | "danger" | "pending";

const ICONS: Record<Tone, IconName> = {
  info: "info",
  success: "checkCircle",
  warning: "alert",
  danger: "alert",
  pending: "clock",
};

export function Notice(props: { tone: Tone; title?: string; children?: ComponentChildren; testid?: string; role?: "alert" | "status" }) {
  return (
    <div
      class={`notice notice-${props.tone}`}
      role={props.role ?? (props.tone === "danger" ? "alert" : "status")}
      data-testid={props.testid}
    >
      <Icon name={ICONS[props.tone]} size={18} />
      <div class="notice-body">
        {props.title ? <strong class="notice-title">{props.title}</strong> : null}
        {props.children ? <div class="notice-text">{props.children}</div> : null}
      </div>
    </div>
  );
}

/**
 * A command error as a sentence; "not available yet" reads as pending, not broken. A rate
 * limit (`retry_after_secs`) counts down here, where the error is read; the form beside it
 * keeps its retry button disabled meanwhile with the same hook (`useRetryAfter`).
 */
export function ErrorNotice(props: { error: CommandError | null; testid?: string }) {
  const e = props.error;
  const wait = useRetryAfter(e);
  if (!e) return null;
  const tone: Tone = e.kind === "not_available" ? "pending" : e.kind === "offline" ? "warning" : "danger";
  return (
    <Notice tone={tone} testid={props.testid ?? "error"} role="alert">
      <span data-error-kind={e.kind}>{e.message}</span>
      {e.details.length > 0 ? (
        <ul class="notice-details">
          {e.details.map((d) => (
            <li key={d}>{d}</li>
          ))}
        </ul>
      ) : null}
      {e.kind === "rate_limited" && e.retry_after_secs ? (
        <p class="notice-wait" data-testid="retry-wait" aria-live="off">
          {wait > 0 ? `You can try again in ${formatWait(wait)}.` : "You can try again now."}
        </p>
      ) : null}
    </Notice>
  );
}
