//! How SQLite's errors become the store's: busy, unavailable (fail closed), a unique
//! violation (a conflict the caller names), or a stored value that does not parse back.
//! Shared by every area, so it depends on none of them.

use crate::store::StoreError;

/// Errors that say the database cannot be written now rather than that the request was
/// wrong: busy or locked, disk full, read-only, an I/O failure.
pub(crate) fn is_unavailable(e: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode as C;
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if matches!(
        f.code,
        C::DatabaseBusy
            | C::DatabaseLocked
            | C::DiskFull
            | C::ReadOnly
            | C::SystemIoFailure
            | C::CannotOpen
    ))
}

/// Busy or locked becomes [`StoreError::Busy`] (worth a retry), a database that cannot
/// write [`StoreError::Unavailable`] (callers fail closed), anything else an internal error.
pub(crate) fn map_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, _) = &e
        && matches!(
            f.code,
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
        )
    {
        return StoreError::Busy;
    }
    if is_unavailable(&e) {
        return StoreError::Unavailable;
    }
    StoreError::Other(anyhow::Error::new(e))
}

/// A write that hit a unique or primary key: each caller turns it into the
/// [`crate::store::Conflict`] it means (an email taken, a vote already cast).
pub(crate) fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
            || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY)
}

/// A stored value that does not parse back (a tier, a status, a path...).
pub(super) fn bad(what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("stored {what} is not valid").into(),
    )
}
