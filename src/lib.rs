//! aco-api: the GraphQL API for the Azure Credit Offer (ACO) through CSP programme.

pub mod domain;
pub mod error;
pub mod store;
