/**
 * Keyhold for TypeScript agents (Node >= 20, ESM, no runtime dependencies):
 * read secrets, issue scoped tokens, wait for approvals, sign with Ed25519 keys.
 */
export { Keyhold, USER_AGENT, clock } from "./client.js";
export type { KeyholdOptions, IssueTokenOptions, GetSecretOptions } from "./client.js";
export { SecretValue } from "./models.js";
export type { Secret, SecretSummary, IssuedToken, Approval } from "./models.js";
export { Ed25519Signer, contentDigest } from "./signing.js";
export * from "./errors.js";
export { VERSION } from "./version.js";
