pub mod audit;
pub mod auth;
