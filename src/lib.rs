//! Crossmint server authentication, natively: the core (API keys, cookies,
//! key sets, JWT verification, Crossmint calls, session logic) is plain Rust
//! with no napi types, tested by `cargo test`; `binding` is the thin napi layer.

pub mod api_key;
pub mod check_threads;
pub mod cookies;
pub mod crossmint_client;
pub mod expiring_map;
pub mod http_date;
pub mod jwks;
pub mod jwt;
pub mod key_set_cache;
pub mod redis_refresh_store;
pub mod refresh_flight;
pub mod revoked_jwts;
pub mod session;
pub mod token_verifier;
pub mod verified_tokens;
pub mod verify_error;
pub mod warnings;

// The napi exports are only called from JavaScript, never from Rust tests.
#[cfg(feature = "node")]
#[cfg_attr(test, allow(dead_code))]
mod binding;
