pub mod audit;
pub mod auth;
pub mod keys;
pub mod mfa;
pub mod run;
pub mod secrets;
