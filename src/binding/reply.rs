//! The one shape every async native call resolves to.

use napi_derive::napi;

use super::json::Json;
use crate::crossmint_client::ClientError;
use crate::session::SessionError;
use crate::verify_error::VerifyError;

/// `session`'s failure when a refresh was needed and the caller said its
/// result could not be stored: JavaScript throws a `TypeError` for it.
pub const REFRESH_WITHHELD: &str = "REFRESH_WITHHELD";

/// Why a call failed, as the core decided it.
#[napi(object, object_from_js = false)]
pub struct Failure {
    /// Stable: `CrossmintAuthenticationError.code`, or jose's code for a
    /// verification.
    pub code: String,
    pub message: String,
    /// jose's error class name, for a verification.
    pub name: Option<String>,
    /// Crossmint could not answer: the session may still be good (cookies
    /// kept, 503 with Retry-After). Otherwise the session is over.
    pub outage: bool,
}

/// A call's value, or its `failure`. Each call sets the members it answers
/// with and leaves the others out.
#[napi(object, object_from_js = false)]
#[derive(Default)]
pub struct Reply {
    pub failure: Option<Failure>,
    /// `session`: the session's user id.
    pub user_id: Option<String>,
    /// `session` after a refresh, and `refreshWithCrossmint`:
    /// `{ jwt, refreshToken, user }` as Crossmint sent them.
    pub material: Option<Json>,
    /// `getUser`: Crossmint's answer.
    pub user: Option<Json>,
    /// `verify`, `verifyJwt`: the token's payload as the JSON text it
    /// carries, for JavaScript to parse into a fresh object.
    pub payload_json: Option<String>,
}

impl Reply {
    pub fn failed(failure: impl Into<Failure>) -> Reply {
        Reply { failure: Some(failure.into()), ..Default::default() }
    }
}

impl From<SessionError> for Failure {
    fn from(error: SessionError) -> Failure {
        Failure {
            code: error.code.to_string(),
            message: error.cause,
            name: None,
            outage: !error.authentication_failure,
        }
    }
}

impl From<ClientError> for Failure {
    fn from(error: ClientError) -> Failure {
        SessionError::from_client(error).into()
    }
}

impl From<VerifyError> for Failure {
    fn from(error: VerifyError) -> Failure {
        Failure {
            code: error.code().to_string(),
            name: Some(error.name().to_string()),
            message: error.message,
            outage: false,
        }
    }
}
