//! Client configuration: URI parsing, the [`ClientBuilder`] and its validation, TLS options,
//! and the event types handed to the builder's hooks.
//!
//! The builder only stores and checks; [`ClientBuilder::into_config`] turns it into a plain
//! [`Config`] that the reactor reads. Nothing here opens a socket or resolves a name.
//!
//! Credentials never leave this module in readable form except through
//! [`Secret::expose`]: every `Debug`, `Display` and error message masks them (see
//! [`redact_url`]).

mod builder;
mod events;
mod on_timeout;
mod protocol;
mod redact;
mod secret;
mod settings;
mod tls;
mod uri;
mod validate;

#[cfg(test)]
mod builder_tests;
#[cfg(all(test, feature = "tls"))]
mod tls_tests;
#[cfg(test)]
mod uri_tests;

pub use builder::ClientBuilder;
pub use events::{ConnectInfo, DisconnectReason};
pub use on_timeout::OnTimeout;
pub use protocol::Protocol;
pub use tls::Tls;

pub(crate) use secret::Secret;
pub(crate) use settings::{Config, Hook, RetryPolicy, ServerAddr, MAX_MAX_DEDICATED};
#[allow(unused_imports)] // for the reactor's rustls glue
pub(crate) use tls::{ClientAuth, Pem, TlsConfig};
#[allow(unused_imports)] // for Client::open, the cluster and sentinel code, log redaction
pub(crate) use uri::{parse_url, redact_url, ParsedUrl};
