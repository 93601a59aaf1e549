//! The CLI's one error type; each kind has its own documented exit code (docs/cli.md).

use keyhold_client::ClientError;
use keyhold_core::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// Bad flags or values the server was never asked about.
    #[error("{0}")]
    Usage(String),
    /// The server refused the request's content (validation, conflict, policy).
    #[error("{0}")]
    Refused(String),
    #[error("{0}")]
    Auth(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{message}")]
    ApprovalRequired {
        message: String,
        approval_id: Option<String>,
    },
    /// `approvals wait` / `secrets get --wait-approval`: an approver said no.
    #[error("{0}")]
    Denied(String),
    /// `approvals wait` / `secrets get --wait-approval`: the request lapsed (or its
    /// one-time grant was spent elsewhere); a new read opens a new one.
    #[error("{0}")]
    Expired(String),
    #[error("{0}")]
    RateLimited(String),
    /// The server could not be reached, or failed.
    #[error("{0}")]
    Server(String),
    /// `keyhold run` could not start its command (not found or not executable).
    #[error("{0}")]
    CannotRun(String),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl CliError {
    /// Exit codes by kind: 1 refused, 2 usage, 3 auth, 4 not found, 5 approval required,
    /// 6 rate limited, 7 server unreachable or failing, 8 approval denied, 9 approval
    /// expired, 74 local I/O, 127 `keyhold run` could not start its command.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Refused(_) => 1,
            Self::Usage(_) => 2,
            Self::Auth(_) => 3,
            Self::NotFound(_) => 4,
            Self::ApprovalRequired { .. } => 5,
            Self::RateLimited(_) => 6,
            Self::Server(_) => 7,
            Self::Denied(_) => 8,
            Self::Expired(_) => 9,
            Self::Io(_) => 74,
            Self::CannotRun(_) => 127,
        }
    }
}

impl From<ClientError> for CliError {
    fn from(e: ClientError) -> Self {
        let text = e.to_string();
        match &e {
            ClientError::Api { code, .. } => match code {
                ErrorCode::ReauthRequired => Self::Auth(format!(
                    "{text} (this needs a sign-in from the last 10 minutes: run `keyhold login` \
                     again)"
                )),
                ErrorCode::Unauthenticated
                | ErrorCode::MfaRequired
                | ErrorCode::Forbidden
                | ErrorCode::KeySuspended
                | ErrorCode::AddressBlocked => Self::Auth(text),
                ErrorCode::NotFound => Self::NotFound(text),
                ErrorCode::ApprovalRequired => Self::ApprovalRequired {
                    approval_id: e.extra_str("approval_id").map(str::to_owned),
                    message: text,
                },
                ErrorCode::RateLimited => Self::RateLimited(text),
                ErrorCode::Internal | ErrorCode::Unavailable => Self::Server(text),
                ErrorCode::InvalidRequest | ErrorCode::Conflict | ErrorCode::PayloadTooLarge => {
                    Self::Refused(text)
                }
            },
            ClientError::BadUrl(_) | ClientError::BadCaFile(_) | ClientError::BadKey(_) => {
                Self::Usage(text)
            }
            ClientError::Unreachable { .. }
            | ClientError::Protocol { .. }
            | ClientError::Redirected { .. } => Self::Server(text),
        }
    }
}

pub type CliResult<T> = Result<T, CliError>;
