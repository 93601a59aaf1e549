import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import type { CreatedWebhook, DeliveryView, WebhookView } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, notAfterNow, relativeTime } from "../lib/format";
import { deliveryTone } from "../lib/settings";
import { useCommand } from "../lib/useCommand";
import { eventsText, WebhookSecretDialog, webhookState } from "./WebhooksPanel";
import { StatusBadge } from "../components/StatusBadge";

/** How often the log is read again while a delivery is still pending. */
const PENDING_POLL_MS = 2000;

type Confirm = "rotate" | "remove" | null;

/**
 * One endpoint: its facts, send a test, the delivery log (with retry), rotate the secret,
 * disable or enable, remove. Changes go through the sudo prompt; rotating and removing ask
 * first in the app's own dialog.
 */
export function WebhookDialog(props: { webhook: WebhookView; onChanged: () => void; onClose: () => void }) {
  const w = props.webhook;
  const log = useCommand((c) => c.webhookDeliveries(w.id), [w.id]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [rotated, setRotated] = useState<CreatedWebhook | null>(null);
  const pending = log.data?.some((d) => d.status === "pending") ?? false;

  useEffect(() => {
    if (!pending) return;
    const t = setInterval(log.reload, PENDING_POLL_MS);
    return () => clearInterval(t);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [pending]);

  async function act(run: () => Promise<unknown>, done: string | null, after?: () => void) {
    setBusy(true);
    setError(null);
    setNote(null);
    try {
      await run();
      setNote(done);
      after?.();
    } catch (e) {
      setError(toCommandError(e));
    } finally {
      setBusy(false);
    }
  }

  const st = webhookState(w);
  return (
    <Dialog title={w.url_display} description={w.description ?? (w.kind === "slack" ? "Slack channel" : "Webhook endpoint")} onRequestClose={props.onClose} testid="webhook-dialog" wide>
      <dl class="facts facts-compact">
        <div>
          <dt>Status</dt>
          <dd>
            <span class={`pill ${st.tone}`} data-testid="webhook-dialog-state">
              {st.word}
            </span>
          </dd>
        </div>
        <div>
          <dt>Events</dt>
          <dd>{eventsText(w.events)}</dd>
        </div>
        {w.failing_since ? (
          <div>
            <dt>Failing since</dt>
            <dd>{formatDate(w.failing_since)}</dd>
          </div>
        ) : null}
        {w.previous_secret_until ? (
          <div>
            <dt>Previous secret signs until</dt>
            <dd>{formatDate(w.previous_secret_until)}</dd>
          </div>
        ) : null}
      </dl>

      <div class="button-row">
        <button type="button" class="button button-primary" data-testid="webhook-test" disabled={busy || !w.enabled} onClick={() => void act(() => call((c) => c.testWebhook(w.id)), "A test event is on its way.", log.reload)}>
          <Icon name="send" />
          Send test
        </button>
        {w.kind === "webhook" ? (
          <button type="button" class="button button-secondary" data-testid="webhook-rotate" disabled={busy} onClick={() => setConfirm("rotate")}>
            <Icon name="refresh" />
            Rotate secret
          </button>
        ) : null}
        <button
          type="button"
          class="button button-secondary"
          data-testid="webhook-toggle"
          disabled={busy}
          onClick={() =>
            void act(
              () => call((c) => c.updateWebhook(w.id, { url: null, events: null, description: null, enabled: !w.enabled })),
              w.enabled ? "Disabled: nothing is delivered until you enable it again." : "Enabled: deliveries resume.",
              props.onChanged,
            )
          }
        >
          <Icon name={w.enabled ? "ban" : "check"} />
          {w.enabled ? "Disable" : "Enable"}
        </button>
        <button type="button" class="button button-danger-ghost" data-testid="webhook-remove" disabled={busy} onClick={() => setConfirm("remove")}>
          Remove
        </button>
      </div>
      {note ? (
        <Notice tone="success" testid="webhook-note">
          {note}
        </Notice>
      ) : null}
      <ErrorNotice error={error} testid="webhook-error" />

      <div class="log-head">
        <h3 class="section-title">Deliveries</h3>
        <button type="button" class="button button-ghost button-small" data-testid="deliveries-refresh" onClick={log.reload}>
          <Icon name="refresh" size={14} />
          Refresh
        </button>
      </div>
      <DeliveryLog deliveries={log.data} error={log.error} onRetry={(d) => void act(() => call((c) => c.retryWebhookDelivery(w.id, d.id)), "Sent again.", log.reload)} busy={busy} />

      {confirm === "rotate" ? (
        <ConfirmDialog
          title="Rotate the signing secret?"
          testid="webhook-rotate-dialog"
          action="Rotate secret"
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            setConfirm(null);
            void act(
              () => call((c) => c.rotateWebhookSecret(w.id)).then(setRotated),
              null,
              props.onChanged,
            );
          }}
        >
          A new secret is shown once. The current one keeps signing for 24 hours, so your receiver can switch without missing a delivery.
        </ConfirmDialog>
      ) : null}
      {confirm === "remove" ? (
        <ConfirmDialog
          title="Remove this endpoint?"
          testid="webhook-remove-dialog"
          action="Remove endpoint"
          danger
          onCancel={() => setConfirm(null)}
          onConfirm={() => {
            setConfirm(null);
            void act(() => call((c) => c.deleteWebhook(w.id)), null, props.onClose);
          }}
        >
          Nothing more is delivered to <strong>{w.url_display}</strong>, and its delivery log goes with it.
        </ConfirmDialog>
      ) : null}
      {rotated ? <WebhookSecretDialog created={rotated} rotated onClose={() => setRotated(null)} /> : null}
    </Dialog>
  );
}

function ConfirmDialog(props: { title: string; testid: string; action: string; danger?: boolean; onCancel: () => void; onConfirm: () => void; children: ComponentChildren }) {
  return (
    <Dialog title={props.title} onRequestClose={props.onCancel} testid={props.testid}>
      <p>{props.children}</p>
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class={`button ${props.danger ? "button-danger" : "button-primary"}`} data-testid={`${props.testid}-confirm`} onClick={props.onConfirm}>
          {props.action}
        </button>
      </div>
    </Dialog>
  );
}

/** The newest deliveries: event, status, attempts, the last answer, and retry. */
export function DeliveryLog(props: { deliveries: DeliveryView[] | null; error: CommandError | null; onRetry: (d: DeliveryView) => void; busy: boolean }) {
  if (props.error) return <ErrorNotice error={props.error} testid="deliveries-error" />;
  if (!props.deliveries) return <p class="muted">Loading deliveries…</p>;
  if (props.deliveries.length === 0) {
    return (
      <p class="muted" data-testid="deliveries-empty">
        Nothing delivered yet. Send a test to see one.
      </p>
    );
  }
  return (
    <div class="table-wrap">
      <table class="table" data-testid="deliveries-table">
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Tries</th>
            <th scope="col">Last answer</th>
            <th scope="col">When</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.deliveries.map((d) => {
            const t = deliveryTone(d.status);
            const answer = d.last_status !== null ? `HTTP ${d.last_status}` : (d.last_error ?? "—");
            return (
              <tr key={d.id} data-testid={`delivery-row-${d.id}`}>
                <td class="mono">{d.event_type}</td>
                <td>
                  <StatusBadge tone={t.tone} label={t.word} testid={`delivery-status-${d.id}`} />
                </td>
                <td>{d.attempts}</td>
                <td title={d.last_response ?? d.last_error ?? undefined}>{answer}</td>
                <td class="nowrap">
                  {d.last_attempt_at ? relativeTime(notAfterNow(d.last_attempt_at)) : "not yet"}
                  {d.status === "pending" && d.next_attempt_at ? <div class="muted">next {relativeTime(d.next_attempt_at)}</div> : null}
                </td>
                <td class="row-actions">
                  {d.status !== "delivered" ? (
                    <button type="button" class="button button-ghost button-small" data-testid={`delivery-retry-${d.id}`} disabled={props.busy} onClick={() => props.onRetry(d)}>
                      Retry now
                    </button>
                  ) : null}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
