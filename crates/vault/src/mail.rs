//! Outgoing mail: SMTP when configured, otherwise one `.eml` file per message in the outbox.
//!
//! The outbox is what a single-machine install and the tests use; the message's link is
//! also logged there so a person running `make run` can click it from the terminal. Never
//! with SMTP: there the log may go to places the recipient's link must not (issue 15).
//! Outbox files carry sign-in links and invitations, so they are created 0600, owner only.

use std::path::PathBuf;

use anyhow::Context;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use tokio::io::AsyncWriteExt;

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
                let mut dir = std::fs::DirBuilder::new();
                dir.recursive(true);
                #[cfg(unix)]
                std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
                dir.create(&outbox)
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
                // Named by the real time of writing, not the vault's clock: the name only
                // orders the files for whoever reads the directory (and the tests'
                // "oldest first"), whatever time a test's clock shows.
                #[allow(clippy::disallowed_methods)]
                let path = dir.join(format!("{}.eml", uuid::Uuid::now_v7()));
                write_private(&path, &message.formatted())
                    .await
                    .with_context(|| format!("writing {}", path.display()))?;
                // The link is logged here only: in outbox mode the terminal is how the
                // person running the server gets it. With SMTP it travels by mail alone.
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

/// Create `path` (it must not exist) readable and writable by the owner alone, and write
/// `bytes`. The mode is set at creation, so the file is never readable by others, not even
/// between its creation and a later chmod.
async fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = tokio::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    opts.mode(0o600);
    let mut f = opts.open(path).await?;
    f.write_all(bytes).await?;
    f.flush().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[tokio::test]
    async fn outbox_files_are_created_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let mailer = Mailer::new("Keyhold <k@localhost>", None, dir.path().join("outbox")).unwrap();
        mailer
            .send(Mail {
                to: "ada@example.com",
                subject: "hello",
                body: "a body".into(),
                link: None,
            })
            .await
            .unwrap();
        let files: Vec<_> = std::fs::read_dir(dir.path().join("outbox"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        let mode = std::fs::metadata(&files[0]).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
