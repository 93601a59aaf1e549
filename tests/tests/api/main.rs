//! Server API tests: the real server on 127.0.0.1:0 with a real SQLite file, over HTTP,
//! through keyhold-client. One binary for all of them (see tests/Cargo.toml).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod abuse;
mod accounts;
mod approvals;
mod audit;
mod cli;
mod email;
mod ops;
mod process;
mod mfa;
mod security;
mod crypto;
mod isolation;
mod keys;
mod secrets;
mod support;
mod tokens;
