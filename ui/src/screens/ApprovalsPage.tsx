import { useEffect, useState } from "preact/hooks";
import type { ApprovalView } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { ErrorNotice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, relativeTime, timeLeft } from "../lib/format";
import { useCommand } from "../lib/useCommand";

type Tab = "pending" | "history";

export function ApprovalsPage() {
  const [tab, setTab] = useState<Tab>("pending");
  const list = useCommand((c) => c.listApprovals(tab), [tab]);
  const [acting, setActing] = useState<{ a: ApprovalView; action: "approve" | "deny" } | null>(null);

  // Keep the inbox fresh while it is open.
  useEffect(() => {
    if (tab !== "pending" || list.error) return;
    const t = setInterval(list.reload, 5000);
    return () => clearInterval(t);
  }, [tab, list.error]);

  return (
    <div class="page" data-testid="approvals-page">
      <header class="page-header">
        <div>
          <h1>Approvals</h1>
          <p class="muted">Agents asking to read sensitive and critical secrets. Nothing opens until enough people approve.</p>
        </div>
      </header>
      <div class="segmented" role="tablist" aria-label="Approvals">
        <button type="button" role="tab" aria-selected={tab === "pending"} class={tab === "pending" ? "active" : ""} data-testid="approvals-tab-pending" onClick={() => setTab("pending")}>
          Waiting on you
        </button>
        <button type="button" role="tab" aria-selected={tab === "history"} class={tab === "history" ? "active" : ""} data-testid="approvals-tab-history" onClick={() => setTab("history")}>
          History
        </button>
      </div>
      {list.data && list.data.length === 0 ? (
        <section class="card empty-state">
          <Icon name="inbox" size={28} />
          <h2>{tab === "pending" ? "Inbox zero" : "No decisions yet"}</h2>
          <p class="muted">{tab === "pending" ? "New requests appear here as agents make them." : "Requests you approved or denied appear here."}</p>
        </section>
      ) : list.data ? (
        <ul class="approval-list" data-testid="approval-list">
          {list.data.map((a) => (
            <li key={a.id} class="card approval" data-testid={`approval-${a.id}`}>
              <div class="approval-head">
                <span class={`tier tier-${a.tier}`}>{a.tier}</span>
                <code class="approval-path">{a.path}</code>
                <span class="muted approval-time" title={formatDate(a.expires_at)}>
                  <Icon name="clock" size={14} /> {a.status === "pending" ? timeLeft(a.expires_at) : a.status}
                </span>
              </div>
              <p class="approval-who">
                <strong>{a.key_name}</strong> <span class="muted">(owned by {a.owner})</span> asked {relativeTime(a.requested_at)}
              </p>
              {a.reason ? <blockquote class="approval-reason">{a.reason}</blockquote> : null}
              <div class="approval-foot">
                <span class="muted">
                  {a.approvals.length} of {a.required_approvals} approvals
                </span>
                {a.status === "pending" ? (
                  <div class="button-row">
                    <button type="button" class="button button-danger-ghost" data-testid={`deny-${a.id}`} onClick={() => setActing({ a, action: "deny" })}>
                      Deny
                    </button>
                    <button type="button" class="button button-primary" data-testid={`approve-${a.id}`} onClick={() => setActing({ a, action: "approve" })}>
                      Approve
                    </button>
                  </div>
                ) : null}
              </div>
            </li>
          ))}
        </ul>
      ) : list.loading ? (
        <p class="muted">Loading…</p>
      ) : (
        <ErrorNotice error={list.error} testid="approvals-error" />
      )}
      {acting ? (
        <DecideDialog
          a={acting.a}
          action={acting.action}
          onClose={(done) => {
            setActing(null);
            if (done) list.reload();
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
