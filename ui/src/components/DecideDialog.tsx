import { useId, useState } from "preact/hooks";
import type { ApprovalView } from "../bindings";
import { call } from "../api";
import { grantWords } from "../lib/approvals";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, notAfterNow, relativeTime, timeLeft } from "../lib/format";
import { useNow } from "../lib/useNow";
import { operationWords } from "../lib/secrets";
import { Dialog } from "./Dialog";
import { ErrorNotice } from "./Notice";

/**
 * Approve or deny one request, with everything the decision rests on in view: who asks
 * (agent and owner), the tier, the operation, their reason (or, visibly, none), the votes
 * so far with their comments, and what a yes opens and for how long. Approving blind was
 * the complaint; a missing reason is itself a signal, so it is said, not left out.
 * A denial needs a reason (the requester is told why): the field is marked required and
 * an empty submit is refused here, with the error tied to the field.
 */
export function DecideDialog(props: { a: ApprovalView; action: "approve" | "deny"; onClose: (done: boolean) => void }) {
  const a = props.a;
  const [text, setText] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const id = useId();
  const critical = a.tier === "critical";
  const approve = props.action === "approve";
  const op = operationWords(a.operation, a.to_tier);

  async function submit(e: Event) {
    e.preventDefault();
    if (!approve && !text.trim()) {
      setMissing(true);
      document.getElementById(`${id}-text`)?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (approve) await call((c) => c.approveRequest(a.id, text.trim() || null, critical ? code : null));
      else await call((c) => c.denyRequest(a.id, text.trim()));
      props.onClose(true);
    } catch (err) {
      setError(toCommandError(err));
      setBusy(false);
    }
  }

  return (
    <Dialog
      title={approve ? "Approve this request?" : "Deny this request?"}
      description={`${a.key_name ?? a.owner} asks to ${op} ${a.path}.`}
      onRequestClose={() => props.onClose(false)}
      testid="decide-dialog"
      wide
    >
      <Context a={a} op={op} />
      <form class="form" noValidate onSubmit={submit}>
        <div class="field">
          <label class="field-label" for={`${id}-text`}>
            {approve ? (
              <>
                Comment <span class="optional">optional</span>
              </>
            ) : (
              <>
                Reason <span class="required">required</span>
              </>
            )}
          </label>
          <textarea
            id={`${id}-text`}
            data-testid="decide-text"
            rows={3}
            value={text}
            aria-required={approve ? undefined : "true"}
            aria-invalid={missing && !text.trim() ? "true" : undefined}
            aria-describedby={approve ? undefined : `${id}-text-hint`}
            onInput={(e) => setText(e.currentTarget.value)}
          />
          {approve ? null : (
            <p id={`${id}-text-hint`} class={`hint ${missing && !text.trim() ? "hint-error" : ""}`} data-testid="decide-text-hint">
              {missing && !text.trim() ? "Say why you deny it: the requester sees your reason." : "The requester sees your reason."}
            </p>
          )}
        </div>
        {approve && critical ? (
          <div class="field">
            <label class="field-label" for={`${id}-code`}>
              Code from your authenticator app
            </label>
            <input
              id={`${id}-code`}
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
            disabled={busy || (approve && critical && !code.trim())}
          >
            {approve ? "Approve" : "Deny"}
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** The facts of the request, as a definition list the screen reader walks in order. */
function Context(props: { a: ApprovalView; op: string }) {
  const a = props.a;
  // The deadline counts down while the dialog is open.
  const now = useNow(15_000);
  return (
    <div class="decide-context" data-testid="decide-context">
      <dl class="decide-facts">
        <div>
          <dt>Agent</dt>
          <dd data-testid="decide-agent">{a.key_name ?? "None: a person asks for themselves"}</dd>
        </div>
        <div>
          <dt>{a.key_name ? "Owner" : "Requested by"}</dt>
          <dd data-testid="decide-owner">{a.owner}</dd>
        </div>
        <div>
          <dt>Tier</dt>
          <dd>
            <span class={`tier tier-${a.tier}`} data-testid="decide-tier">
              {a.tier}
            </span>
          </dd>
        </div>
        <div>
          <dt>Operation</dt>
          <dd data-testid="decide-operation">{props.op}</dd>
        </div>
        <div>
          <dt>Asked</dt>
          <dd title={formatDate(a.requested_at)}>{relativeTime(notAfterNow(a.requested_at, now), now)}</dd>
        </div>
        <div>
          <dt>Request lapses</dt>
          <dd title={formatDate(a.expires_at)}>{timeLeft(a.expires_at, now)}</dd>
        </div>
      </dl>
      <h3 class="decide-subhead">Reason</h3>
      {a.reason ? (
        <blockquote class="approval-reason" data-testid="decide-reason">
          {a.reason}
        </blockquote>
      ) : (
        <p class="no-reason" data-testid="decide-reason">
          No reason given
        </p>
      )}
      <h3 class="decide-subhead">
        Votes so far: {a.approvals.length} of {a.required_approvals}
      </h3>
      {a.approvals.length ? (
        <ul class="decide-votes" data-testid="decide-votes">
          {a.approvals.map((v) => (
            <li key={v.user_id} data-testid={`decide-vote-${v.user_id}`}>
              <strong>{v.user}</strong> <span class="muted">approved {relativeTime(notAfterNow(v.at))}</span>
              {v.comment ? <blockquote class="approval-reason">{v.comment}</blockquote> : <span class="muted"> (no comment)</span>}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted" data-testid="decide-votes">
          No votes yet.
        </p>
      )}
      <p class="hint" data-testid="decide-grant">
        {grantWords(a, props.op)}
      </p>
    </div>
  );
}
