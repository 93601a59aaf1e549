// One agent key in full: status, dates, usage from the audit log (requests, refusals,
// the addresses of the last 30 days), scopes and allowlist, and what can be done to it.
import type { AgentKeyView } from "../bindings";
import { Dialog } from "../components/Dialog";
import { ErrorNotice, Notice } from "../components/Notice";
import { StatusBadge } from "../components/StatusBadge";
import { formatDate, notAfterNow, relativeTime } from "../lib/format";
import { isSigningKey, keyStatus } from "../lib/keys";
import { useCommand } from "../lib/useCommand";
import { ReinstateButton } from "./KeyDialogs";

export type KeyDetailsAction = "rotate" | "edit" | "revoke";

export function KeyDetailsDialog(props: {
  k: AgentKeyView;
  /** Bumped after a change, so the details load again. */
  version: number;
  onAction: (a: KeyDetailsAction) => void;
  onChanged: () => void;
  onClose: () => void;
}) {
  const details = useCommand((c) => c.keyDetails(props.k.id), [props.k.id, props.version]);
  const k = details.data?.key ?? props.k;
  const st = keyStatus(k);
  const live = !k.revoked_at;
  const d = details.data;
  return (
    <Dialog title={`Key "${k.name}"`} description={`${k.prefix}… · ${st.word}`} onRequestClose={props.onClose} testid="key-details-dialog" wide>
      <dl class="facts facts-compact key-facts">
        <div>
          <dt>Status</dt>
          <dd>
            <StatusBadge tone={st.tone} label={st.word} testid="key-details-status" />
          </dd>
        </div>
        <div>
          <dt>Created</dt>
          <dd>{formatDate(k.created_at)}</dd>
        </div>
        <div>
          <dt>Expires</dt>
          <dd data-testid="key-details-expires">{k.expires_at ? formatDate(k.expires_at) : <span class="warn-text">Never</span>}</dd>
        </div>
        <div>
          <dt>Last used</dt>
          <dd title={k.last_used_at ? formatDate(k.last_used_at) : undefined}>
            {relativeTime(k.last_used_at && notAfterNow(k.last_used_at))}
            {k.last_used_ip ? <span class="muted"> from {k.last_used_ip}</span> : null}
          </dd>
        </div>
        {k.revoked_at ? (
          <div>
            <dt>Revoked</dt>
            <dd>{formatDate(k.revoked_at)}</dd>
          </div>
        ) : null}
        {k.suspended_at && !k.revoked_at ? (
          <div>
            <dt>Suspended by a detection rule</dt>
            <dd>{formatDate(k.suspended_at)}</dd>
          </div>
        ) : null}
      </dl>

      <h3 class="section-title">Use</h3>
      {d ? (
        <>
          <dl class="facts facts-compact key-usage" data-testid="key-usage">
            <div>
              <dt>Requests, last 24 hours</dt>
              <dd data-testid="key-usage-24h">{d.requests_24h}</dd>
            </div>
            <div>
              <dt>Requests, last 7 days</dt>
              <dd data-testid="key-usage-7d">{d.requests_7d}</dd>
            </div>
            <div>
              <dt>Refused, last 7 days</dt>
              <dd data-testid="key-usage-refused" class={d.refused_7d > 0 ? "warn-text" : undefined}>
                {d.refused_7d}
              </dd>
            </div>
          </dl>
          {d.recent_ips.length > 0 ? (
            <table class="table table-compact" data-testid="key-ips">
              <caption class="sr-only">Addresses this key was used from in the last 30 days</caption>
              <thead>
                <tr>
                  <th scope="col">Address</th>
                  <th scope="col">Last seen</th>
                  <th scope="col">Requests (30 days)</th>
                </tr>
              </thead>
              <tbody>
                {d.recent_ips.map((a) => (
                  <tr key={a.ip}>
                    <td class="mono-cell">{a.ip}</td>
                    <td title={formatDate(a.last_seen_at)}>{relativeTime(a.last_seen_at)}</td>
                    <td>{a.requests}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : (
            <p class="muted" data-testid="key-ips-none">
              Not used in the last 30 days.
            </p>
          )}
        </>
      ) : details.loading ? (
        <p class="muted">Loading use…</p>
      ) : (
        <ErrorNotice error={details.error} testid="key-details-error" />
      )}

      <h3 class="section-title">Scopes</h3>
      <ul class="chips" data-testid="key-details-scopes">
        {k.scopes.map((s) => (
          <li class="chip" key={s}>
            {s}
          </li>
        ))}
      </ul>
      <h3 class="section-title">IP allowlist</h3>
      {k.ip_allowlist.length > 0 ? (
        <ul class="chips" data-testid="key-details-allowlist">
          {k.ip_allowlist.map((n) => (
            <li class="chip" key={n}>
              {n}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted" data-testid="key-details-allowlist">
          Any address.
        </p>
      )}

      {live ? (
        <div class="key-danger">
          {k.suspended_at ? <ReinstateButton k={k} onDone={props.onChanged} /> : null}
          <button type="button" class="button button-danger-ghost button-small" data-testid={`revoke-${k.id}`} onClick={() => props.onAction("revoke")}>
            Revoke…
          </button>
        </div>
      ) : null}
      {live && isSigningKey(k) ? (
        <Notice tone="info">An Ed25519 key has no secret to replace: it rotates by adding a new public key, then retiring the old one (see the credentials guide).</Notice>
      ) : null}
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" data-testid="key-details-close" onClick={props.onClose}>
          Close
        </button>
        {live ? (
          <button type="button" class="button button-secondary" data-testid="key-edit" onClick={() => props.onAction("edit")}>
            Edit expiry and allowlist
          </button>
        ) : null}
        {live && !isSigningKey(k) ? (
          <button type="button" class="button button-primary" data-testid="key-rotate" onClick={() => props.onAction("rotate")}>
            Rotate…
          </button>
        ) : null}
      </div>
    </Dialog>
  );
}
