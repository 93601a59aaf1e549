import { useEffect, useRef, useState } from "preact/hooks";
import type { ApprovalNeeded, ApprovalView } from "../bindings";
import { call } from "../api";
import { formatDate } from "../lib/format";
import { operationWords, phase, progressOf, tooFewApprovers } from "../lib/secrets";
import { Icon } from "./Icon";
import { InviteDialog } from "./InviteDialog";
import { Notice } from "./Notice";

/** How often the request's status is asked while it is open. */
export const POLL_MS = 3000;

/**
 * The approval a gated call opened, followed live (`approval_status` every few seconds):
 * votes so far of those required, its status, "too few approvers" with an invitation,
 * and once granted the one button that completes the operation. `onReady` runs by itself
 * once when the grant becomes usable by this computer's clock (the server's may run
 * ahead: the button stays for that).
 */
export function ApprovalProgress(props: {
  needed: ApprovalNeeded;
  readyLabel: string;
  onReady: () => void;
  busy?: boolean;
  autoReady?: boolean;
  toTier?: string | null;
}) {
  const [view, setView] = useState<ApprovalView | null>(null);
  const [inviting, setInviting] = useState(false);
  const [, setTick] = useState(0);
  const fired = useRef(false);
  const p = progressOf(props.needed, view);
  const now = phase(p.status, p.availableAt);

  useEffect(() => {
    let live = true;
    const poll = () =>
      call((c) => c.approvalStatus(props.needed.approval_id))
        .then((v) => live && setView(v))
        .catch(() => undefined);
    poll();
    const t = setInterval(() => {
      poll();
      setTick((n) => n + 1);
    }, POLL_MS);
    return () => {
      live = false;
      clearInterval(t);
    };
  }, [props.needed.approval_id]);

  useEffect(() => {
    if (now === "ready" && props.autoReady && !fired.current) {
      fired.current = true;
      props.onReady();
    }
  }, [now]);

  const few = tooFewApprovers(p.required, p.eligible);
  return (
    <div class="approval-progress" data-testid="approval-progress" data-status={p.status} data-approval-id={p.id}>
      <p class="approval-progress-title">
        <Icon name={now === "ready" ? "checkCircle" : now === "denied" || now === "expired" ? "ban" : "clock"} />
        <strong data-testid="approval-progress-title">
          {now === "pending"
            ? `Approval requested to ${operationWords(p.operation, props.toTier)}`
            : now === "delay"
              ? "Approved: waiting out the critical delay"
              : now === "ready"
                ? "Approved"
                : now === "used"
                  ? "This approval has been used"
                  : now === "denied"
                    ? "Denied"
                    : "The request expired"}
        </strong>
      </p>
      <div class="progress-line">
        <progress max={Math.max(p.required, 1)} value={Math.min(p.votes, p.required)} aria-label="Approvals so far" />
        <span class="muted" data-testid="approval-progress-count">
          {p.votes} of {p.required} approvals{p.voters.length ? ` (${p.voters.join(", ")})` : ""}
        </span>
      </div>
      {few ? (
        <Notice tone="warning" testid="too-few-approvers">
          <span data-testid="too-few-approvers-text">{few}</span> Nobody can approve this until more people who may approve join.{" "}
          <button type="button" class="link-button" data-testid="invite-from-approval" onClick={() => setInviting(true)}>
            Invite someone
          </button>
        </Notice>
      ) : null}
      {now === "delay" ? (
        <p class="muted" data-testid="approval-delay">
          Available from {formatDate(p.availableAt)}.
        </p>
      ) : null}
      {now === "ready" || now === "delay" ? (
        <div class="button-row">
          <button type="button" class="button button-primary" data-testid="approval-complete" disabled={props.busy} onClick={props.onReady}>
            {props.busy ? <span class="spinner" aria-hidden="true" /> : null}
            {props.readyLabel}
          </button>
        </div>
      ) : null}
      {inviting ? <InviteDialog onClose={() => setInviting(false)} /> : null}
    </div>
  );
}
