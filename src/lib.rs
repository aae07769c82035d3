//! Crossmint server authentication, natively. The core (API keys, cookies,
//! key sets, JWT verification, Crossmint calls, session logic) is plain Rust
//! with no napi types, tested by `cargo test`; `binding` is the thin napi
//! layer over it. Only what the fuzz targets (fuzz/) call is public.

#![deny(clippy::all)]
// Without the napi layer (fuzz/ builds the core alone) most of the core has
// no caller in this crate.
#![cfg_attr(not(feature = "node"), allow(dead_code))]

mod api_key;
mod bounded_map;
mod check_threads;
mod cookies;
mod crossmint_client;
mod expiring_map;
mod file_refresh_store;
mod http_date;
mod jwks;
mod jwt;
mod key_set_cache;
mod redis_refresh_store;
mod refresh_flight;
mod revoked_jwts;
mod sealed_records;
mod session;
mod session_cookies;
mod shared_refresh_store;
mod telemetry;
mod token_verifier;
mod verified_tokens;
mod verify_error;
mod warnings;

// The napi exports are called from JavaScript only, never from Rust tests.
#[cfg(feature = "node")]
#[cfg_attr(test, allow(dead_code))]
mod binding;

pub use api_key::validate_api_key;
pub use cookies::{auth_set_cookies, CookieOptions};
pub use jwks::KeySet;
pub use jwt::{verify, VerifyOptions};
pub use session_cookies::{ProjectCookies, Reader};

/// Every Rust allocation of the addon (not V8's heap). Chosen for the
/// never-seen tokens' hand-offs between the JS thread and the check threads;
/// see Cargo.toml.
#[cfg(feature = "node")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
