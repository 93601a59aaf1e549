import { Channel } from "@tauri-apps/api/core";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { AuditChainView, AuditEventView, AuditFilter, ExportProgress } from "../bindings";
import { call } from "../api";
import { AuditEventDialog } from "../components/AuditEventDialog";
import { AuditFilters, NO_FILTER, type AuditFilterState } from "../components/AuditFilters";
import { Icon } from "../components/Icon";
import { ErrorNotice, Notice } from "../components/Notice";
import { actorChoices, actorName, dayRange, matchesText, rangeError, type ActorChoice } from "../lib/audit";
import { toCommandError, type CommandError } from "../lib/errors";
import { formatDate, shortenIds } from "../lib/format";
import { toast } from "../lib/toast";
import { StatusBadge } from "../components/StatusBadge";

/** The server's filter for the screen's: the date fields become a half-open range. */
function serverFilter(f: AuditFilterState): AuditFilter {
  const { since, until } = dayRange(f.from, f.to);
  return { action: f.action || null, actor: f.actor || null, since, until };
}

export function AuditPage(props: { myId: string }) {
  const [filter, setFilter] = useState<AuditFilterState>(NO_FILTER);
  const [actions, setActions] = useState<string[]>([]);
  const [actors, setActors] = useState<ActorChoice[]>([]);
  const [items, setItems] = useState<AuditEventView[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [done, setDone] = useState(false);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<CommandError | null>(null);
  const [exported, setExported] = useState<string | null>(null);
  const [progress, setProgress] = useState<ExportProgress | null>(null);
  const [chain, setChain] = useState<AuditChainView | "checking" | null>(null);
  const [open, setOpen] = useState<AuditEventView | null>(null);
  const sentinel = useRef<HTMLDivElement>(null);
  const badRange = rangeError(filter.from, filter.to);

  // The action list and the actor names: what the log holds and who is in the team.
  // Either may be refused (a member sees no team list); the filter then offers less.
  useEffect(() => {
    call((c) => c.auditActions()).then(setActions, () => setActions([]));
    Promise.all([call((c) => c.listMembers()).catch(() => []), call((c) => c.listKeys()).catch(() => [])]).then(([m, k]) => setActors(actorChoices(m, k)));
  }, []);
  const names = useMemo(() => new Map(actors.map((a) => [a.id, a.label])), [actors]);

  // Each load is numbered: when filters change quickly, an older answer arriving late
  // must not replace the newer one's rows.
  const generation = useRef(0);

  async function load(reset: boolean) {
    if (badRange) return;
    const mine = ++generation.current;
    setLoading(true);
    setError(null);
    try {
      const page = await call((c) => c.auditEvents(serverFilter(filter), reset ? null : cursor));
      if (mine !== generation.current) return;
      setItems(reset ? page.items : [...items, ...page.items]);
      setCursor(page.next_cursor);
      setDone(page.next_cursor === null);
    } catch (e) {
      if (mine !== generation.current) return;
      setError(toCommandError(e));
      setDone(true);
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }

  useEffect(() => {
    setItems([]);
    setCursor(null);
    setDone(false);
    setExported(null);
    void load(true);
  }, [filter.action, filter.actor, filter.from, filter.to]);

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

  /** Export what the screen shows (the server-side filters), with the events counted as they arrive. */
  async function exportAs(format: "csv" | "json") {
    setExported(null);
    setError(null);
    setProgress({ events: 0, bytes: 0 });
    const channel = new Channel<ExportProgress>();
    channel.onmessage = (p) => setProgress(p);
    try {
      const f = await call((c) => c.exportAudit(format, serverFilter(filter), channel));
      setExported(f.path);
      toast("Audit log exported");
    } catch (e) {
      setError(toCommandError(e));
    } finally {
      setProgress(null);
    }
  }

  async function verify() {
    setChain("checking");
    setError(null);
    try {
      setChain(await call((c) => c.verifyAudit()));
    } catch (e) {
      setChain(null);
      setError(toCommandError(e));
    }
  }

  const shown = items.filter((ev) => matchesText(ev, actorName(ev, names, props.myId), filter.text));

  return (
    <div class="page" data-testid="audit-page">
      <header class="page-header">
        <div>
          <h1>Audit log</h1>
          <p class="muted">Every security-relevant action, hash-chained so tampering shows.</p>
        </div>
        <div class="button-row">
          <button type="button" class="button button-secondary" data-testid="audit-verify" disabled={chain === "checking"} onClick={verify}>
            <Icon name="shield" /> Verify chain
          </button>
          <button type="button" class="button button-secondary" data-testid="audit-export-csv" disabled={progress !== null || !!badRange} title="Export the events these filters select" onClick={() => exportAs("csv")}>
            <Icon name="download" /> Export CSV
          </button>
          <button type="button" class="button button-secondary" data-testid="audit-export-json" disabled={progress !== null || !!badRange} title="Export the events these filters select" onClick={() => exportAs("json")}>
            <Icon name="download" /> Export JSON
          </button>
        </div>
      </header>
      <AuditFilters value={filter} actions={actions} actors={actors} myId={props.myId} rangeError={badRange} onChange={setFilter} />
      {progress ? (
        <div class="export-progress" role="status" data-testid="audit-export-progress">
          <progress aria-label="Export progress" />
          <span>Exporting… {progress.events.toLocaleString()} events</span>
        </div>
      ) : null}
      {exported ? (
        <Notice tone="success" testid="audit-exported">
          Saved to <code>{exported}</code>
        </Notice>
      ) : null}
      {chain === "checking" ? (
        <Notice tone="pending" testid="audit-chain">
          Checking the chain…
        </Notice>
      ) : chain ? (
        <Notice tone={chain.ok ? "success" : "danger"} title={chain.ok ? "Chain intact" : "Chain broken"} testid="audit-chain">
          {chain.ok
            ? `All ${chain.checked.toLocaleString()} events follow each other: nothing was edited or removed.`
            : `Event ${chain.first_bad ?? "?"} does not follow the one before it: the log was changed outside Keyhold (${chain.checked.toLocaleString()} events checked).`}
        </Notice>
      ) : null}
      <section class="card card-flush">
        {shown.length > 0 ? (
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
                {shown.map((ev) => (
                  <tr key={ev.id} data-testid={`audit-row-${ev.id}`}>
                    <td class="nowrap">
                      <button type="button" class="link-button" data-testid={`audit-open-${ev.id}`} onClick={() => setOpen(ev)}>
                        {formatDate(ev.at)}
                      </button>
                    </td>
                    <td>
                      <code>{ev.action}</code>
                    </td>
                    <td title={`${ev.actor_type} ${ev.actor_id}`}>{actorName(ev, names, props.myId)}</td>
                    <td title={ev.target ?? undefined} class="mono-cell">
                      {ev.target ? shortenIds(ev.target) : "—"}
                    </td>
                    <td>
                      <StatusBadge tone={ev.outcome === "success" ? "good" : "bad"} label={ev.outcome} />
                    </td>
                    <td>{ev.ip ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : !loading && !error ? (
          <div class="empty-state" data-testid="audit-empty">
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
      {open ? <AuditEventDialog ev={open} actor={actorName(open, names, props.myId)} onClose={() => setOpen(null)} /> : null}
    </div>
  );
}
