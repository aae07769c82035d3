//! Why a token was not accepted. Messages are the ones users of the reference
//! SDK already see (jose's, after the reference's own rewording), so logs and
//! error handling keep working after the switch.

use crate::http_date::to_iso_string;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerifyErrorKind {
    /// Not a compact JWS, or a header/payload that cannot be read.
    Malformed,
    /// `alg` is missing, `none`, symmetric, or not one we verify.
    UnsupportedAlgorithm,
    /// No key (or more than one) in the set fits the token's `kid`/`alg`.
    NoMatchingKey,
    SignatureInvalid,
    Expired,
    /// `nbf` in the future, a claim of the wrong type, or a failed iss/aud check.
    ClaimInvalid,
    /// The key set is not a JWK set.
    KeySetInvalid,
    /// The key set could not be fetched.
    KeySetUnavailable,
    KeySetTimeout,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyError {
    pub kind: VerifyErrorKind,
    pub message: String,
}

impl VerifyError {
    pub fn new(kind: VerifyErrorKind, message: impl Into<String>) -> Self {
        VerifyError {
            kind,
            message: message.into(),
        }
    }

    pub fn malformed(message: &str) -> Self {
        Self::new(VerifyErrorKind::Malformed, message)
    }

    pub fn expired(exp_seconds: f64) -> Self {
        let at = to_iso_string(exp_seconds * 1000.0).unwrap_or_else(|| "unknown".into());
        Self::new(
            VerifyErrorKind::Expired,
            format!("JWT provided expired at timestamp {at}"),
        )
    }

    pub fn signature() -> Self {
        Self::new(VerifyErrorKind::SignatureInvalid, "signature verification failed")
    }

    /// A short machine-readable name, exposed to JavaScript as `error.code`.
    pub fn code(&self) -> &'static str {
        match self.kind {
            VerifyErrorKind::Malformed => "INVALID_TOKEN",
            VerifyErrorKind::UnsupportedAlgorithm => "INVALID_ALGORITHM",
            VerifyErrorKind::NoMatchingKey => "NO_MATCHING_KEY",
            VerifyErrorKind::SignatureInvalid => "INVALID_SIGNATURE",
            VerifyErrorKind::Expired => "TOKEN_EXPIRED",
            VerifyErrorKind::ClaimInvalid => "INVALID_CLAIM",
            VerifyErrorKind::KeySetInvalid => "INVALID_KEY_SET",
            VerifyErrorKind::KeySetUnavailable => "KEY_SET_UNAVAILABLE",
            VerifyErrorKind::KeySetTimeout => "TIMEOUT",
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
        assert_eq!(
            VerifyError::expired(f64::INFINITY).message,
            "JWT provided expired at timestamp unknown"
        );
    }
}
