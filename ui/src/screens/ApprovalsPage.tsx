import { useEffect, useState } from "preact/hooks";
import type { ApprovalView } from "../bindings";
import { DecideDialog } from "../components/DecideDialog";
import { Icon } from "../components/Icon";
import { ErrorNotice } from "../components/Notice";
import { pendingCount, waitingOn } from "../lib/approvals";
import { formatDate, notAfterNow, relativeTime, timeLeft } from "../lib/format";
import { useNow } from "../lib/useNow";
import { operationWords, tooFewApprovers } from "../lib/secrets";
import type { ApprovalFeed } from "../lib/useApprovalFeed";
import { useCommand } from "../lib/useCommand";

type Tab = "pending" | "history";

export function ApprovalsPage(props: { myId: string; feed: ApprovalFeed; openId?: string | null }) {
  const [tab, setTab] = useState<Tab>("pending");
  // Countdowns move while the page is open.
  const now = useNow(15_000);
  // A request opened from its notification: shown on the pending tab, scrolled to and focused.
  useEffect(() => {
    if (!props.openId) return;
    setTab("pending");
    const card = document.querySelector<HTMLElement>(`[data-testid="approval-${CSS.escape(props.openId)}"]`);
    if (card) {
      card.scrollIntoView({ block: "center" });
      card.focus();
    }
  }, [props.openId, props.feed.pending]);
  const history = useCommand((c) => (tab === "history" ? c.listApprovals("history") : Promise.resolve([])), [tab]);
  const [acting, setActing] = useState<{ a: ApprovalView; action: "approve" | "deny" } | null>(null);
  const list: ApprovalView[] | null = tab === "pending" ? props.feed.pending : history.data;
  const waiting = props.feed.pending ? pendingCount(props.feed.pending, props.myId) : 0;

  return (
    <div class="page" data-testid="approvals-page">
      <header class="page-header">
        <div>
          <h1>Approvals</h1>
          <p class="muted">Agents and people asking to read, delete or lower the tier of sensitive and critical secrets. Nothing opens until enough people approve.</p>
        </div>
        <span class={`live-pill ${props.feed.live ? "live-pill-on" : ""}`} data-testid="approvals-live" title={props.feed.live ? "New requests appear as they are made" : "Reconnecting to the live feed…"}>
          <span class="dot" aria-hidden="true" />
          {props.feed.live ? "Live" : "Connecting…"}
        </span>
      </header>
      <div class="segmented" role="tablist" aria-label="Approvals">
        <button type="button" role="tab" aria-selected={tab === "pending"} class={tab === "pending" ? "active" : ""} data-testid="approvals-tab-pending" onClick={() => setTab("pending")}>
          Pending{waiting ? ` (${waiting})` : ""}
        </button>
        <button type="button" role="tab" aria-selected={tab === "history"} class={tab === "history" ? "active" : ""} data-testid="approvals-tab-history" onClick={() => setTab("history")}>
          History
        </button>
      </div>
      {list && list.length === 0 ? (
        <section class="card empty-state">
          <Icon name="inbox" size={28} />
          <h2>{tab === "pending" ? "Inbox zero" : "No decisions yet"}</h2>
          <p class="muted">{tab === "pending" ? "New requests appear here as agents and people make them." : "Requests you approved or denied appear here."}</p>
        </section>
      ) : list ? (
        <ul class="approval-list" data-testid="approval-list">
          {list.map((a) => (
            <li key={a.id} class={`card approval ${props.openId === a.id ? "approval-opened" : ""}`} data-testid={`approval-${a.id}`} tabIndex={-1} aria-current={props.openId === a.id ? "true" : undefined}>
              <div class="approval-head">
                <span class={`tier tier-${a.tier}`}>{a.tier}</span>
                <code class="approval-path" data-testid={`approval-path-${a.id}`}>
                  {a.path}
                </code>
                <span class="muted approval-time" title={formatDate(a.expires_at)} data-testid={`approval-time-${a.id}`}>
                  <Icon name="clock" size={14} /> {a.status === "pending" ? timeLeft(a.expires_at, now) : a.status}
                </span>
              </div>
              <p class="approval-who" data-testid={`approval-who-${a.id}`}>
                {a.key_name ? (
                  <>
                    <strong>{a.key_name}</strong> <span class="muted">(agent owned by {a.owner})</span>
                  </>
                ) : (
                  <>
                    Requested by <strong>{a.owner}</strong>
                  </>
                )}{" "}
                asked {relativeTime(notAfterNow(a.requested_at, now), now)} to{" "}
                <strong class="approval-operation" data-testid={`approval-operation-${a.id}`}>
                  {operationWords(a.operation, a.to_tier)}
                </strong>
              </p>
              {a.reason ? <blockquote class="approval-reason">{a.reason}</blockquote> : <p class="no-reason">No reason given</p>}
              {a.status === "pending" && tooFewApprovers(a.required_approvals, a.eligible_approvers) ? (
                <p class="hint hint-warn" data-testid={`approval-too-few-${a.id}`}>
                  {tooFewApprovers(a.required_approvals, a.eligible_approvers)}
                </p>
              ) : null}
              <div class="approval-foot">
                <span class="muted" data-testid={`approval-count-${a.id}`}>
                  {a.approvals.length} of {a.required_approvals} approvals
                  {a.approvals.length ? ` (${a.approvals.map((v) => v.user).join(", ")})` : ""}
                </span>
                {waitingOn(a, props.myId) ? (
                  <div class="button-row">
                    <button type="button" class="button button-danger-ghost" data-testid={`deny-${a.id}`} onClick={() => setActing({ a, action: "deny" })}>
                      Deny
                    </button>
                    <button type="button" class="button button-primary" data-testid={`approve-${a.id}`} onClick={() => setActing({ a, action: "approve" })}>
                      Approve
                    </button>
                  </div>
                ) : a.status === "pending" ? (
                  <span class="muted" data-testid={`approval-note-${a.id}`}>
                    {a.owner_id !== props.myId ? "You approved; waiting on others" : a.key_name ? "Your agent's request: others decide" : "Your request: others decide"}
                  </span>
                ) : null}
              </div>
            </li>
          ))}
        </ul>
      ) : tab === "history" && history.error ? (
        <ErrorNotice error={history.error} testid="approvals-error" />
      ) : tab === "pending" && props.feed.error ? (
        <ErrorNotice error={props.feed.error} testid="approvals-error" />
      ) : (
        <p class="muted">Loading…</p>
      )}
      {acting ? (
        <DecideDialog
          a={acting.a}
          action={acting.action}
          onClose={(done) => {
            setActing(null);
            if (done) {
              props.feed.reload();
              history.reload();
            }
          }}
        />
      ) : null}
    </div>
  );
}
