import { useEffect, useRef, useState } from "preact/hooks";
import type { AuditEventView, AuditFilter } from "../bindings";
import { call } from "../api";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { toCommandError, type CommandError } from "../lib/errors";
import { actorLabel, formatDate, shortenIds } from "../lib/format";

const ACTIONS = [
  "auth.login",
  "auth.logout",
  "auth.mfa",
  "password.changed",
  "email.verified",
  "mfa.enabled",
  "mfa.disabled",
  "mfa.backup_codes",
  "key.created",
  "key.revoked",
  "token.issued",
  "token.revoked",
  "secret.read",
  "secret.write",
  "secret.delete",
  "approval.requested",
  "approval.approved",
  "approval.denied",
  "approval.expired",
  "kek.rotated",
];

export function AuditPage(props: { myId: string }) {
  const [filter, setFilter] = useState<AuditFilter>({ action: null, actor: null, since: null, until: null });
  const [items, setItems] = useState<AuditEventView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);

  async function load(reset: boolean) {
    setLoading(true);
    setError(null);
    try {
      const page = await call((c) => c.auditEvents(filter, reset ? null : cursor));
      setItems(reset ? page.items : [...items, ...page.items]);
      setCursor(page.next_cursor);
      setDone(page.next_cursor === null);
    } catch (e) {
      setError(toCommandError(e));
      setDone(true);
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    setItems([]);
    setCursor(null);
    setDone(false);
    void load(true);
  }, [filter.action, filter.actor]);

  // Infinite scroll: load the next page when the end of the table comes into view.
  useEffect(() => {
    const el = sentinel.current;
    if (!el || done) return;
    const io = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && !loading && !done) void load(false);
    });
    io.observe(el);
    return () => io.disconnect();
  }, [cursor, done, loading]);

  async function exportAs(format: "csv" | "json") {
    setExported(null);
    setError(null);
    try {
      const f = await call((c) => c.exportAudit(format));
      setExported(f.path);
    } catch (e) {
      setError(toCommandError(e));
    }
  }

  return (
    <div class="page" data-testid="audit-page">
      <header class="page-header">
        <div>
          <h1>Audit log</h1>
          <p class="muted">Every security-relevant action, hash-chained so tampering shows.</p>
        </div>
        <div class="button-row">
          <button type="button" class="button button-secondary" data-testid="audit-export-csv" onClick={() => exportAs("csv")}>
            <Icon name="download" /> CSV
          </button>
          <button type="button" class="button button-secondary" data-testid="audit-export-json" onClick={() => exportAs("json")}>
            <Icon name="download" /> JSON
          </button>
        </div>
      </header>
      <div class="filters" role="search">
        <label class="field-inline">
          <Icon name="filter" size={16} />
          <span class="sr-only">Action</span>
          <select data-testid="audit-filter-action" value={filter.action ?? ""} onChange={(e) => setFilter({ ...filter, action: e.currentTarget.value || null })}>
            <option value="">All actions</option>
            {ACTIONS.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </label>
        <label class="field-inline">
          <span class="sr-only">Actor</span>
          <input
            type="search"
            placeholder="Actor id"
            data-testid="audit-filter-actor"
            value={filter.actor ?? ""}
            onChange={(e) => setFilter({ ...filter, actor: e.currentTarget.value.trim() || null })}
          />
        </label>
      </div>
      {exported ? (
        <Notice tone="success" testid="audit-exported">
          Saved to <code>{exported}</code>
        </Notice>
      ) : null}
      <section class="card card-flush">
        {items.length > 0 ? (
          <div class="table-wrap">
            <table class="table" data-testid="audit-table">
              <thead>
                <tr>
                  <th scope="col">Time</th>
                  <th scope="col">Action</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Target</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">IP</th>
                </tr>
              </thead>
              <tbody>
                {items.map((ev) => (
                  <tr key={ev.id}>
                    <td class="nowrap">{formatDate(ev.at)}</td>
                    <td>
                      <code>{ev.action}</code>
                    </td>
                    <td title={`${ev.actor_type} ${ev.actor_id}`}>{actorLabel(ev.actor_type, ev.actor_id, props.myId)}</td>
                    <td title={ev.target ?? undefined} class="mono-cell">
                      {ev.target ? shortenIds(ev.target) : "—"}
                    </td>
                    <td>
                      <span class={`pill ${ev.outcome === "success" ? "pill-good" : "pill-bad"}`}>{ev.outcome}</span>
                    </td>
                    <td>{ev.ip ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : !loading && !error ? (
          <div class="empty-state">
            <Icon name="list" size={28} />
            <h2>No events</h2>
            <p class="muted">Nothing matches these filters.</p>
          </div>
        ) : null}
        <div ref={sentinel} class="sentinel" aria-hidden="true" />
        {loading ? <p class="muted pad">Loading…</p> : null}
        {error ? (
          <div class="pad">
            <ErrorNotice error={error} testid="audit-error" />
          </div>
        ) : null}
      </section>
    </div>
  );
}
