//! Crossmint server authentication, natively. The core (API keys, cookies,
//! key sets, JWT verification, Crossmint calls, session logic) is plain Rust
//! with no napi types, tested by `cargo test`; `binding` is the thin napi
//! layer over it. Only what the fuzz targets (fuzz/) call is public.

#![deny(clippy::all)]

mod api_key;
mod bounded_map;
mod check_threads;
mod cookies;
mod crossmint_client;
mod expiring_map;
mod http_date;
mod jwks;
mod jwt;
mod key_set_cache;
mod redis_refresh_store;
mod refresh_flight;
mod revoked_jwts;
mod session;
mod token_verifier;
mod verified_tokens;
mod verify_error;
mod warnings;

#[cfg(feature = "node")]
mod binding;

pub use api_key::validate_api_key;
pub use cookies::{auth_set_cookies, parse_auth_cookies, CookieOptions};
pub use jwks::KeySet;
pub use jwt::{verify, VerifyOptions};
