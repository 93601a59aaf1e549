import { useEffect, useState } from "preact/hooks";
import type { AgentKeyView, CreatedAgentKey, ScopeCheck, SessionView } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { ShowOnceDialog } from "../components/ShowOnce";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, relativeTime } from "../lib/format";
import { useCommand } from "../lib/useCommand";
import { toast } from "../lib/toast";

export function keyStatus(k: AgentKeyView, now = new Date()): { word: string; tone: string } {
  if (k.revoked_at) return { word: "Revoked", tone: "pill-muted" };
  if (k.suspended_at) return { word: "Suspended", tone: "pill-bad" };
  if (k.expires_at && new Date(k.expires_at) <= now) return { word: "Expired", tone: "pill-muted" };
  return { word: "Active", tone: "pill-good" };
}

/** `changes`: the alerts feed's counter; a suspension or reinstatement reloads the list. */
export function KeysPage(props: { session: SessionView; changes?: number }) {
  const keys = useCommand((c) => c.listKeys(), [props.changes ?? 0]);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedAgentKey | null>(null);
  const [revoking, setRevoking] = useState<AgentKeyView | null>(null);

  return (
    <div class="page" data-testid="keys-page">
      <header class="page-header">
        <div>
          <h1>Agent keys</h1>
          <p class="muted">Keys your agents use to ask Keyhold for secrets. Each key can only do what its scopes allow.</p>
        </div>
        <button type="button" class="button button-primary" data-testid="create-key-button" onClick={() => setCreating(true)}>
          <Icon name="plus" />
          New key
        </button>
      </header>

      <section class="card card-flush">
        {keys.data && keys.data.length > 0 ? (
          <div class="table-wrap">
            <table class="table" data-testid="keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Prefix</th>
                  <th scope="col">Scopes</th>
                  <th scope="col">Created</th>
                  <th scope="col">Expires</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.data.map((k) => {
                  const st = keyStatus(k);
                  return (
                    <tr key={k.id} data-testid={`key-row-${k.id}`}>
                      <td class="strong">{k.name}</td>
                      <td>
                        <code>{k.prefix}…</code>
                      </td>
                      <td>
                        <div class="chips">
                          {k.scopes.map((s) => (
                            <span class="chip" key={s}>
                              {s}
                            </span>
                          ))}
                        </div>
                      </td>
                      <td title={formatDate(k.created_at)}>{relativeTime(k.created_at)}</td>
                      <td>{k.expires_at ? formatDate(k.expires_at) : <span class="warn-text">Never</span>}</td>
                      <td title={k.last_used_ip ?? undefined}>{relativeTime(k.last_used_at)}</td>
                      <td>
                        <span class={`pill ${st.tone}`} data-testid={`key-status-${k.id}`} title={k.suspended_at && !k.revoked_at ? `Suspended ${formatDate(k.suspended_at)} by a detection rule` : undefined}>
                          {st.word}
                        </span>
                      </td>
                      <td class="row-actions">
                        <div class="row-actions-stack">
                          {k.suspended_at && !k.revoked_at ? <ReinstateButton k={k} onDone={keys.reload} /> : null}
                          {!k.revoked_at ? (
                            <button type="button" class="button button-danger-ghost button-small" data-testid={`revoke-${k.id}`} onClick={() => setRevoking(k)}>
                              Revoke
                            </button>
                          ) : null}
                        </div>
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        ) : keys.data ? (
          <div class="empty-state">
            <Icon name="key" size={28} />
            <h2>No agent keys yet</h2>
            <p class="muted">Create a key for each agent, with only the scopes it needs.</p>
          </div>
        ) : keys.loading ? (
          <p class="muted pad">Loading keys…</p>
        ) : (
          <div class="pad">
            <ErrorNotice error={keys.error} testid="keys-error" />
          </div>
        )}
      </section>

      <LeakedKeyCard serverUrl={props.session.server_url} />

      {creating ? (
        <CreateKeyDialog
          onClose={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            setCreated(k);
            keys.reload();
          }}
        />
      ) : null}
      {created ? <ShowKeyDialog created={created} onClose={() => setCreated(null)} /> : null}
      {revoking ? (
        <RevokeDialog
          k={revoking}
          onClose={(done) => {
            setRevoking(null);
            if (done) keys.reload();
          }}
        />
      ) : null}
    </div>
  );
}

const EXPIRY: { value: string | null; label: string }[] = [
  { value: "24h", label: "1 day" },
  { value: "168h", label: "7 days" },
  { value: "720h", label: "30 days" },
  { value: "2160h", label: "90 days" },
  { value: null, label: "Never" },
];

const ACTIONS = ["read", "write", "delete"] as const;

function CreateKeyDialog(props: { onClose: () => void; onCreated: (k: CreatedAgentKey) => void }) {
  const [name, setName] = useState("");
  const [action, setAction] = useState<(typeof ACTIONS)[number]>("read");
  const [pattern, setPattern] = useState("");
  const [scopes, setScopes] = useState<string[]>([]);
  const [check, setCheck] = useState<ScopeCheck | null>(null);
  const [checkError, setCheckError] = useState<CommandError | null>(null);
  const [expiry, setExpiry] = useState<string | null>("720h");
  const [ips, setIps] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const candidate = pattern.trim() ? `secrets:${action}:${pattern.trim()}` : "";

  useEffect(() => {
    if (!candidate) {
      setCheck(null);
      setCheckError(null);
      return;
    }
    let live = true;
    const t = setTimeout(() => {
      call((c) => c.checkScope(candidate))
        .then((r) => {
          if (!live) return;
          setCheck(r);
          setCheckError(null);
        })
        .catch((e) => {
          if (!live) return;
          setCheck(null);
          setCheckError(toCommandError(e));
        });
    }, 120);
    return () => {
      live = false;
      clearTimeout(t);
    };
  }, [candidate]);

  const canAdd = candidate !== "" && !scopes.includes(candidate) && (check?.ok ?? checkError?.kind === "not_available");

  async function submit(e: Event) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const allow = ips
        .split(/[\s,]+/u)
        .map((s) => s.trim())
        .filter(Boolean);
      const k = await call((c) => c.createKey({ name: name.trim(), scopes, expires_in: expiry, ip_allowlist: allow }));
      props.onCreated(k);
    } catch (err) {
      setError(toCommandError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title="New agent key" description="Give each agent its own key, with only the scopes it needs." onRequestClose={props.onClose} testid="create-key-dialog" wide>
      <form class="form" onSubmit={submit} noValidate>
        <div class="field">
          <label class="field-label" for="key-name">
            Name
          </label>
          <input id="key-name" data-testid="key-name" type="text" placeholder="billing-agent" value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </div>
        <fieldset class="field">
          <legend class="field-label">Scopes</legend>
          <div class="scope-builder">
            <select aria-label="Permission" data-testid="key-scope-action" value={action} onChange={(e) => setAction(e.currentTarget.value as (typeof ACTIONS)[number])}>
              {ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
            <input
              aria-label="Secret path or pattern"
              aria-describedby="scope-hint"
              data-testid="key-scope-pattern"
              type="text"
              placeholder="production/stripe/*"
              spellcheck={false}
              value={pattern}
              onInput={(e) => setPattern(e.currentTarget.value)}
              onKeyDown={(e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  if (canAdd) {
                    setScopes([...scopes, candidate]);
                    setPattern("");
                  }
                }
              }}
            />
            <button
              type="button"
              class="button button-secondary"
              data-testid="add-scope"
              disabled={!canAdd}
              onClick={() => {
                setScopes([...scopes, candidate]);
                setPattern("");
              }}
            >
              Add
            </button>
          </div>
          <p id="scope-hint" class={`hint ${check && !check.ok ? "hint-error" : ""}`} data-testid="scope-hint">
            {check ? (check.ok ? (check.summary ?? "Looks good.") : check.problem) : checkError ? checkError.message : "A path, a path ending in /* for everything below it, or * for all."}
          </p>
          {scopes.length > 0 ? (
            <ul class="chips" data-testid="key-scopes">
              {scopes.map((s) => (
                <li class="chip chip-removable" key={s}>
                  {s}
                  <button type="button" aria-label={`Remove ${s}`} onClick={() => setScopes(scopes.filter((x) => x !== s))}>
                    <Icon name="x" size={12} />
                  </button>
                </li>
              ))}
            </ul>
          ) : null}
          {scopes.some((s) => s.endsWith(":*")) ? <Notice tone="warning">A * scope reaches every secret. Prefer a narrower path.</Notice> : null}
        </fieldset>
        <fieldset class="field">
          <legend class="field-label">Expires after</legend>
          <div class="segmented segmented-wrap" role="radiogroup" aria-label="Expires after">
            {EXPIRY.map((x) => (
              <button
                key={x.label}
                type="button"
                role="radio"
                aria-checked={expiry === x.value}
                class={expiry === x.value ? "active" : ""}
                data-testid={`expiry-${x.value ?? "never"}`}
                onClick={() => setExpiry(x.value)}
              >
                {x.label}
              </button>
            ))}
          </div>
          {expiry === null ? <p class="hint hint-warn">Keys that never expire are flagged on the Security Vault page.</p> : null}
        </fieldset>
        <div class="field">
          <label class="field-label" for="key-ips">
            IP allowlist <span class="optional">optional</span>
          </label>
          <input
            id="key-ips"
            data-testid="key-ip-allowlist"
            type="text"
            placeholder="10.0.0.0/8, 203.0.113.7/32"
            spellcheck={false}
            value={ips}
            onInput={(e) => setIps(e.currentTarget.value)}
          />
        </div>
        <ErrorNotice error={error} testid="create-key-error" />
        <div class="dialog-actions">
          <button type="button" class="button button-ghost" onClick={props.onClose}>
            Cancel
          </button>
          <button type="submit" class="button button-primary" data-testid="create-key-submit" disabled={busy || !name.trim() || scopes.length === 0}>
            {busy ? <span class="spinner" aria-hidden="true" /> : null}
            Create key
          </button>
        </div>
      </form>
    </Dialog>
  );
}

function ShowKeyDialog(props: { created: CreatedAgentKey; onClose: () => void }) {
  const k = props.created;
  return (
    <ShowOnceDialog
      title={`Key "${k.key.name}" created`}
      label="Agent key"
      value={k.secret}
      stored="I copied the key and stored it safely"
      fileName={`keyhold-key-${k.key.name.replace(/[^A-Za-z0-9_-]/gu, "-").slice(0, 40) || "agent"}.txt`}
      fileText={`${k.secret}\n`}
      onClose={props.onClose}
    />
  );
}

export function RevokeDialog(props: { k: AgentKeyView; onClose: (done: boolean) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  return (
    <Dialog title={`Revoke "${props.k.name}"?`} onRequestClose={() => props.onClose(false)} testid="revoke-dialog">
      <p>Agents using this key, and every token it issued, stop working at once. This cannot be undone.</p>
      <ErrorNotice error={error} />
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" onClick={() => props.onClose(false)}>
          Keep it
        </button>
        <button
          type="button"
          class="button button-danger"
          data-testid="confirm-revoke"
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              await call((c) => c.revokeKey(props.k.id));
              toast(`Key "${props.k.name}" revoked.`);
              props.onClose(true);
            } catch (e) {
              setError(toCommandError(e));
              setBusy(false);
            }
          }}
        >
          Revoke key
        </button>
      </div>
    </Dialog>
  );
}

/** A suspended key works again; the server asks for the sudo window, which `call` handles. */
function ReinstateButton(props: { k: AgentKeyView; onDone: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  return (
    <>
      <button
        type="button"
        class="button button-secondary button-small"
        data-testid={`reinstate-${props.k.id}`}
        disabled={busy}
        onClick={async () => {
          setBusy(true);
          setError(null);
          try {
            await call((c) => c.reinstateKey(props.k.id));
            toast(`Key "${props.k.name}" reinstated.`);
            props.onDone();
          } catch (e) {
            setError(toCommandError(e));
          } finally {
            setBusy(false);
          }
        }}
      >
        Reinstate
      </button>
      <ErrorNotice error={error} testid={`reinstate-error-${props.k.id}`} />
    </>
  );
}

function LeakedKeyCard(props: { serverUrl: string }) {
  const [secret, setSecret] = useState("");
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  return (
    <section class="card" aria-labelledby="leaked-title">
      <h2 class="card-title" id="leaked-title">
        <Icon name="ban" /> Revoke a leaked key
      </h2>
      <p class="muted">Found a Keyhold key in a log, a chat or a repository? Paste it here to kill it, whoever owns it.</p>
      <form
        class="inline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          setDone(false);
          try {
            await call((c) => c.revokeLeakedKey(props.serverUrl, secret));
            setSecret("");
            setDone(true);
          } catch (err) {
            setError(toCommandError(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        <label class="sr-only" for="leaked-key">
          Leaked key
        </label>
        <input
          id="leaked-key"
          data-testid="leaked-key-input"
          type="password"
          autocomplete="off"
          placeholder="kha_…"
          value={secret}
          onInput={(e) => setSecret(e.currentTarget.value)}
        />
        <button type="submit" class="button button-danger" data-testid="leaked-key-submit" disabled={busy || !secret.trim()}>
          Revoke
        </button>
      </form>
      {done ? (
        <Notice tone="success" testid="leaked-key-done">
          If that key existed, it is revoked now.
        </Notice>
      ) : null}
      <ErrorNotice error={error} testid="leaked-key-error" />
    </section>
  );
}
