//! Why a token was not accepted. Messages are the ones users of the reference
//! SDK already see (jose's, after the reference's own rewording), so logs and
//! error handling keep working after the switch.

use crate::http_date::to_iso_string;

/// Each kind corresponds to one jose error class, whose `name` and `code`
/// JavaScript callers of the reference may already test for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyErrorKind {
    /// Not a compact JWS, or an unreadable header (jose `JWSInvalid`).
    Malformed,
    /// Signed claims that are not a JSON object (jose `JWTInvalid`).
    ClaimsNotObject,
    /// `alg` is `none`, symmetric or unknown, or a critical extension (jose `JOSENotSupported`).
    NotSupported,
    NoMatchingKey,
    MultipleMatchingKeys,
    SignatureInvalid,
    Expired,
    /// `nbf` in the future, a claim of the wrong type, or a failed iss/aud check.
    ClaimInvalid,
    /// The key set is not a JWK set (jose `JWKSInvalid`).
    KeySetInvalid,
    /// The key set answer is not a 200 with JSON (jose's generic `JOSEError`).
    KeySetResponse,
    /// The key set host could not be reached; carries a Node-style errno code.
    KeySetUnreachable(&'static str),
    KeySetTimeout,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub kind: VerifyErrorKind,
    pub message: String,
}

impl VerifyError {
    pub fn new(kind: VerifyErrorKind, message: impl Into<String>) -> Self {
        VerifyError { kind, message: message.into() }
    }

    pub fn malformed(message: &str) -> Self {
        Self::new(VerifyErrorKind::Malformed, message)
    }

    pub fn expired(exp_seconds: f64) -> Self {
        let at = to_iso_string(exp_seconds * 1000.0).unwrap_or_else(|| "unknown".into());
        Self::new(VerifyErrorKind::Expired, format!("JWT provided expired at timestamp {at}"))
    }

    pub fn signature() -> Self {
        Self::new(VerifyErrorKind::SignatureInvalid, "signature verification failed")
    }

    /// The JavaScript `error.name`: jose's class name, or `Error` for the two
    /// errors the reference rewrites into plain `Error`s.
    pub fn name(&self) -> &'static str {
        match self.kind {
            VerifyErrorKind::Malformed => "JWSInvalid",
            VerifyErrorKind::ClaimsNotObject => "JWTInvalid",
            VerifyErrorKind::NotSupported => "JOSENotSupported",
            VerifyErrorKind::NoMatchingKey => "JWKSNoMatchingKey",
            VerifyErrorKind::MultipleMatchingKeys => "JWKSMultipleMatchingKeys",
            VerifyErrorKind::SignatureInvalid | VerifyErrorKind::Expired => "Error",
            VerifyErrorKind::ClaimInvalid => "JWTClaimValidationFailed",
            VerifyErrorKind::KeySetInvalid => "JWKSInvalid",
            VerifyErrorKind::KeySetResponse => "JOSEError",
            VerifyErrorKind::KeySetUnreachable(_) => "Error",
            VerifyErrorKind::KeySetTimeout => "JWKSTimeout",
        }
    }

    /// The JavaScript `error.code`: jose's code (the reference's rewritten
    /// errors get the code jose gave them before the rewrite).
    pub fn code(&self) -> &'static str {
        match self.kind {
            VerifyErrorKind::Malformed => "ERR_JWS_INVALID",
            VerifyErrorKind::ClaimsNotObject => "ERR_JWT_INVALID",
            VerifyErrorKind::NotSupported => "ERR_JOSE_NOT_SUPPORTED",
            VerifyErrorKind::NoMatchingKey => "ERR_JWKS_NO_MATCHING_KEY",
            VerifyErrorKind::MultipleMatchingKeys => "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
            VerifyErrorKind::SignatureInvalid => "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
            VerifyErrorKind::Expired => "ERR_JWT_EXPIRED",
            VerifyErrorKind::ClaimInvalid => "ERR_JWT_CLAIM_VALIDATION_FAILED",
            VerifyErrorKind::KeySetInvalid => "ERR_JWKS_INVALID",
            VerifyErrorKind::KeySetResponse => "ERR_JOSE_GENERIC",
            VerifyErrorKind::KeySetUnreachable(code) => code,
            VerifyErrorKind::KeySetTimeout => "ERR_JWKS_TIMEOUT",
        }
    }
}

impl std::fmt::Display for VerifyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for VerifyError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expired_message_carries_iso_time() {
        assert_eq!(
            VerifyError::expired(1_893_553_445.0).message,
            "JWT provided expired at timestamp 2030-01-02T03:04:05.000Z"
        );
        assert_eq!(VerifyError::expired(f64::INFINITY).message, "JWT provided expired at timestamp unknown");
    }
}
