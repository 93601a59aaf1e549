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
