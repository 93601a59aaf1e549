import { useEffect, useState } from "preact/hooks";
import type { ApprovalNeeded, SecretDetailsView } from "../bindings";
import { call } from "../api";
import { ApprovalProgress } from "../components/ApprovalProgress";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, notAfterNow, relativeTime } from "../lib/format";
import { MASK, typeWord } from "../lib/secrets";
import { useCommand } from "../lib/useCommand";
import { DeleteDialog, WriteDialog, type WriteMode } from "./SecretDialogs";

/**
 * Secrets: browse metadata by folder, write and rotate, change a tier, delete, and read a
 * value through the approval gate. Values stay in the app's Rust side until Reveal.
 */
export function SecretsPage() {
  const [prefix, setPrefix] = useState("");
  const [query, setQuery] = useState("");
  const list = useCommand((c) => c.listSecrets(query), [query]);
  const [selected, setSelected] = useState<string | null>(null);
  const [writing, setWriting] = useState<WriteMode | null>(null);
  const details = useCommand((c) => (selected ? c.secretDetails(selected) : Promise.resolve(null)), [selected]);

  // Browse as the folder is typed, a moment after the last key.
  useEffect(() => {
    const t = setTimeout(() => setQuery(prefix.trim()), 250);
    return () => clearTimeout(t);
  }, [prefix]);

  return (
    <div class="page" data-testid="secrets-page">
      <header class="page-header">
        <div>
          <h1>Secrets</h1>
          <p class="muted">Your team's secrets. Sensitive and critical values open only when enough people approve.</p>
        </div>
        <button type="button" class="button button-primary" data-testid="new-secret-button" onClick={() => setWriting("new")}>
          <Icon name="plus" />
          New secret
        </button>
      </header>
      <div class="filters">
        <label class="field-inline">
          <span>Folder</span>
          <input type="text" data-testid="secrets-prefix" placeholder="production/" spellcheck={false} value={prefix} onInput={(e) => setPrefix(e.currentTarget.value)} />
        </label>
      </div>
      <section class="card card-flush">
        {list.data && list.data.length > 0 ? (
          <div class="table-wrap">
            <table class="table" data-testid="secrets-table">
              <thead>
                <tr>
                  <th scope="col">Path</th>
                  <th scope="col">Type</th>
                  <th scope="col">Tier</th>
                  <th scope="col">Version</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {list.data.map((s) => (
                  <tr key={s.path} data-testid={`secret-row-${s.path}`} class={selected === s.path ? "row-selected" : ""}>
                    <td>
                      <button type="button" class="link-button mono" data-testid={`open-secret-${s.path}`} onClick={() => setSelected(s.path)}>
                        {s.path}
                      </button>
                    </td>
                    <td>{typeWord(s.kind)}</td>
                    <td>
                      <span class={`tier tier-${s.tier}`}>{s.tier}</span>
                    </td>
                    <td>v{s.current_version}</td>
                    <td title={formatDate(s.updated_at)}>{relativeTime(notAfterNow(s.updated_at))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : list.data ? (
          <div class="empty-state" data-testid="secrets-empty">
            <Icon name="lock" size={28} />
            <h2>{query ? `Nothing below ${query}` : "No secrets yet"}</h2>
            <p class="muted">Store an API key, a password or a certificate; agents read it with their keys.</p>
          </div>
        ) : list.loading ? (
          <p class="muted pad">Loading secrets…</p>
        ) : (
          <div class="pad">
            <ErrorNotice error={list.error} testid="secrets-error" />
          </div>
        )}
      </section>

      {selected ? (
        details.data ? (
          <SecretDetails key={`${details.data.path}@${details.data.current_version}`} d={details.data} onWrite={setWriting} onDeleted={() => {
            setSelected(null);
            list.reload();
          }} />
        ) : details.error ? (
          <ErrorNotice error={details.error} testid="secret-detail-error" />
        ) : null
      ) : null}

      {writing ? (
        <WriteDialog
          mode={writing}
          details={writing === "new" ? null : details.data}
          folder={query ? query.replace(/\/?$/u, "/") : ""}
          onClose={() => setWriting(null)}
          onWritten={(path) => {
            setWriting(null);
            list.reload();
            if (path === selected) details.reload();
            else setSelected(path);
          }}
        />
      ) : null}
    </div>
  );
}

function SecretDetails(props: { d: SecretDetailsView; onWrite: (m: WriteMode) => void; onDeleted: () => void }) {
  const d = props.d;
  const [deleting, setDeleting] = useState(false);
  return (
    <section class="card" data-testid="secret-detail" aria-labelledby="secret-detail-title">
      <div class="secret-head">
        <h2 class="card-title mono" id="secret-detail-title" data-testid="secret-detail-path">
          {d.path}
        </h2>
        <span class={`tier tier-${d.tier}`} data-testid="secret-detail-tier">
          {d.tier}
        </span>
      </div>
      <dl class="facts">
        <div>
          <dt>Type</dt>
          <dd>{typeWord(d.kind)}</dd>
        </div>
        <div>
          <dt>Current version</dt>
          <dd data-testid="secret-detail-version">v{d.current_version}</dd>
        </div>
        <div>
          <dt>Updated</dt>
          <dd title={formatDate(d.updated_at)}>{relativeTime(notAfterNow(d.updated_at))}</dd>
        </div>
      </dl>
      <div class="button-row">
        <button type="button" class="button button-secondary" data-testid="rotate-secret-button" onClick={() => props.onWrite("rotate")}>
          <Icon name="refresh" />
          New version
        </button>
        <button type="button" class="button button-secondary" data-testid="change-tier-button" onClick={() => props.onWrite("tier")}>
          <Icon name="shield" />
          Change tier
        </button>
        <button type="button" class="button button-danger-ghost" data-testid="delete-secret-button" onClick={() => setDeleting(true)}>
          Delete
        </button>
      </div>
      <SecretReader path={d.path} tier={d.tier} />
      <h3 class="section-title">Versions</h3>
      <table class="table" data-testid="secret-versions">
        <thead>
          <tr>
            <th scope="col">Version</th>
            <th scope="col">Written by</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {d.versions.map((v) => (
            <tr key={v.version} data-testid={`secret-version-${v.version}`}>
              <td>v{v.version}</td>
              <td title={v.created_by}>{v.author}</td>
              <td title={formatDate(v.created_at)}>{relativeTime(notAfterNow(v.created_at))}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {deleting ? <DeleteDialog details={d} onClose={() => setDeleting(false)} onDeleted={props.onDeleted} /> : null}
    </section>
  );
}

type Reading =
  | { step: "idle" }
  | { step: "approval"; needed: ApprovalNeeded }
  | { step: "opened"; version: number; shown: string | null };

/**
 * The value, once: a standard secret shows at once; a tiered one asks for approval,
 * follows it, and once granted opens masked until Reveal. Copy goes through Rust (the
 * clipboard is cleared after 30 s). Leaving the secret wipes the value here and in Rust.
 */
export function SecretReader(props: { path: string; tier: string }) {
  const [reading, setReading] = useState<Reading>({ step: "idle" });
  const [busy, setBusy] = useState(false);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);

  useEffect(
    () => () => {
      call((c) => c.forgetSecret()).catch(() => undefined);
    },
    [props.path],
  );

  async function read() {
    setBusy(true);
    setError(null);
    try {
      const out = await call((c) => c.readSecret(props.path));
      if (out.outcome === "approval_required") {
        setReading({ step: "approval", needed: out.approval });
      } else {
        // A standard secret is shown at once; a tiered one stays masked until Reveal.
        const shown = out.tier === "standard" ? await call((c) => c.revealSecret(props.path)) : null;
        setReading({ step: "opened", version: out.version, shown });
      }
    } catch (err) {
      setError(toCommandError(err));
    } finally {
      setBusy(false);
    }
  }

  async function reveal(show: boolean) {
    if (reading.step !== "opened") return;
    setError(null);
    try {
      const shown = show ? await call((c) => c.revealSecret(props.path)) : null;
      setReading({ ...reading, shown });
    } catch (err) {
      setError(toCommandError(err));
    }
  }

  return (
    <div class="secret-reader" data-testid="secret-reader">
      {reading.step === "idle" ? (
        <button type="button" class="button button-primary" data-testid="read-secret" disabled={busy} onClick={() => void read()}>
          {busy ? <span class="spinner" aria-hidden="true" /> : <Icon name="eye" />}
          {props.tier === "standard" ? "Show value" : "Request the value"}
        </button>
      ) : reading.step === "approval" ? (
        <ApprovalProgress needed={reading.needed} readyLabel="Show the value" busy={busy} autoReady onReady={() => void read()} />
      ) : (
        <div class="secret-opened">
          {props.tier !== "standard" ? (
            <Notice tone="warning">This approval allowed one read: the value is shown here until you leave this secret.</Notice>
          ) : null}
          <output class="secret-value" data-testid="secret-value" data-masked={reading.shown === null ? "true" : "false"}>
            {reading.shown ?? MASK}
          </output>
          <div class="button-row">
            <button type="button" class="button button-secondary" data-testid="reveal-secret" onClick={() => void reveal(reading.shown === null)}>
              <Icon name={reading.shown === null ? "eye" : "eyeOff"} />
              {reading.shown === null ? "Reveal" : "Hide"}
            </button>
            <button
              type="button"
              class="button button-secondary"
              data-testid="copy-secret"
              onClick={async () => {
                setError(null);
                try {
                  await call((c) => c.copySecret(props.path));
                  setCopied(true);
                } catch (err) {
                  setError(toCommandError(err));
                }
              }}
            >
              <Icon name={copied ? "check" : "copy"} />
              <span aria-live="polite">{copied ? "Copied" : "Copy"}</span>
            </button>
          </div>
          {copied ? (
            <p class="hint" data-testid="copy-done">
              Copied. Keyhold clears it from the clipboard in 30 seconds.
            </p>
          ) : null}
        </div>
      )}
      <ErrorNotice error={error} testid="secret-read-error" />
    </div>
  );
}
