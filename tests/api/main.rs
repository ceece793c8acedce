//! The API's integration tests: the real router in-process, real signed
//! tokens, a fresh database for each test.

mod abuse;
mod auth;
mod authorization;
mod benefits;
mod credits;
mod demo;
mod dsql;
mod durability;
mod eligibility;
mod events;
mod explorer;
mod hardening;
mod isolation;
mod jwks;
mod key_rotation;
mod lambda;
mod layers;
mod lists;
mod mutations;
mod observe;
mod plain;
mod postgres;
mod schema;
mod subscriptions;
mod support;
mod transport;
mod webhooks;
mod workflow;
