import type { ActorChoice } from "../lib/audit";

/** What the audit screen filters on: the server's filters plus a search over loaded events. */
export type AuditFilterState = { action: string; actor: string; from: string; to: string; text: string };

export const NO_FILTER: AuditFilterState = { action: "", actor: "", from: "", to: "", text: "" };

/**
 * The filter bar. Actions come from the server (what this log holds), actors by name
 * (people and agent keys; the server filters on their ids), days in the person's own
 * calendar. Every control has a visible label.
 */
export function AuditFilters(props: {
  value: AuditFilterState;
  actions: string[];
  actors: ActorChoice[];
  myId: string;
  rangeError: string | null;
  onChange: (next: AuditFilterState) => void;
}) {
  const v = props.value;
  const set = (patch: Partial<AuditFilterState>) => props.onChange({ ...v, ...patch });
  // A filter from before the list loaded (or an action gone from the list) stays choosable.
  const actions = v.action && !props.actions.includes(v.action) ? [v.action, ...props.actions] : props.actions;
  return (
    <div class="filters audit-filters" role="search" aria-label="Filter the audit log">
      <label class="filter-field">
        <span class="filter-label">Action</span>
        <select data-testid="audit-filter-action" value={v.action} onChange={(e) => set({ action: e.currentTarget.value })}>
          <option value="">All actions</option>
          {actions.map((a) => (
            <option key={a} value={a}>
              {a}
            </option>
          ))}
        </select>
      </label>
      <label class="filter-field">
        <span class="filter-label">Actor</span>
        <select data-testid="audit-filter-actor" value={v.actor} onChange={(e) => set({ actor: e.currentTarget.value })}>
          <option value="">Anyone</option>
          <option value={props.myId}>You</option>
          <optgroup label="People">
            {props.actors
              .filter((a) => a.kind === "person" && a.id !== props.myId)
              .map((a) => (
                <option key={a.id} value={a.id}>
                  {a.label}
                </option>
              ))}
          </optgroup>
          <optgroup label="Agent keys">
            {props.actors
              .filter((a) => a.kind === "agent")
              .map((a) => (
                <option key={a.id} value={a.id}>
                  {a.label}
                </option>
              ))}
          </optgroup>
        </select>
      </label>
      <label class="filter-field">
        <span class="filter-label">From</span>
        <input
          type="date"
          data-testid="audit-filter-from"
          value={v.from}
          aria-invalid={props.rangeError ? "true" : undefined}
          aria-describedby={props.rangeError ? "audit-range-error" : undefined}
          onChange={(e) => set({ from: e.currentTarget.value })}
        />
      </label>
      <label class="filter-field">
        <span class="filter-label">To</span>
        <input
          type="date"
          data-testid="audit-filter-to"
          value={v.to}
          aria-invalid={props.rangeError ? "true" : undefined}
          aria-describedby={props.rangeError ? "audit-range-error" : undefined}
          onChange={(e) => set({ to: e.currentTarget.value })}
        />
      </label>
      <label class="filter-field filter-grow">
        <span class="filter-label">Search</span>
        <input
          type="search"
          data-testid="audit-filter-text"
          placeholder="Target, IP, details…"
          value={v.text}
          onInput={(e) => set({ text: e.currentTarget.value })}
        />
      </label>
      {props.rangeError ? (
        <p id="audit-range-error" class="hint hint-error filter-error" data-testid="audit-range-error">
          {props.rangeError}
        </p>
      ) : null}
    </div>
  );
}
