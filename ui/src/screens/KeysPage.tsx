import { useEffect, useState } from "preact/hooks";
import type { AgentKeyView, CreatedAgentKey, RotatedAgentKey, SessionView } from "../bindings";
import { call } from "../api";
import { Icon } from "../components/Icon";
import { StatusBadge } from "../components/StatusBadge";
import { ErrorNotice, Notice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, notAfterNow, relativeTime } from "../lib/format";
import { KEY_FILTERS, filterKeys, filterShowing, keyStatus, scopeSummary, type KeyFilter, type KeyFocus } from "../lib/keys";
import { useCommand } from "../lib/useCommand";
import { CreateKeyDialog, ShowKeyDialog } from "./KeyCreateDialog";
import { KeyDetailsDialog } from "./KeyDetails";
import { EditKeyDialog, RevokeDialog, RotateKeyDialog, RotatedKeyDialog } from "./KeyDialogs";

export { keyStatus } from "../lib/keys";
export { RevokeDialog } from "./KeyDialogs";

/** Which dialog is up: the details of a key, or one of its actions (one at a time). */
type Open =
  | { kind: "details"; id: string }
  | { kind: "rotate" | "edit" | "revoke"; id: string }
  | { kind: "rotated"; id: string; rotated: RotatedAgentKey; revokedNow: boolean };

function shortDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "—" : d.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/**
 * The agent keys. `changes`: the alerts feed's counter; a suspension or reinstatement
 * reloads the list. `focus`: open on this key (highlighted, the filter that shows it, and
 * its details or the named dialog), as the Security Vault's recommendations do; the page
 * calls `onFocusDone` once it acted on it, so that coming back does not open it again.
 */
export function KeysPage(props: { session: SessionView; changes?: number; focus?: KeyFocus | null; onFocusDone?: () => void }) {
  const [tick, setTick] = useState(0);
  const keys = useCommand((c) => c.listKeys(), [props.changes ?? 0, tick]);
  const reload = () => setTick((t) => t + 1);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<CreatedAgentKey | null>(null);
  const [open, setOpen] = useState<Open | null>(null);
  const [version, setVersion] = useState(0);
  const [filter, setFilter] = useState<KeyFilter>("active");
  const [highlight, setHighlight] = useState<string | null>(null);
  const all = keys.data ?? [];
  const shown = filterKeys(all, filter);
  const openKey = open ? all.find((k) => k.id === open.id) : undefined;

  // A recommendation's key: show it, mark it, open what fixes it.
  useEffect(() => {
    const f = props.focus;
    if (!f || !keys.data) return;
    const k = keys.data.find((x) => x.id === f.id);
    if (k) {
      setFilter((cur) => filterShowing(k, cur));
      setHighlight(k.id);
      setOpen({ kind: k.revoked_at ? "details" : f.action === "details" ? "details" : f.action, id: k.id });
      requestAnimationFrame(() => document.querySelector(`[data-testid="key-row-${k.id}"]`)?.scrollIntoView({ block: "center" }));
    }
    props.onFocusDone?.();
  }, [props.focus, keys.data]);

  const changed = () => {
    setVersion((v) => v + 1);
    reload();
  };
  const back = (id: string) => setOpen({ kind: "details", id });

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

      {keys.data && keys.data.length > 0 ? (
        <FilterBar value={filter} onChange={setFilter} counts={{ active: filterKeys(all, "active").length, revoked: filterKeys(all, "revoked").length, all: all.length }} />
      ) : null}

      <section class="card card-flush">
        {keys.data && shown.length > 0 ? (
          <KeysTable keys={shown} highlight={highlight} onOpen={(k) => setOpen({ kind: "details", id: k.id })} />
        ) : keys.data && keys.data.length > 0 ? (
          <p class="muted pad" data-testid="keys-filter-empty">
            {filter === "revoked" ? "No revoked keys." : "No active keys. Revoked keys are under Revoked."}
          </p>
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
            reload();
          }}
        />
      ) : null}
      {created ? <ShowKeyDialog created={created} onClose={() => setCreated(null)} /> : null}
      {open?.kind === "details" && openKey ? (
        <KeyDetailsDialog k={openKey} version={version} onAction={(a) => setOpen({ kind: a, id: openKey.id })} onChanged={changed} onClose={() => setOpen(null)} />
      ) : null}
      {open?.kind === "rotate" && openKey ? (
        <RotateKeyDialog
          k={openKey}
          onClose={() => back(openKey.id)}
          onRotated={(r, overlap) => {
            reload();
            setHighlight(r.key.id);
            setOpen({ kind: "rotated", id: openKey.id, rotated: r, revokedNow: overlap === "0s" });
          }}
        />
      ) : null}
      {open?.kind === "rotated" ? <RotatedKeyDialog rotated={open.rotated} revokedNow={open.revokedNow} onClose={() => setOpen(null)} /> : null}
      {open?.kind === "edit" && openKey ? (
        <EditKeyDialog
          k={openKey}
          onClose={() => back(openKey.id)}
          onSaved={() => {
            changed();
            back(openKey.id);
          }}
        />
      ) : null}
      {open?.kind === "revoke" && openKey ? (
        <RevokeDialog
          k={openKey}
          onClose={(done) => {
            if (done) {
              changed();
              setOpen(null);
            } else back(openKey.id);
          }}
        />
      ) : null}
    </div>
  );
}

/** Active / Revoked / All: one radio group, arrow keys move the choice. */
function FilterBar(props: { value: KeyFilter; onChange: (f: KeyFilter) => void; counts: Record<KeyFilter, number> }) {
  const i = KEY_FILTERS.findIndex((f) => f.value === props.value);
  return (
    <div
      class="segmented"
      role="radiogroup"
      aria-label="Show keys"
      data-testid="keys-filter"
      onKeyDown={(e) => {
        const step = e.key === "ArrowRight" || e.key === "ArrowDown" ? 1 : e.key === "ArrowLeft" || e.key === "ArrowUp" ? -1 : 0;
        if (!step) return;
        e.preventDefault();
        const next = KEY_FILTERS[(i + step + KEY_FILTERS.length) % KEY_FILTERS.length]!;
        props.onChange(next.value);
        (e.currentTarget as HTMLElement).querySelector<HTMLElement>(`[data-testid="keys-filter-${next.value}"]`)?.focus();
      }}
    >
      {KEY_FILTERS.map((f) => (
        <button
          key={f.value}
          type="button"
          role="radio"
          aria-checked={props.value === f.value}
          tabIndex={props.value === f.value ? 0 : -1}
          class={props.value === f.value ? "active" : ""}
          data-testid={`keys-filter-${f.value}`}
          onClick={() => props.onChange(f.value)}
        >
          {f.label} <span class="count">{props.counts[f.value]}</span>
        </button>
      ))}
    </div>
  );
}

/**
 * Fits the window (1200 px wide, sidebar included): fixed column widths, long names and
 * scopes cut with an ellipsis (the whole text in the details), and one Details button per
 * row where every action lives.
 */
function KeysTable(props: { keys: AgentKeyView[]; highlight: string | null; onOpen: (k: AgentKeyView) => void }) {
  return (
    <div class="table-wrap" data-testid="keys-table-wrap">
      <table class="table keys-table" data-testid="keys-table">
        <colgroup>
          <col class="keys-col-name" />
          <col class="keys-col-scopes" />
          <col class="keys-col-expires" />
          <col class="keys-col-used" />
          <col class="keys-col-status" />
          <col class="keys-col-actions" />
        </colgroup>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Scopes</th>
            <th scope="col">Expires</th>
            <th scope="col">Last used</th>
            <th scope="col">Status</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {props.keys.map((k) => {
            const st = keyStatus(k);
            const sc = scopeSummary(k.scopes);
            return (
              <tr key={k.id} data-testid={`key-row-${k.id}`} class={props.highlight === k.id ? "row-selected" : undefined}>
                <td>
                  <span class="cell-clip strong" title={k.name}>
                    {k.name}
                  </span>
                  <code class="cell-clip key-prefix">{k.prefix}…</code>
                </td>
                <td title={k.scopes.join("\n")}>
                  <span class="scope-cell">
                    <span class="chip cell-clip">{sc.first}</span>
                    {sc.more > 0 ? <span class="scope-more">+{sc.more}</span> : null}
                  </span>
                </td>
                <td class="nowrap" title={k.expires_at ? formatDate(k.expires_at) : undefined}>
                  {k.expires_at ? shortDate(k.expires_at) : <span class="warn-text">Never</span>}
                </td>
                <td class="nowrap" title={[k.last_used_at ? formatDate(k.last_used_at) : "", k.last_used_ip ?? ""].filter(Boolean).join(" from ") || undefined}>
                  {relativeTime(k.last_used_at && notAfterNow(k.last_used_at))}
                </td>
                <td>
                  <StatusBadge tone={st.tone} label={st.word} testid={`key-status-${k.id}`} title={k.suspended_at && !k.revoked_at ? `Suspended ${formatDate(k.suspended_at)} by a detection rule` : undefined} />
                </td>
                <td class="row-actions">
                  <button type="button" class="button button-secondary button-small" data-testid={`key-details-${k.id}`} aria-label={`Details of ${k.name}`} onClick={() => props.onOpen(k)}>
                    Details
                  </button>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
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
