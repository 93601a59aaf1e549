// The Secrets page's rules, as pure functions so they are tested without a window.
import type { ApprovalNeeded, ApprovalView } from "../bindings";

export const TIERS = ["standard", "sensitive", "critical"] as const;
export type Tier = (typeof TIERS)[number];

export const TYPES = ["generic", "api_key", "password", "url", "certificate"] as const;

const TYPE_WORDS: Record<string, string> = {
  generic: "Generic",
  api_key: "API key",
  password: "Password",
  url: "URL",
  certificate: "Certificate",
};

export function typeWord(kind: string): string {
  return TYPE_WORDS[kind] ?? kind;
}

export function tierRank(tier: string): number {
  const i = TIERS.indexOf(tier as Tier);
  return i < 0 ? 0 : i;
}

/** What a request asks to do, as a phrase: "read", "delete", "lower tier to standard". */
export function operationWords(operation: string | null | undefined, toTier?: string | null): string {
  switch (operation ?? "read") {
    case "read":
      return "read";
    case "delete":
      return "delete";
    case "lower_tier":
      return toTier ? `lower tier to ${toTier}` : "lower tier";
    case "agent_write":
      return "agent write";
    default:
      return (operation ?? "").replace(/_/gu, " ");
  }
}

/** "This needs 2 approvers; your team has 1." when the team is too small, else null. */
export function tooFewApprovers(required: number, eligible: number | null | undefined): string | null {
  if (eligible === null || eligible === undefined || eligible >= required) return null;
  const people = required === 1 ? "approver" : "approvers";
  return `This needs ${required} ${people}; your team has ${eligible}.`;
}

/** Where a request stands, as the page shows it. */
export type Phase = "pending" | "delay" | "ready" | "denied" | "expired" | "used";

/**
 * `approved` splits in two: still in the critical delay (by this computer's clock: the
 * server decides, so the page still lets the person try) or ready.
 */
export function phase(status: string, availableAt: string | null | undefined, now: Date = new Date()): Phase {
  switch (status) {
    case "approved": {
      const at = availableAt ? Date.parse(availableAt) : Number.NaN;
      return Number.isFinite(at) && at > now.getTime() ? "delay" : "ready";
    }
    case "denied":
    case "expired":
    case "used":
      return status;
    default:
      return "pending";
  }
}

/** What the progress line shows: the gate's body first, then each poll's fresher view. */
export interface Progress {
  id: string;
  status: string;
  votes: number;
  voters: string[];
  required: number;
  eligible: number | null;
  operation: string;
  availableAt: string | null;
}

export function progressOf(needed: ApprovalNeeded, view: ApprovalView | null): Progress {
  if (view) {
    return {
      id: view.id,
      status: view.status,
      votes: view.approvals.length,
      voters: view.approvals.map((v) => v.user),
      required: view.required_approvals,
      eligible: view.eligible_approvers ?? needed.eligible_approvers,
      operation: view.operation,
      availableAt: view.available_at,
    };
  }
  return {
    id: needed.approval_id,
    status: needed.status,
    votes: 0,
    voters: [],
    required: needed.required_approvals,
    eligible: needed.eligible_approvers,
    operation: needed.operation ?? "read",
    availableAt: needed.available_at,
  };
}

/** The folder part of a path, with its slash: "prod/db/password" → "prod/db/". */
export function folderOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i + 1);
}

/** A value shown masked: its length is not given away. */
export const MASK = "••••••••••••";
