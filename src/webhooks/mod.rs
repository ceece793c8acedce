//! Webhooks, the sending half of [Standard Webhooks](https://www.standardwebhooks.com/):
//! a message signed with the endpoint's secret ([`signature`]), an endpoint
//! that may only be a public address ([`endpoint`]), and one delivery attempt,
//! a `POST` whose answer says whether the receiver took it ([`transport`]).
//!
//! The events, the queue that retries and the GraphQL that manages endpoints
//! are built on these; nothing here stores anything.

pub mod deliver;
pub mod endpoint;
pub mod signature;
pub mod transport;
