//! Outgoing mail: SMTP when configured, otherwise one `.eml` file per message in the outbox.
//!
//! The outbox is what a single-machine install and the tests use; the message's link is
//! also logged there so a person running `make run` can click it from the terminal.

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

enum Transport {
    Outbox(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

pub struct Mailer {
    from: Mailbox,
    transport: Transport,
}

/// One message to one person.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub body: String,
    /// The link the message carries, if any (logged in outbox mode).
    pub link: Option<&'a str>,
}

impl Mailer {
    pub fn new(from: &str, smtp_url: Option<&str>, outbox: PathBuf) -> anyhow::Result<Self> {
        let from: Mailbox = from.parse().context("--mail-from is not a valid address")?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .context("--smtp-url is not a valid SMTP URL")?
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(&outbox)
                    .with_context(|| format!("creating {}", outbox.display()))?;
                Transport::Outbox(outbox)
            }
        };
        Ok(Self { from, transport })
    }

    pub async fn send(&self, mail: Mail<'_>) -> anyhow::Result<()> {
        let message = Message::builder()
            .from(self.from.clone())
            .to(mail.to.parse().context("recipient address")?)
            .subject(mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .context("building message")?;
        match &self.transport {
            Transport::Smtp(t) => {
                t.send(message).await.context("sending mail over SMTP")?;
            }
            Transport::Outbox(dir) => {
                let name = format!("{}.eml", uuid::Uuid::now_v7());
                let path = dir.join(name);
                tokio::fs::write(&path, message.formatted())
                    .await
                    .with_context(|| format!("writing {}", path.display()))?;
                match mail.link {
                    Some(link) => {
                        tracing::info!(to = mail.to, file = %path.display(), %link, "mail written to outbox")
                    }
                    None => {
                        tracing::info!(to = mail.to, file = %path.display(), "mail written to outbox")
                    }
                }
            }
        }
        Ok(())
    }
}
