//! [`MemberStore`] on SQLite: the member list, roles, and removal (which ends the
//! member's sessions, revokes their keys and voids the invitations they sent).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use keyhold_core::api::Role;
use rusqlite::params;

use super::connection::SqliteStore;
use super::errors::map_err;
use super::grants::requeue_short;
use super::invitations::{void_sent, voided_event};
use super::rows::{USER_COLS, us, user_row};
use crate::store::event::NewEvent;
use crate::store::{Conflict, MemberStore, StoreError, StoreResult, UserRecord};

#[async_trait]
impl MemberStore for SqliteStore {
    async fn members(&self, tenant_id: &str) -> StoreResult<Vec<UserRecord>> {
        let t = tenant_id.to_owned();
        self.run(move |c| {
            c.prepare_cached(&format!(
                "SELECT {USER_COLS} FROM users WHERE tenant_id = ?1 AND removed_at IS NULL
                 ORDER BY created_at, id"
            ))
            .and_then(|mut s| {
                s.query_map([t], user_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .map_err(map_err)
        })
        .await
    }

    async fn set_role(
        &self,
        tenant_id: &str,
        user_id: &str,
        role: Role,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.write(event, move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET role = ?3 WHERE tenant_id = ?1 AND id = ?2 AND removed_at IS NULL",
                    params![t, u, role.as_str()],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::NotFound);
            }
            let owners: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM users
                     WHERE tenant_id = ?1 AND role = 'owner' AND removed_at IS NULL",
                    [&t],
                    |r| r.get(0),
                )
                .map_err(map_err)?;
            if owners == 0 {
                return Err(StoreError::Conflict(Conflict::LastOwner));
            }
            requeue_short(tx, &t)
        })
        .await
    }

    async fn remove_member(
        &self,
        tenant_id: &str,
        user_id: &str,
        now: DateTime<Utc>,
        event: NewEvent,
    ) -> StoreResult<()> {
        let (t, u) = (tenant_id.to_owned(), user_id.to_owned());
        self.transact(move |tx| {
            let n = tx
                .execute(
                    "UPDATE users SET removed_at = ?3
                     WHERE tenant_id = ?1 AND id = ?2 AND removed_at IS NULL",
                    params![t, u, us(now)],
                )
                .map_err(map_err)?;
            if n != 1 {
                return Err(StoreError::NotFound);
            }
            let owners: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM users
                     WHERE tenant_id = ?1 AND role = 'owner' AND removed_at IS NULL",
                    [&t],
                    |r| r.get(0),
                )
                .map_err(map_err)?;
            if owners == 0 {
                return Err(StoreError::Conflict(Conflict::LastOwner));
            }
            for sql in [
                "DELETE FROM sessions WHERE tenant_id = ?1 AND user_id = ?2",
                "DELETE FROM mfa_tickets WHERE tenant_id = ?1 AND user_id = ?2",
                "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?3)
                 WHERE tenant_id = ?1 AND key_id IN
                     (SELECT id FROM agent_keys WHERE tenant_id = ?1 AND owner_id = ?2)",
                "UPDATE agent_keys SET revoked_at = COALESCE(revoked_at, ?3)
                 WHERE tenant_id = ?1 AND owner_id = ?2",
            ] {
                let now_us = us(now);
                if sql.contains("?3") {
                    tx.execute(sql, params![t, u, now_us]).map_err(map_err)?;
                } else {
                    tx.execute(sql, params![t, u]).map_err(map_err)?;
                }
            }
            requeue_short(tx, &t)?;
            let voided = void_sent(tx, &t, &u, now)?;
            let mut events = vec![event.clone()];
            events.extend(voided.iter().map(|inv| voided_event(&event, inv)));
            Ok(((), events))
        })
        .await
    }
}
