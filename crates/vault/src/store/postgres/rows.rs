//! Conversions more than one area needs: counters stored as bigint for the records' u32,
//! JSON columns, and the user row that accounts, members and invitations all read.

use keyhold_core::api::Role;
use tokio_postgres::Row;

use super::errors::bad;
use super::tx::{Tx, exec_unique};
use crate::store::{Conflict, StoreError, StoreResult, UserRecord};

/// A stored counter back into the record's u32; out of range is a bad row, never a wrap.
pub(crate) fn to_u32(v: i64, what: &str) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| bad(what))
}

/// A JSON column's value from a record (jsonb is bound as `serde_json::Value`).
pub(crate) fn to_json<T: serde::Serialize>(v: &T) -> StoreResult<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| StoreError::Other(e.into()))
}

/// A JSON column back into a record's type.
pub(crate) fn from_json<T: serde::de::DeserializeOwned>(
    v: serde_json::Value,
    what: &str,
) -> StoreResult<T> {
    serde_json::from_value(v).map_err(|_| bad(what))
}

/// The columns of a user row, in the order [`user_row`] reads them (also used to insert).
pub(crate) const USER_COLS: &str = "id, tenant_id, email, display_name, password_hash,
    password_zxcvbn, email_verified_at, mfa_enabled, role, created_at";

/// Insert `user` in a transaction acting for its tenant: sign-up and accepting an
/// invitation. An email any account has already is `Conflict::EmailTaken`.
pub(crate) async fn insert_user(tx: &Tx<'_>, user: &UserRecord) -> StoreResult<()> {
    exec_unique(
        tx,
        &format!(
            "INSERT INTO users ({USER_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
        ),
        &[
            &user.id,
            &user.tenant_id,
            &user.email,
            &user.display_name,
            &user.password_hash,
            &i16::from(user.password_zxcvbn),
            &user.email_verified_at,
            &user.mfa_enabled,
            &user.role.as_str(),
            &user.created_at,
        ],
        Conflict::EmailTaken,
    )
    .await?;
    Ok(())
}

/// A user row; an unknown role reads as the least privileged one (`member`).
pub(crate) fn user_row(r: &Row) -> StoreResult<UserRecord> {
    let role: String = col(r, 8, "user")?;
    Ok(UserRecord {
        id: col(r, 0, "user")?,
        tenant_id: col(r, 1, "user")?,
        email: col(r, 2, "user")?,
        display_name: col(r, 3, "user")?,
        password_hash: col(r, 4, "user")?,
        password_zxcvbn: u8::try_from(col::<i16>(r, 5, "user")?).map_err(|_| bad("user"))?,
        email_verified_at: col(r, 6, "user")?,
        mfa_enabled: col(r, 7, "user")?,
        role: Role::parse(&role).unwrap_or(Role::Member),
        created_at: col(r, 9, "user")?,
    })
}

/// Column `i` of a row, a wrong type being a bad row of `what` rather than a panic
/// (`Row::get` panics).
pub(crate) fn col<'a, T: tokio_postgres::types::FromSql<'a>>(
    r: &'a Row,
    i: usize,
    what: &str,
) -> StoreResult<T> {
    r.try_get(i).map_err(|_| bad(what))
}
