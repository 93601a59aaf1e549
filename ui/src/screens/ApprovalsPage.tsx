import { useState } from "preact/hooks";
import type { ApprovalView } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { ErrorNotice } from "../components/Notice";
import { pendingCount, waitingOn } from "../lib/approvals";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, notAfterNow, relativeTime, timeLeft } from "../lib/format";
import { operationWords, tooFewApprovers } from "../lib/secrets";
import type { ApprovalFeed } from "../lib/useApprovalFeed";
import { useCommand } from "../lib/useCommand";

type Tab = "pending" | "history";

export function ApprovalsPage(props: { myId: string; feed: ApprovalFeed }) {
  const [tab, setTab] = useState<Tab>("pending");
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
            <li key={a.id} class="card approval" data-testid={`approval-${a.id}`}>
              <div class="approval-head">
                <span class={`tier tier-${a.tier}`}>{a.tier}</span>
                <code class="approval-path" data-testid={`approval-path-${a.id}`}>
                  {a.path}
                </code>
                <span class="muted approval-time" title={formatDate(a.expires_at)}>
                  <Icon name="clock" size={14} /> {a.status === "pending" ? timeLeft(a.expires_at) : a.status}
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
                asked {relativeTime(notAfterNow(a.requested_at))} to{" "}
                <strong class="approval-operation" data-testid={`approval-operation-${a.id}`}>
                  {operationWords(a.operation, a.to_tier)}
                </strong>
              </p>
              {a.reason ? <blockquote class="approval-reason">{a.reason}</blockquote> : null}
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

function DecideDialog(props: { a: ApprovalView; action: "approve" | "deny"; onClose: (done: boolean) => void }) {
  const [text, setText] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const critical = props.a.tier === "critical";
  const approve = props.action === "approve";
  return (
    <Dialog title={approve ? "Approve this request?" : "Deny this request?"} description={props.a.path} onRequestClose={() => props.onClose(false)} testid="decide-dialog">
      <form
        class="form"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            if (approve) await call((c) => c.approveRequest(props.a.id, text || null, critical ? code : null));
            else await call((c) => c.denyRequest(props.a.id, text));
            props.onClose(true);
          } catch (err) {
            setError(toCommandError(err));
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label class="field-label" for="decide-text">
            {approve ? (
              <>
                Comment <span class="optional">optional</span>
              </>
            ) : (
              "Reason"
            )}
          </label>
          <textarea id="decide-text" data-testid="decide-text" rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} />
        </div>
        {approve && critical ? (
          <div class="field">
            <label class="field-label" for="approval-code">
              Code from your authenticator app
            </label>
            <input
              id="approval-code"
              data-testid="approval-code"
              class="code-input"
              type="text"
              inputMode="numeric"
              autocomplete="one-time-code"
              value={code}
              onInput={(e) => setCode(e.currentTarget.value)}
            />
            <p class="hint">Critical secrets need a fresh code with every approval.</p>
          </div>
        ) : null}
        <ErrorNotice error={error} />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={() => props.onClose(false)}>
            Cancel
          </button>
          <button
            type="submit"
            class={`button ${approve ? "button-primary" : "button-danger"}`}
            data-testid="decide-submit"
            disabled={busy || (!approve && !text.trim()) || (approve && critical && !code.trim())}
          >
            {approve ? "Approve" : "Deny"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
