//! Server API tests: the real server on 127.0.0.1:0 with a real SQLite file, over HTTP,
//! through keyhold-client. One binary for all of them (see tests/Cargo.toml).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod abuse;
mod accounts;
mod approvals;
mod audit;
mod audit_csv;
mod audit_filters;
mod backup;
mod cli;
mod cli_alerts;
mod cli_approvals;
mod cli_hardening;
mod cli_invitations;
mod cli_keys;
mod cli_members;
mod cli_mfa;
mod cli_recovery;
mod cli_secrets;
mod cli_settings;
mod cli_signed;
mod cli_snapshots;
mod cli_tty;
mod cli_webhooks;
mod crash;
mod crypto;
mod custody;
mod detect;
mod email;
mod fail_closed;
mod forged_credentials;
mod gate;
mod invitations;
mod isolation;
mod kek_schedule;
mod keys;
mod leaks;
mod live_feeds;
mod metrics_labels;
mod mfa;
mod notices;
mod openapi_contract;
mod ops;
mod postgres;
mod process;
mod rate_limits;
mod recovery;
mod secrets;
mod security;
mod sessions;
mod signed;
mod support;
mod tls;
mod tokens;
mod webhooks;
