//! aco-api: the GraphQL API for the Azure Credit Offer (ACO) through CSP programme.

pub mod auth;
pub mod authz;
pub mod config;
pub mod domain;
pub mod error;
pub mod service;
pub mod store;
