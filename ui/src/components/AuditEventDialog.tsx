import type { AuditEventView } from "../bindings";
import { formatDate } from "../lib/format";
import { Dialog } from "./Dialog";

/** The details of one event: everything the row leaves out (client, details, severity). */
export function AuditEventDialog(props: { ev: AuditEventView; actor: string; onClose: () => void }) {
  const ev = props.ev;
  let detail = ev.detail;
  try {
    detail = JSON.stringify(JSON.parse(ev.detail), null, 2);
  } catch {
    // Shown as the server sent it.
  }
  const rows: [string, string][] = [
    ["Time", formatDate(ev.at)],
    ["Action", ev.action],
    ["Actor", `${props.actor} (${ev.actor_type}${ev.actor_id ? ` ${ev.actor_id}` : ""})`],
    ["Target", ev.target ?? "—"],
    ["Outcome", ev.outcome],
    ["Severity", ev.severity],
    ["IP address", ev.ip ?? "—"],
    ["Client", ev.user_agent ?? "—"],
    ["Event id", ev.id],
  ];
  return (
    <Dialog title={ev.action} description={`Event ${ev.id}, ${formatDate(ev.at)}`} onRequestClose={props.onClose} testid="audit-event-dialog" wide>
      <dl class="decide-facts audit-facts" data-testid="audit-event-facts">
        {rows.map(([k, v]) => (
          <div key={k}>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </div>
        ))}
      </dl>
      <h3 class="decide-subhead">Details</h3>
      <pre class="audit-detail" data-testid="audit-event-detail" tabIndex={0}>
        {detail}
      </pre>
      <div class="dialog-actions">
        <button type="button" class="button button-ghost" data-testid="audit-event-close" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
