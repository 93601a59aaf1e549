/**
 * Typed errors for the contract's error bodies (`{"error": {"code", "message", ...extra}}`).
 * Each code has its own class, so callers can `instanceof ApprovalRequired` instead of
 * comparing strings; every error still carries `code`, `status` and the extra `details`.
 */

export type Details = Record<string, unknown>;

export class KeyholdError extends Error {
  /** The contract's error code (`not_found`, `approval_required`, ...). */
  readonly code: string;
  /** The HTTP status, when the server answered. */
  readonly httpStatus: number | undefined;
  /** The error object's extra fields (`approval_id`, `field`, `retry_after`, ...). */
  readonly details: Details;

  constructor(message: string, code: string, httpStatus?: number, details: Details = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = httpStatus;
    this.details = details;
  }
}

export class InvalidRequest extends KeyholdError {}
/** The credential is missing, wrong, expired or revoked. */
export class Unauthenticated extends KeyholdError {}
export class MfaRequired extends KeyholdError {}
export class ReauthRequired extends KeyholdError {}
/** The credential stands but may not do this (scope, IP allowlist, role). */
export class Forbidden extends KeyholdError {}
export class NotFound extends KeyholdError {}
export class Conflict extends KeyholdError {}
export class PayloadTooLarge extends KeyholdError {}
export class Unavailable extends KeyholdError {}
export class InternalError extends KeyholdError {}
/** The server could not be reached or the connection broke (no HTTP answer). */
export class ConnectionFailed extends KeyholdError {}
/** An approver denied the request. */
export class ApprovalDenied extends KeyholdError {}
/** The request expired, was voided, or its grant was used before the wait ended. */
export class ApprovalExpired extends KeyholdError {}
/** `waitForApproval` gave up: the request is still pending. */
export class ApprovalTimeout extends KeyholdError {}

export class RateLimited extends KeyholdError {
  /** Seconds to wait, from `Retry-After` or the body. */
  get retryAfter(): number | undefined {
    const v = this.details["retry_after"];
    return typeof v === "number" ? v : undefined;
  }
}

/**
 * A gated operation: a person must approve request `approvalId` first. Wait with
 * `waitForApproval(err.approvalId, timeout)` and repeat the call, or use
 * `getSecret(path, { wait })`.
 */
export class ApprovalRequired extends KeyholdError {
  readonly approvalId: string;
  readonly requiredApprovals: number;
  readonly eligibleApprovers: number | undefined;
  /** The request's status: `pending`, or `approved` while a critical request's delay runs. */
  readonly status: string;
  readonly operation: string;
  readonly availableAt: Date | undefined;

  constructor(message: string, code: string, httpStatus?: number, details: Details = {}) {
    super(message, code, httpStatus, details);
    this.approvalId = String(details["approval_id"] ?? "");
    this.requiredApprovals = Number(details["required_approvals"] ?? 0);
    const eligible = details["eligible_approvers"];
    this.eligibleApprovers = typeof eligible === "number" ? eligible : undefined;
    this.status = String(details["status"] ?? "pending");
    this.operation = String(details["operation"] ?? "read");
    const at = details["available_at"];
    this.availableAt = typeof at === "string" ? new Date(at) : undefined;
  }
}

type ErrorClass = new (message: string, code: string, httpStatus?: number, details?: Details) => KeyholdError;

const BY_CODE: Record<string, ErrorClass> = {
  invalid_request: InvalidRequest,
  unauthenticated: Unauthenticated,
  mfa_required: MfaRequired,
  reauth_required: ReauthRequired,
  forbidden: Forbidden,
  approval_required: ApprovalRequired,
  not_found: NotFound,
  conflict: Conflict,
  payload_too_large: PayloadTooLarge,
  rate_limited: RateLimited,
  unavailable: Unavailable,
  internal: InternalError,
};

const BY_STATUS: Record<number, [ErrorClass, string]> = {
  400: [InvalidRequest, "invalid_request"],
  401: [Unauthenticated, "unauthenticated"],
  403: [Forbidden, "forbidden"],
  404: [NotFound, "not_found"],
  409: [Conflict, "conflict"],
  413: [PayloadTooLarge, "payload_too_large"],
  422: [InvalidRequest, "invalid_request"],
  429: [RateLimited, "rate_limited"],
  503: [Unavailable, "unavailable"],
};

/** The error for an answer with status >= 400: by its `code`, else by its status. */
export function errorFromBody(status: number, body: unknown, retryAfter: string | null): KeyholdError {
  const err =
    body && typeof body === "object" && "error" in body ? (body as { error: unknown }).error : undefined;
  let code = "";
  let message = `HTTP ${status} without an error body`;
  const details: Details = {};
  if (err && typeof err === "object" && typeof (err as Details)["code"] === "string") {
    for (const [k, v] of Object.entries(err as Details)) {
      if (k === "code") code = String(v);
      else if (k === "message") message = String(v);
      else details[k] = v;
    }
  }
  if (retryAfter !== null && details["retry_after"] === undefined && /^\d+$/.test(retryAfter)) {
    details["retry_after"] = Number(retryAfter);
  }
  const byCode = BY_CODE[code];
  if (byCode) return new byCode(message, code, status, details);
  const byStatus = BY_STATUS[status];
  if (byStatus) return new byStatus[0](message, code || byStatus[1], status, details);
  return status >= 500
    ? new InternalError(message, code || "internal", status, details)
    : new KeyholdError(message, code || "unknown", status, details);
}
