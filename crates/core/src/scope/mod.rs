//! Scopes: what an agent key or scoped token may do, and to which secrets.
//!
//! Grammar: `secrets:<read|write|delete>:<pattern>`, where the pattern is an exact path
//! (`production/stripe/KEY`), a folder followed by `/*` (every path strictly below the
//! folder, not the folder itself), or `*` (every path). Nothing else: no `*` inside a
//! segment, no `**`, no trailing `/`. Keeping the pattern language this small is what makes
//! [`Scope::is_subset_of`] exact set inclusion rather than a heuristic, and a token can
//! never be issued with more than its key holds.
//!
//! Actions are independent: `write` does not imply `read`.
//!
//! Split by job: `syntax` reads and writes scopes (the grammar, `Display`, serde, the
//! OpenAPI schema), `reach` answers what they reach (matching, subset, environments).
//! Everything public is re-exported here, so callers keep using `keyhold_core::scope::…`.

mod reach;
mod syntax;
#[cfg(test)]
mod test_support;

pub use reach::{any_allows, environments, is_cross_environment, scopes_subset};
pub use syntax::{Action, PATTERN, Pattern, Scope, ScopeError};
