//! How PostgreSQL's errors become the store's: a lost race worth a retry (`Busy`), a
//! database that cannot take the work (`Unavailable`: callers fail closed), a unique
//! violation (a conflict the caller names), or an internal error. Shared by every area.

use tokio_postgres::error::SqlState;

use crate::store::StoreError;

/// Deadlocks, serialization failures and lock timeouts become [`StoreError::Busy`]; a lost
/// or refused connection, a read-only standby, a full disk or a shutting-down server
/// [`StoreError::Unavailable`]; anything else an internal error.
pub(crate) fn map_err(e: tokio_postgres::Error) -> StoreError {
    match e.code() {
        Some(c) if is_busy(c) => StoreError::Busy,
        Some(c) if is_unavailable(c) => StoreError::Unavailable,
        None if e.is_closed() || io_failure(&e) => StoreError::Unavailable,
        _ => StoreError::Other(anyhow::Error::new(e)),
    }
}

fn is_busy(c: &SqlState) -> bool {
    [
        SqlState::T_R_DEADLOCK_DETECTED,
        SqlState::T_R_SERIALIZATION_FAILURE,
        SqlState::LOCK_NOT_AVAILABLE,
        SqlState::QUERY_CANCELED,
    ]
    .contains(c)
}

fn is_unavailable(c: &SqlState) -> bool {
    [
        SqlState::READ_ONLY_SQL_TRANSACTION,
        SqlState::DISK_FULL,
        SqlState::OUT_OF_MEMORY,
        SqlState::TOO_MANY_CONNECTIONS,
        SqlState::ADMIN_SHUTDOWN,
        SqlState::CRASH_SHUTDOWN,
        SqlState::CANNOT_CONNECT_NOW,
        SqlState::CONNECTION_FAILURE,
        SqlState::CONNECTION_EXCEPTION,
    ]
    .contains(c)
}

/// No SQL state: the error came from the connection itself (I/O, TLS, a closed socket).
fn io_failure(e: &tokio_postgres::Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>())
}

/// A pooled connection could not be had: the database is unreachable or every
/// connection is busy for longer than the pool waits.
pub(crate) fn map_pool_err(e: deadpool_postgres::PoolError) -> StoreError {
    match e {
        deadpool_postgres::PoolError::Backend(e) => map_err(e),
        deadpool_postgres::PoolError::Timeout(_) => StoreError::Busy,
        _ => StoreError::Unavailable,
    }
}

/// A write that hit a unique or primary key: each caller turns it into the
/// [`crate::store::Conflict`] it means.
pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&SqlState::UNIQUE_VIOLATION)
}

/// A stored value that does not parse back (a tier, a status, a path...).
pub(crate) fn bad(what: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("stored {what} is not valid"))
}
