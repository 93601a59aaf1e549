//! Column values and row readers more than one area reads: times are stored as
//! microseconds since the epoch, and a user row is read by accounts, members and
//! invitations alike. Kept apart so those areas need not import each other.

use chrono::{DateTime, Utc};
use keyhold_core::api::Role;

use crate::store::UserRecord;

/// Times are stored as integer microseconds since the epoch: exact, sortable, and compared
/// in SQL without parsing.
pub(crate) fn us(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored time back; one outside chrono's range reads as the epoch rather than failing
/// the whole row.
pub(crate) fn from_us(v: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(v).unwrap_or_default()
}

/// The columns of a user row, in the order [`user_row`] reads them (also used to insert).
pub(crate) const USER_COLS: &str =
    "id, tenant_id, email, display_name, password_hash, password_zxcvbn,
    email_verified_at, mfa_enabled, role, created_at";

/// A user row; an unknown role reads as the least privileged one (`member`).
pub(crate) fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<UserRecord> {
    let role: String = r.get(8)?;
    Ok(UserRecord {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        email: r.get(2)?,
        display_name: r.get(3)?,
        password_hash: r.get(4)?,
        password_zxcvbn: r.get(5)?,
        email_verified_at: r.get::<_, Option<i64>>(6)?.map(from_us),
        mfa_enabled: r.get(7)?,
        role: Role::parse(&role).unwrap_or(Role::Member),
        created_at: from_us(r.get(9)?),
    })
}
