// The approval inbox's state, kept current by the live feed (commands.watchApprovals).
// Pure functions so the merge rules are tested without a window.
import type { ApprovalFeedEvent, ApprovalView } from "../bindings";

/** A pending request this person can still decide: not their own agent's, not yet voted. */
export function waitingOn(a: ApprovalView, myId: string): boolean {
  return a.status === "pending" && a.owner_id !== myId && !a.approvals.some((v) => v.user_id === myId);
}

/** How many requests wait on this person: the navigation badge. */
export function pendingCount(list: ApprovalView[], myId: string): number {
  return list.filter((a) => waitingOn(a, myId)).length;
}

/**
 * The pending list after one feed event: a new or updated request replaces its old copy
 * (newest first), one that is no longer pending leaves. "connected" and "disconnected"
 * carry no request; the caller reloads the list on "connected".
 */
export function applyFeedEvent(list: ApprovalView[], ev: ApprovalFeedEvent): ApprovalView[] {
  const a = ev.approval;
  if (!a) return list;
  const rest = list.filter((x) => x.id !== a.id);
  if (a.status !== "pending") return rest;
  const at = list.findIndex((x) => x.id === a.id);
  if (at >= 0) {
    const next = list.slice();
    next[at] = a;
    return next;
  }
  return [a, ...rest];
}

/** "45 seconds", "10 minutes", "1 hour 30 minutes", "2 days": a setting's length in words. */
export function durationWords(secs: number): string {
  const units: [number, string][] = [
    [86400, "day"],
    [3600, "hour"],
    [60, "minute"],
  ];
  const parts: string[] = [];
  let rest = Math.max(0, Math.floor(secs));
  for (const [size, name] of units) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n} ${name}${n === 1 ? "" : "s"}`);
      rest -= n * size;
    }
    if (parts.length === 2) break;
  }
  if (parts.length === 0) return `${rest} second${rest === 1 ? "" : "s"}`;
  return parts.join(" ");
}

/**
 * What a yes gives, in one sentence, so an approver knows what they open and for how
 * long before voting: "Once approved, one read of prod/db opens for 1 hour, after a
 * delay of 10 minutes." A server that does not say (grant_ttl_secs 0) gets the plain form.
 */
export function grantWords(a: Pick<ApprovalView, "operation" | "to_tier" | "path" | "grant_ttl_secs" | "delay_secs">, opWords: string): string {
  const what = `one ${opWords} of ${a.path}`;
  const how = a.grant_ttl_secs > 0 ? ` opens for ${durationWords(a.grant_ttl_secs)}` : " opens";
  const delay = a.delay_secs > 0 ? `, after a delay of ${durationWords(a.delay_secs)}` : "";
  return `Once approved, ${what}${how}${delay}; it is used up by that one call.`;
}
