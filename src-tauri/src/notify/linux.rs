//! The freedesktop notification service over one shared session-bus connection, with the
//! clicks that come back. The service sends `ActionInvoked` (and `NotificationClosed`)
//! only to the connection that called `Notify`, so the app keeps one connection for the
//! life of the process and one listener task on it. What a click does is kept by
//! notification id until the notification is clicked or closed, at most `MAX_PENDING` at
//! a time (the oldest go first: a flood of requests never grows the map without bound).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use futures::StreamExt;
use tauri::AppHandle;
use tokio::sync::OnceCell;
use zbus::zvariant::Value;
use zbus::{Connection, MatchRule, MessageStream};

use super::OnClick;

const SERVICE: &str = "org.freedesktop.Notifications";
const PATH: &str = "/org/freedesktop/Notifications";
/// The action a click on the notification's body invokes (the spec's "default" key).
const DEFAULT_ACTION: &str = "default";
const MAX_PENDING: usize = 64;

static BUS: OnceCell<Connection> = OnceCell::const_new();

#[derive(Default)]
struct Pending {
    order: VecDeque<u32>,
    clicks: HashMap<u32, OnClick>,
}

static PENDING: Mutex<Option<Pending>> = Mutex::new(None);

fn with_pending<T>(f: impl FnOnce(&mut Pending) -> T) -> T {
    // A poisoned lock only means another thread panicked while holding it: the map is
    // still usable (at worst a click does nothing).
    let mut guard = PENDING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    f(guard.get_or_insert_with(Pending::default))
}

fn remember(id: u32, click: OnClick) {
    with_pending(|p| {
        p.order.push_back(id);
        p.clicks.insert(id, click);
        while p.order.len() > MAX_PENDING {
            if let Some(old) = p.order.pop_front() {
                p.clicks.remove(&old);
            }
        }
    });
}

fn take(id: u32) -> Option<OnClick> {
    with_pending(|p| {
        p.order.retain(|x| *x != id);
        p.clicks.remove(&id)
    })
}

/// The shared connection; the first call also starts the listener for clicks.
async fn bus(app: &AppHandle) -> zbus::Result<&'static Connection> {
    BUS.get_or_try_init(|| async {
        let conn = Connection::session().await?;
        let stream = MessageStream::for_match_rule(
            MatchRule::builder()
                .msg_type(zbus::message::Type::Signal)
                .interface(SERVICE)?
                .build(),
            &conn,
            Some(64),
        )
        .await?;
        tauri::async_runtime::spawn(listen(app.clone(), stream));
        Ok(conn)
    })
    .await
}

/// Clicks and closes, for as long as the app runs.
async fn listen(app: AppHandle, mut stream: MessageStream) {
    while let Some(Ok(msg)) = stream.next().await {
        let header = msg.header();
        let member = header.member().map(|m| m.as_str().to_owned());
        match member.as_deref() {
            Some("ActionInvoked") => {
                if let Ok((id, action)) = msg.body().deserialize::<(u32, String)>()
                    && action == DEFAULT_ACTION
                    && let Some(click) = take(id)
                {
                    click(&app);
                }
            }
            Some("NotificationClosed") => {
                if let Ok((id, _reason)) = msg.body().deserialize::<(u32, u32)>() {
                    take(id);
                }
            }
            _ => {}
        }
    }
}

/// `Notify(app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout)`.
pub(super) async fn notify(
    app: &AppHandle,
    title: &str,
    body: &str,
    urgency: u8,
    on_click: Option<OnClick>,
) -> zbus::Result<()> {
    let conn = bus(app).await?;
    let actions: &[&str] = if on_click.is_some() {
        &[DEFAULT_ACTION, "Open"]
    } else {
        &[]
    };
    let hints: HashMap<&str, Value<'_>> = HashMap::from([("urgency", Value::U8(urgency))]);
    let reply = conn
        .call_method(
            Some(SERVICE),
            PATH,
            Some(SERVICE),
            "Notify",
            &(
                "Keyhold",
                0u32,
                "dialog-password",
                title,
                body,
                actions,
                hints,
                -1i32,
            ),
        )
        .await?;
    let id: u32 = reply.body().deserialize()?;
    if let Some(click) = on_click {
        remember(id, click);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_are_kept_until_taken_and_bounded() {
        for id in 0..(MAX_PENDING as u32 + 10) {
            remember(id, Box::new(|_| {}));
        }
        // The oldest ten were dropped; the rest are there once each.
        assert!(take(0).is_none());
        assert!(take(9).is_none());
        assert!(take(10).is_some());
        assert!(take(10).is_none(), "a click runs once");
        assert!(take(MAX_PENDING as u32 + 9).is_some());
        with_pending(|p| assert_eq!(p.order.len(), p.clicks.len()));
    }
}
