//! What belongs to the process rather than an instance: API key checks,
//! warnings raised in Rust, the count that invalidates remembered answers,
//! and the constants JavaScript takes from here.

use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::api_key::{validate_api_key_with, KeyExpectations};
use crate::crossmint_client;
use crate::key_set_cache;
use crate::revoked_jwts;

/// The Crossmint API version this package speaks (the reference's).
#[napi]
pub const CROSSMINT_API_VERSION: &str = crossmint_client::CROSSMINT_API_VERSION;

/// Throws the reference's message for a key `createCrossmint` must refuse.
/// `usage_origin` ("client"/"server") and `environment` are the optional
/// expectations `createCrossmint` takes as its second argument.
#[napi]
pub fn check_api_key(api_key: String, usage_origin: Option<String>, environment: Option<String>) -> Result<()> {
    let expect = KeyExpectations::from_names(usage_origin.as_deref(), environment.as_deref());
    validate_api_key_with(&api_key, expect).map(|_| ()).map_err(|e| Error::new(Status::InvalidArg, e.0))
}

/// While it returns the same number, every verification on record that was
/// good then is good now: no key set generation was replaced
/// (`key_set_cache::generation_changes`) and no JWT was revoked by a logout
/// (`revoked_jwts::revocations`). Both counts only grow.
#[napi]
pub fn record_invalidations() -> f64 {
    record_invalidations_now()
}

pub(super) fn record_invalidations_now() -> f64 {
    (key_set_cache::generation_changes() + revoked_jwts::revocations()) as f64
}

/// Warnings raised in Rust since the last call, for the user's logger.
#[napi]
pub fn take_warnings() -> Vec<String> {
    crate::warnings::take()
}

/// Turns the recording of diagnostics events on (a subscriber listens) or off.
#[napi]
pub fn set_telemetry(enabled: bool) {
    crate::telemetry::set_enabled(enabled);
}

/// `{ events, dropped }`: diagnostics events recorded since the last call.
#[napi]
pub fn take_telemetry() -> super::json::Json {
    let (events, dropped) = crate::telemetry::take();
    super::json::Json(serde_json::json!({ "events": events, "dropped": dropped }))
}
