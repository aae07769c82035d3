//! Verifying a Crossmint JWT against a key set: compact JWS parsing, key
//! choice, the signature check (jsonwebtoken on aws-lc-rs) and the time
//! claims, in the order and with the messages of jose's `jwtVerify`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::jwks::{parse_algorithm, KeySet};
use crate::verify_error::{VerifyError, VerifyErrorKind};

/// Crossmint's tokens are well under 2 KB; anything near this is an attack
/// on the parser, not a session.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Checks beyond the reference's defaults, all off unless configured.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    pub clock_tolerance_seconds: f64,
    /// Accepted `iss` values.
    pub issuer: Option<Vec<String>>,
    /// Accepted `aud` values (one match suffices).
    pub audience: Option<Vec<String>>,
}

pub type Claims = Map<String, Value>;

/// The parts of a compact JWS that verification needs, borrowed from the token.
pub struct ParsedToken<'a> {
    pub alg: String,
    pub kid: Option<String>,
    signing_input: &'a str,
    signature: &'a str,
    payload: &'a str,
}

fn claim_error(message: &str) -> VerifyError {
    VerifyError::new(VerifyErrorKind::ClaimInvalid, message)
}

pub fn parse_token(token: &str) -> Result<ParsedToken<'_>, VerifyError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(VerifyError::malformed("JWT exceeds the maximum allowed size"));
    }
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(VerifyError::malformed("Invalid Compact JWS"));
    };
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| VerifyError::malformed("JWS Protected Header is invalid"))?;
    if let Some(crit) = header.get("crit") {
        // We understand no extension, so any critical one makes the token unusable.
        let name = crit
            .as_array()
            .and_then(|names| names.first())
            .and_then(Value::as_str)
            .unwrap_or_default();
        return Err(VerifyError::new(
            VerifyErrorKind::Malformed,
            format!("Extension Header Parameter \"{name}\" is not recognized"),
        ));
    }
    let alg = match header.get("alg") {
        Some(Value::String(alg)) if !alg.is_empty() => alg.clone(),
        _ => {
            return Err(VerifyError::malformed(
                "JWS \"alg\" (Algorithm) Header Parameter missing or invalid",
            ))
        }
    };
    let kid = header.get("kid").and_then(Value::as_str).map(str::to_owned);
    let signing_input = &token[..token.len() - signature.len() - 1];
    Ok(ParsedToken {
        alg,
        kid,
        signing_input,
        signature,
        payload,
    })
}

/// Seconds since the epoch, as jose's `epoch(new Date())` computes it.
pub fn now_seconds() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as f64)
        .unwrap_or(0.0)
}

/// Verifies the signature of an already parsed token with the set's key.
pub fn verify_signature(token: &ParsedToken<'_>, keys: &KeySet) -> Result<(), VerifyError> {
    let jwk = keys.select(&token.alg, token.kid.as_deref())?;
    let algorithm = parse_algorithm(&token.alg).ok_or_else(|| {
        VerifyError::new(
            VerifyErrorKind::UnsupportedAlgorithm,
            "Invalid or unsupported JWK \"alg\" (Algorithm) Parameter value",
        )
    })?;
    let key = jwk.key.as_ref().ok_or_else(|| {
        VerifyError::new(VerifyErrorKind::KeySetInvalid, "Invalid or unsupported JWK")
    })?;
    match jsonwebtoken::crypto::verify(
        token.signature,
        token.signing_input.as_bytes(),
        key,
        algorithm,
    ) {
        Ok(true) => Ok(()),
        _ => Err(VerifyError::signature()),
    }
}

/// Decodes the claims and applies the time (and optional iss/aud) checks.
pub fn validate_claims(
    token: &ParsedToken<'_>,
    options: &VerifyOptions,
    now: f64,
) -> Result<Claims, VerifyError> {
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(token.payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| VerifyError::malformed("JWT Claims Set must be a top-level JSON object"))?;

    if let Some(issuers) = &options.issuer {
        let iss = claims.get("iss").and_then(Value::as_str);
        if !iss.is_some_and(|iss| issuers.iter().any(|i| i == iss)) {
            return Err(claim_error("unexpected \"iss\" claim value"));
        }
    }
    if let Some(audiences) = &options.audience {
        let accepted = |aud: &Value| aud.as_str().is_some_and(|a| audiences.iter().any(|x| x == a));
        let ok = match claims.get("aud") {
            Some(Value::Array(auds)) => auds.iter().any(accepted),
            Some(aud) => accepted(aud),
            None => false,
        };
        if !ok {
            return Err(claim_error("unexpected \"aud\" claim value"));
        }
    }
    let tolerance = options.clock_tolerance_seconds;
    if claims.get("iat").is_some_and(|iat| !iat.is_number()) {
        return Err(claim_error("\"iat\" claim must be a number"));
    }
    if let Some(nbf) = claims.get("nbf") {
        let nbf = nbf
            .as_f64()
            .ok_or_else(|| claim_error("\"nbf\" claim must be a number"))?;
        if nbf > now + tolerance {
            return Err(claim_error("\"nbf\" claim timestamp check failed"));
        }
    }
    if let Some(exp) = claims.get("exp") {
        let exp = exp
            .as_f64()
            .ok_or_else(|| claim_error("\"exp\" claim must be a number"))?;
        if exp <= now - tolerance {
            return Err(VerifyError::expired(exp));
        }
    }
    Ok(claims)
}

/// The whole check: parse, pick the key, verify the signature, then the claims.
pub fn verify(token: &str, keys: &KeySet, options: &VerifyOptions) -> Result<Claims, VerifyError> {
    let parsed = parse_token(token)?;
    verify_signature(&parsed, keys)?;
    validate_claims(&parsed, options, now_seconds())
}
