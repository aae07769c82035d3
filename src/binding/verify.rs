//! `verifyCrossmintJwt` as a free function: against a key set URI (cached,
//! and remembered), or a key set given inline (never remembered).

use napi_derive::napi;
use serde_json::Value;

use super::reply::Reply;
use crate::jwks::KeySet;
use crate::jwt::{self, Claims, VerifyOptions};
use crate::token_verifier;
use crate::verify_error::{VerifyError, VerifyErrorKind};

/// Against a key set given inline; nothing is remembered, since the
/// caller's object can change between calls.
pub(super) fn verify_inline(token: &str, set: &Value, options: &VerifyOptions) -> Result<Claims, VerifyError> {
    jwt::verify(token, &KeySet::from_json(set)?, options)
}

/// The payload goes back as the JSON text the token carries, which the
/// JavaScript side parses: a fresh object per call, built exactly as jose
/// builds the reference's (`JSON.parse` of the decoded payload).
pub(super) fn verify_reply(token: &str, result: Result<Claims, VerifyError>) -> Reply {
    match result.map(|_| jwt::payload_text(token)) {
        Ok(Some(payload)) => Reply { payload_json: Some(payload), ..Default::default() },
        Ok(None) => Reply::failed(VerifyError::new(
            VerifyErrorKind::ClaimsNotObject,
            "JWT Claims Set must be a top-level JSON object",
        )),
        Err(error) => Reply::failed(error),
    }
}

/// `{ audience }` of the free `verifyCrossmintJwt`, checked (a `TypeError`
/// for anything but a non-empty string or array of them); `undefined` when
/// not given.
#[napi]
pub fn checked_audience(env: napi::Env, audience: Option<Value>) -> napi::Result<Option<Vec<String>>> {
    jwt::audience_option(&audience.unwrap_or(Value::Null)).map_err(|message| super::type_error(&env, message))
}

/// Whether a token was verified before against this key set URI (and
/// accepted `aud` values, when given), or, when allowed, verifies now with
/// the key set already held.
#[napi]
pub fn jwt_verified_for(
    token: String,
    jwks_uri: String,
    allow_signature_check: bool,
    audience: Option<Vec<String>>,
) -> bool {
    token_verifier::for_uri(&jwks_uri, &VerifyOptions { audience, ..Default::default() })
        .verified_now(&token, allow_signature_check)
}

/// A token's payload as the JSON text it carries (`undefined` when that is
/// not UTF-8), for `verifyCrossmintJwt` answers from the record.
#[napi]
pub fn jwt_payload_text(token: String) -> Option<String> {
    jwt::payload_text(&token)
}

/// Verifies a token against a key set URI (cached, and remembered for
/// `jwtVerifiedFor`) or an inline JWK set; with `audience`, its `aud` must
/// name one of them.
#[napi]
pub async fn verify_jwt(
    token: String,
    jwks_uri: Option<String>,
    jwks: Option<Value>,
    audience: Option<Vec<String>>,
) -> Reply {
    let result = match (jwks, jwks_uri) {
        (Some(set), _) => verify_inline(&token, &set, &VerifyOptions { audience, ..Default::default() }),
        (None, Some(uri)) => {
            token_verifier::for_uri(&uri, &VerifyOptions { audience, ..Default::default() }).verify(&token).await
        }
        (None, None) => Err(VerifyError::new(VerifyErrorKind::KeySetInvalid, "JSON Web Key Set malformed")),
    };
    verify_reply(&token, result)
}
