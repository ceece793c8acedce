//! aco-api: the GraphQL API for the Azure Credit Offer (ACO) through CSP programme.

pub mod auth;
pub mod authz;
pub mod commands;
pub mod config;
pub mod demo;
pub mod domain;
pub mod error;
pub mod fields;
pub mod graphql;
pub mod http;
pub mod jobs;
pub mod lambda;
pub mod observe;
pub mod outbound;
pub mod server;
pub mod service;
pub mod store;
pub mod webhooks;

pub use config::AppConfig;
pub use http::build_app;
