// The audit screen's filters as pure functions: who an actor id is, the day range the
// date fields mean, and the text search over loaded events.
import type { AgentKeyView, AuditEventView, MemberView } from "../bindings";

/** One choice of the actor filter: a person or an agent key, by name. */
export type ActorChoice = { id: string; label: string; kind: "person" | "agent" };

/** People first, then agent keys, each sorted by name; the ids are what the server filters on. */
export function actorChoices(members: MemberView[], keys: AgentKeyView[]): ActorChoice[] {
  const people = members.map((m) => ({ id: m.id, label: m.display_name ? `${m.display_name} (${m.email})` : m.email, kind: "person" as const }));
  const agents = keys.map((k) => ({ id: k.id, label: `${k.name} (agent key ${k.prefix})`, kind: "agent" as const }));
  const byLabel = (a: ActorChoice, b: ActorChoice) => a.label.localeCompare(b.label);
  return [...people.sort(byLabel), ...agents.sort(byLabel)];
}

/** The name to show for an actor: "You", a person's or key's name, else the kind and a short id. */
export function actorName(ev: Pick<AuditEventView, "actor_type" | "actor_id">, names: Map<string, string>, myId: string | null): string {
  if (myId && ev.actor_id === myId) return "You";
  const known = names.get(ev.actor_id);
  if (known) return known;
  const kind = ev.actor_type.replace(/_/gu, " ");
  return ev.actor_id ? `${kind} ${ev.actor_id.slice(0, 12)}` : kind;
}

/**
 * The server's `since`/`until` for the date fields (YYYY-MM-DD, in the person's own time
 * zone): from the start of the first day to the start of the day after the last, so "to
 * 4 Dec" includes all of 4 Dec. Blank fields are no bound.
 */
export function dayRange(from: string, to: string): { since: string | null; until: string | null } {
  const start = (day: string, plus: number): string | null => {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/u.exec(day);
    if (!m) return null;
    return new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + plus).toISOString();
  };
  return { since: start(from, 0), until: start(to, 1) };
}

/** Whether the range is usable: an end before the start is refused with words, not sent. */
export function rangeError(from: string, to: string): string | null {
  return from && to && to < from ? "The end date is before the start date." : null;
}

/** Case-insensitive search over what the table shows and the event's details. */
export function matchesText(ev: AuditEventView, actor: string, text: string): boolean {
  const q = text.trim().toLowerCase();
  if (!q) return true;
  return [ev.action, actor, ev.target ?? "", ev.outcome, ev.ip ?? "", ev.detail, ev.user_agent ?? ""].some((f) => f.toLowerCase().includes(q));
}
