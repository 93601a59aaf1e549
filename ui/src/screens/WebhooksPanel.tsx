import { useState } from "preact/hooks";
import type { CreatedWebhook, WebhookView } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { ShowOnceDialog } from "../components/ShowOnce";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate } from "../lib/format";
import { EVENT_CHOICES } from "../lib/settings";
import { useCommand } from "../lib/useCommand";
import { WebhookDialog } from "./WebhookDialog";
import { StatusBadge, type BadgeTone } from "../components/StatusBadge";

/** What an endpoint's status reads as. */
export function webhookState(w: WebhookView): { word: string; tone: BadgeTone } {
  if (!w.enabled) return { word: w.disabled_reason === "failing" ? "Disabled: kept failing" : "Disabled", tone: "bad" };
  if (w.failing_since) return { word: "Failing", tone: "bad" };
  return { word: "Enabled", tone: "good" };
}

export function eventsText(events: string[]): string {
  return events.length === 0 || events.includes("*") ? "All events" : events.join(", ");
}

/**
 * Webhooks (owners and admins): endpoints that hear about approvals, keys and members.
 * Add one (its signing secret is shown once), then manage it: send a test, read the
 * delivery log, retry, rotate the secret, disable, remove.
 */
export function WebhooksPanel() {
  const hooks = useCommand((c) => c.listWebhooks());
  const [adding, setAdding] = useState(false);
  const [created, setCreated] = useState<CreatedWebhook | null>(null);
  const [managing, setManaging] = useState<string | null>(null);

  let body;
  if (hooks.error?.kind === "forbidden") {
    body = (
      <div class="pad">
        <Notice tone="info" testid="webhooks-forbidden">
          Only owners and admins see and manage webhooks.
        </Notice>
      </div>
    );
  } else if (hooks.data && hooks.data.length > 0) {
    body = (
      <div class="table-wrap">
        <table class="table" data-testid="webhooks-table">
          <thead>
            <tr>
              <th scope="col">Endpoint</th>
              <th scope="col">Events</th>
              <th scope="col">Status</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {hooks.data.map((w) => {
              const st = webhookState(w);
              return (
                <tr key={w.id} data-testid={`webhook-row-${w.id}`}>
                  <td>
                    <div class="strong mono">{w.url_display}</div>
                    <div class="muted">
                      {w.kind === "slack" ? "Slack" : "Webhook"}
                      {w.description ? ` · ${w.description}` : ""} · added {formatDate(w.created_at)}
                    </div>
                  </td>
                  <td>{eventsText(w.events)}</td>
                  <td>
                    <StatusBadge tone={st.tone} label={st.word} testid={`webhook-state-${w.id}`} />
                  </td>
                  <td class="row-actions">
                    <button type="button" class="button button-secondary button-small" data-testid={`webhook-manage-${w.id}`} onClick={() => setManaging(w.id)}>
                      Manage
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    );
  } else if (hooks.data) {
    body = (
      <div class="empty-state" data-testid="webhooks-empty">
        <Icon name="send" size={28} />
        <h2>No webhooks yet</h2>
        <p class="muted">Add an endpoint, or a Slack channel, to hear about approval requests as they happen.</p>
      </div>
    );
  } else if (hooks.loading) {
    body = <p class="muted pad">Loading webhooks…</p>;
  } else {
    body = (
      <div class="pad">
        <ErrorNotice error={hooks.error} testid="webhooks-error" />
      </div>
    );
  }

  const open = hooks.data?.find((w) => w.id === managing) ?? null;
  return (
    <div class="settings-panel" data-testid="webhooks-panel">
      <section class="card card-flush" aria-labelledby="webhooks-title">
        <div class="card-head">
          <h2 class="card-title" id="webhooks-title">
            <Icon name="send" />
            Endpoints
          </h2>
          <button type="button" class="button button-primary button-small" data-testid="webhook-add-button" onClick={() => setAdding(true)} disabled={hooks.error?.kind === "forbidden"}>
            <Icon name="plus" />
            Add endpoint
          </button>
        </div>
        <p class="muted pad-x">
          Each delivery is signed (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>) and retried for up to 3 days. Payloads never
          carry a secret value.
        </p>
        {body}
      </section>
      {adding ? (
        <AddWebhookDialog
          onClose={() => setAdding(false)}
          onCreated={(c) => {
            setAdding(false);
            setCreated(c);
            hooks.reload();
          }}
        />
      ) : null}
      {created ? <WebhookSecretDialog created={created} onClose={() => setCreated(null)} /> : null}
      {open ? (
        <WebhookDialog
          webhook={open}
          onChanged={hooks.reload}
          onClose={() => {
            setManaging(null);
            hooks.reload();
          }}
        />
      ) : null}
    </div>
  );
}

/** The signing secret, shown once, with copy; closing without "I stored it" asks first. A Slack endpoint has none. */
export function WebhookSecretDialog(props: { created: CreatedWebhook; rotated?: boolean; onClose: () => void }) {
  const w = props.created.webhook;
  if (!props.created.secret) {
    return (
      <Dialog title="Slack channel added" onRequestClose={props.onClose} testid="webhook-added-dialog">
        <Notice tone="success" testid="webhook-added">
          Messages go to the channel of <strong>{w.url_display}</strong>. Send a test from Manage to see one.
        </Notice>
        <div class="dialog-actions">
          <button type="button" class="button button-primary" data-testid="webhook-added-done" onClick={props.onClose}>
            Done
          </button>
        </div>
      </Dialog>
    );
  }
  return (
    <ShowOnceDialog
      title={props.rotated ? "New signing secret" : "Endpoint added"}
      label="Signing secret"
      value={props.created.secret}
      stored="I copied the secret to where my receiver reads it"
      why={
        props.rotated
          ? "Your receiver verifies deliveries with it. The previous secret keeps signing for 24 hours, so deliveries verify while you switch."
          : "Your receiver verifies each delivery's signature with it. If you lose it, rotate the secret."
      }
      onClose={props.onClose}
    >
      <p class="muted">
        Endpoint <strong class="mono">{w.url_display}</strong>
      </p>
    </ShowOnceDialog>
  );
}

/** A new endpoint: URL, kind, which events, a note. Needs the sudo window. */
export function AddWebhookDialog(props: { onClose: () => void; onCreated: (c: CreatedWebhook) => void }) {
  const [url, setUrl] = useState("");
  const [kind, setKind] = useState("webhook");
  const [some, setSome] = useState(false);
  const [events, setEvents] = useState<string[]>([]);
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const chosen = some ? events : [];
  return (
    <Dialog title="Add an endpoint" description="Keyhold posts events to it as they happen." onRequestClose={props.onClose} testid="webhook-add-dialog" wide>
      <form
        class="form"
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const created = await call((c) => c.createWebhook({ url: url.trim(), kind, events: chosen, description: description.trim() || null }));
            props.onCreated(created);
          } catch (err) {
            setError(toCommandError(err));
            setBusy(false);
          }
        }}
      >
        <div class="field">
          <label class="field-label" for="webhook-kind">
            Kind
          </label>
          <select id="webhook-kind" data-testid="webhook-kind" value={kind} onChange={(e) => setKind(e.currentTarget.value)}>
            <option value="webhook">Webhook (signed JSON)</option>
            <option value="slack">Slack (incoming webhook)</option>
          </select>
        </div>
        <div class="field">
          <label class="field-label" for="webhook-url">
            {kind === "slack" ? "Slack incoming-webhook URL" : "Endpoint URL"}
          </label>
          <input
            id="webhook-url"
            data-testid="webhook-url"
            type={(kind === "slack" ? "password" : "url") as "url"}
            spellcheck={false}
            autocomplete="off"
            placeholder={kind === "slack" ? "https://hooks.slack.com/services/…" : "https://example.com/keyhold-events"}
            value={url}
            onInput={(e) => setUrl(e.currentTarget.value)}
          />
          <p class="hint">
            {kind === "slack"
              ? "This URL is itself a credential: Keyhold shows only its host afterwards."
              : "https:// only. Private and local addresses are refused unless the server allows them."}
          </p>
        </div>
        <fieldset class="field">
          <legend class="field-label">Events</legend>
          <label class="checkbox">
            <input type="radio" name="webhook-events" data-testid="webhook-events-all" checked={!some} onChange={() => setSome(false)} />
            <span>Every event</span>
          </label>
          <label class="checkbox">
            <input type="radio" name="webhook-events" data-testid="webhook-events-some" checked={some} onChange={() => setSome(true)} />
            <span>Only these:</span>
          </label>
          {some ? (
            <div class="event-choices">
              {EVENT_CHOICES.map((c) => (
                <label key={c.value} class="checkbox">
                  <input
                    type="checkbox"
                    data-testid={`webhook-event-${c.value}`}
                    checked={events.includes(c.value)}
                    onChange={(e) => setEvents(e.currentTarget.checked ? [...events, c.value] : events.filter((v) => v !== c.value))}
                  />
                  <span>
                    {c.label} <code class="muted">{c.value}</code>
                  </span>
                </label>
              ))}
            </div>
          ) : null}
        </fieldset>
        <div class="field">
          <label class="field-label" for="webhook-description">
            Note <span class="optional">optional</span>
          </label>
          <input id="webhook-description" data-testid="webhook-description" type="text" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </div>
        <ErrorNotice error={error} testid="webhook-add-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" data-testid="webhook-add-submit" disabled={busy || !url.trim() || (some && events.length === 0)}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Add endpoint
          </button>
        </div>
      </form>
    </Dialog>
  );
}
