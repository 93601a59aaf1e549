// The "New agent key" dialog and the one showing its secret once.
import { useEffect, useState } from "preact/hooks";
import type { CreatedAgentKey, ScopeCheck } from "../bindings";
import { call } from "../api";
import { Dialog } from "../components/Dialog";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { ShowOnceDialog } from "../components/ShowOnce";
import { toCommandError, type CommandError } from "../lib/errors";
import { keyFileName } from "../lib/keys";

const EXPIRY: { value: string | null; label: string }[] = [
  { value: "24h", label: "1 day" },
  { value: "168h", label: "7 days" },
  { value: "720h", label: "30 days" },
  { value: "2160h", label: "90 days" },
  { value: null, label: "Never" },
];

const ACTIONS = ["read", "write", "delete"] as const;

export function CreateKeyDialog(props: { onClose: () => void; onCreated: (k: CreatedAgentKey) => void }) {
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

export function ShowKeyDialog(props: { created: CreatedAgentKey; onClose: () => void }) {
  const k = props.created;
  return (
    <ShowOnceDialog
      title={`Key "${k.key.name}" created`}
      label="Agent key"
      value={k.secret}
      stored="I copied the key and stored it safely"
      fileName={keyFileName(k.key.name)}
      fileText={`${k.secret}\n`}
      onClose={props.onClose}
    />
  );
}

