//! Waiting for an approval decision, shared by `approvals wait` and
//! `secrets get --wait-approval`.
//!
//! The live feed (`/v1/approvals/stream`) brings a decision the moment it is made; a
//! `GET` of the request now and then also catches what the feed cannot announce by
//! itself (the server applies expiry lazily, when approvals are read) and covers a feed
//! that is refused or dropped.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use keyhold_client::Client;
use keyhold_client::sse::EventStream;
use keyhold_core::ErrorCode;
use keyhold_core::api::{Approval, ApprovalStatus, SecretValue};
use keyhold_core::path::SecretPath;

use crate::error::{CliError, CliResult};

/// How often the spinner's time left is redrawn.
const TICK: Duration = Duration::from_secs(1);
/// Seconds between `GET`s while the feed is up, and without it.
const POLL_WITH_FEED: u32 = 15;
const POLL_WITHOUT_FEED: u32 = 2;

/// A spinner on stderr, drawn only when stderr is a terminal (CI logs and pipes get
/// nothing from it) and `shown` (`--silent` turns it off).
pub struct Spinner(ProgressBar);

impl Spinner {
    pub fn new(shown: bool) -> Self {
        if !shown || !std::io::stderr().is_terminal() {
            return Self(ProgressBar::hidden());
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg}") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Self(bar)
    }

    pub fn set(&self, msg: String) {
        self.0.set_message(msg);
    }

    /// Describe where `a` stands, with the time left until it lapses or opens.
    pub fn show(&self, a: &Approval) {
        let msg = match (a.status, a.available_at) {
            (ApprovalStatus::Approved, Some(at)) if at > local_now() => {
                format!("{} approved; the read opens in {}", a.id, left(at))
            }
            _ => format!(
                "Waiting for approval {} of {} ({}/{} approvals, {} left)",
                a.id,
                a.path,
                a.approvals.len(),
                a.required_approvals,
                left(a.expires_at)
            ),
        };
        self.set(msg);
    }

    pub fn done(&self) {
        self.0.finish_and_clear();
    }
}

/// This computer's time. The CLI has no server clock to follow: it uses the local one
/// only to show time left and to size pauses between reads, never to decide anything
/// (the server does that with its own clock).
#[allow(clippy::disallowed_methods)]
pub fn local_now() -> DateTime<Utc> {
    Utc::now()
}

/// Time from now until `at`, as `1h 02m 03s` (never negative). Measured with this
/// computer's clock against the server's timestamps.
pub fn left(at: DateTime<Utc>) -> String {
    span((at - local_now()).num_seconds())
}

/// `secs` as `1h 02m 03s`, `2m 03s` or `3s`; negative counts as 0.
fn span(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// The request once it is no longer pending (approved, denied, expired or used), or
/// `ApprovalRequired` when `timeout` passes first.
pub async fn until_decided(
    client: &Client,
    id: &str,
    spinner: &Spinner,
    timeout: Option<Duration>,
) -> CliResult<Approval> {
    let started = Instant::now();
    // Subscribe before the first read so that no decision falls between the two.
    let mut feed: Option<EventStream> = client.approvals_stream().await.ok();
    let mut a = client.approval(id).await?;
    let mut since_poll = 0u32;
    loop {
        spinner.show(&a);
        if a.status != ApprovalStatus::Pending {
            return Ok(a);
        }
        if timeout.is_some_and(|t| started.elapsed() >= t) {
            return Err(CliError::ApprovalRequired {
                message: format!("Approval {id} is still pending; gave up waiting."),
                approval_id: Some(id.to_owned()),
            });
        }
        let every = if feed.is_some() {
            POLL_WITH_FEED
        } else {
            POLL_WITHOUT_FEED
        };
        match next_event(&mut feed).await {
            Event::Update(update) if update.id == id => {
                a = *update;
                since_poll = 0;
                continue;
            }
            Event::Update(_) => continue,
            Event::Closed => {
                feed = None;
                continue;
            }
            Event::Tick => since_poll += 1,
        }
        if since_poll >= every {
            since_poll = 0;
            a = client.approval(id).await?;
        }
    }
}

enum Event {
    /// A request changed (maybe another one: the feed carries all the caller may see).
    Update(Box<Approval>),
    /// The feed ended or failed: poll from now on.
    Closed,
    /// A second passed.
    Tick,
}

async fn next_event(feed: &mut Option<EventStream>) -> Event {
    let Some(stream) = feed.as_mut() else {
        tokio::time::sleep(TICK).await;
        return Event::Tick;
    };
    tokio::select! {
        ev = stream.next() => match ev {
            Some(Ok(ev)) => match serde_json::from_str::<Approval>(&ev.data) {
                Ok(a) => Event::Update(Box::new(a)),
                // Something this client does not know: the next poll settles it.
                Err(_) => Event::Tick,
            },
            Some(Err(_)) | None => Event::Closed,
        },
        () = tokio::time::sleep(TICK) => Event::Tick,
    }
}

/// The error for a request that ended without a usable yes.
pub fn ended(a: &Approval) -> CliError {
    match a.status {
        ApprovalStatus::Denied => CliError::Denied(format!(
            "Approval {} was denied by {}: {}",
            a.id,
            // Agents see names, not addresses: without a display name, "an approver".
            a.denied_by
                .as_ref()
                .and_then(|p| p.display_name.as_deref().or(p.email.as_deref()))
                .unwrap_or("an approver"),
            a.deny_reason.as_deref().unwrap_or("no reason given")
        )),
        ApprovalStatus::Used => CliError::Expired(format!(
            "Approval {} was already used; the next read opens a new request.",
            a.id
        )),
        ApprovalStatus::Voided => CliError::Expired(format!(
            "Approval {} was voided ({}): the secret changed; ask again.",
            a.id,
            a.void_reason.as_deref().unwrap_or("secret changed")
        )),
        _ => CliError::Expired(format!(
            "Approval {} expired without a decision; the next read opens a new request.",
            a.id
        )),
    }
}

/// `get --wait-approval`: read; while the answer is `approval_required`, wait for the
/// decision on the request it names and read again. An approved critical request opens
/// only after its delay, so reads then wait for `available_at` (see [`pause_until_open`]). A grant spent by a parallel read leads to a
/// new request, which is waited for in turn.
pub async fn read_when_approved(
    client: &Client,
    path: &SecretPath,
    version: Option<u32>,
    silent: bool,
) -> CliResult<SecretValue> {
    let spinner = Spinner::new(!silent);
    let mut announced: Option<String> = None;
    let mut approved: Option<String> = None;
    let mut last: Option<Approval> = None;
    let result = loop {
        let e = match client.get_secret(path, version).await {
            Ok(v) => break Ok(v),
            Err(e) if e.code() == Some(ErrorCode::ApprovalRequired) => e,
            Err(e) => break Err(e.into()),
        };
        let Some(id) = e.extra_str("approval_id").map(str::to_owned) else {
            break Err(e.into());
        };
        // Approved, in its critical delay: no need to ask the server what it just said.
        if let Some(a) = &last
            && a.id == id
            && e.extra_str("status") == Some("approved")
        {
            pause_until_open(a, &spinner, &mut approved).await;
            continue;
        }
        if !silent && announced.as_deref() != Some(id.as_str()) {
            spinner.set(format!("Waiting for approval {id} of {path}"));
            if !std::io::stderr().is_terminal() {
                eprintln!("keyhold: waiting for approval {id} of {path}");
            }
            announced = Some(id.clone());
        }
        let a = match until_decided(client, &id, &spinner, None).await {
            Ok(a) => a,
            Err(e) => break Err(e),
        };
        let status = a.status;
        let a = last.insert(a);
        match status {
            ApprovalStatus::Approved => pause_until_open(a, &spinner, &mut approved).await,
            // Spent by a parallel read: the next read opens (or joins) a new request.
            ApprovalStatus::Used => {}
            _ => break Err(ended(a)),
        }
    };
    spinner.done();
    result
}

/// Before reading again on an approved request: at once the first time (a grant with no
/// delay is open now), then until its `available_at` by this computer's clock, capped so
/// that a clock ahead of or behind the server's costs at most 30 s (at least 2 s between
/// reads, since the server's clock decides and each early read is audited).
async fn pause_until_open(a: &Approval, spinner: &Spinner, seen: &mut Option<String>) {
    spinner.show(a);
    if seen.as_deref() != Some(a.id.as_str()) {
        *seen = Some(a.id.clone());
        return;
    }
    let pause = a
        .available_at
        .and_then(|at| (at - local_now()).to_std().ok())
        .unwrap_or(Duration::ZERO)
        .clamp(Duration::from_secs(2), Duration::from_secs(30));
    tokio::time::sleep(pause).await;
}

#[cfg(test)]
mod tests {
    use super::span;

    #[test]
    fn spans_read_as_hours_minutes_seconds() {
        assert_eq!(span(-5), "0s");
        assert_eq!(span(59), "59s");
        assert_eq!(span(60), "1m 00s");
        assert_eq!(span(3599), "59m 59s");
        assert_eq!(span(86_400 + 62), "24h 01m 02s");
    }
}
