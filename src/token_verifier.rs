//! Verifying tokens against one remote key set with one set of options, and
//! remembering each success so the token's next check is a lookup. Used by
//! `getSession` (through `SessionEngine`) and by `verifyCrossmintJwt`, the
//! instance method and the free function with a key set URI alike: they all
//! share one record per (key set URI, options), so a verification made by
//! one is reused by the others only when it means the same thing.
//!
//! A record never outlives what it rests on: it is checked again on every
//! use against the token's `exp` (plus the clock tolerance), the key set
//! generation (a refetched set that dropped or changed a key invalidates
//! it) and the key set's freshness (see `verified_tokens`).

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::jwt::{self, Claims, ParsedToken, SessionClaims, VerifyOptions};
use crate::key_set_cache::{self, HeldKeySet, RemoteKeySet};
use crate::verified_tokens::{KeyPrefix, TokenKey, Verified, VerifiedTokens, DEFAULT_CAPACITY};
use crate::verify_error::VerifyError;

/// Tokens verified by anything in the process (keys include the key set URI
/// and the verification options, so verifiers never mix).
static VERIFIED: LazyLock<VerifiedTokens> = LazyLock::new(|| VerifiedTokens::new(DEFAULT_CAPACITY));

pub struct TokenVerifier {
    pub options: VerifyOptions,
    key_set: Arc<RemoteKeySet>,
    /// How long this verifier's callers wait for a key set fetch.
    deadline: Duration,
    /// What a verification depends on besides the token (key set URI and
    /// options), hashed into every record key.
    key_prefix: KeyPrefix,
}

impl TokenVerifier {
    pub fn new(jwks_uri: &str, options: VerifyOptions, deadline: Duration) -> TokenVerifier {
        TokenVerifier {
            key_prefix: KeyPrefix::new(&format!("{jwks_uri}\n{options:?}")),
            options,
            key_set: key_set_cache::remote(jwks_uri),
            deadline,
        }
    }

    /// A verification still on record for this token key: the token's
    /// subject (the inner `None` is a verified token without `sub`).
    fn recorded(&self, key: &TokenKey) -> Option<Option<String>> {
        VERIFIED.get(key, self.key_set.generation(), Instant::now(), jwt::now_seconds())
    }

    fn is_recorded(&self, key: &TokenKey) -> bool {
        VERIFIED.holds(key, self.key_set.generation(), Instant::now(), jwt::now_seconds())
    }

    fn remember(&self, key: TokenKey, claims: SessionClaims, held: &HeldKeySet) -> Option<String> {
        let tolerance = self.options.clock_tolerance_seconds;
        VERIFIED.insert(
            key,
            Verified {
                subject: claims.subject.clone(),
                good_before_secs: claims.exp.map(|exp| exp + tolerance),
                key_set_generation: held.generation,
                key_set_fresh_until: held.fresh_until,
            },
        );
        claims.subject
    }

    /// Whether `token` is known good without waiting: a verification on
    /// record, or (when allowed) one signature check against the key set
    /// already held. `None` means "take the asynchronous path"; otherwise the
    /// token's subject.
    pub fn verified_subject_now(&self, token: &str, allow_signature_check: bool) -> Option<Option<String>> {
        let key = self.key_prefix.key(token);
        if let Some(subject) = self.recorded(&key) {
            return Some(subject);
        }
        if !allow_signature_check {
            return None;
        }
        self.check_with_held_keys(key, token)
    }

    /// The verification on record for `token`, with what bounds its
    /// validity (`exp`, the key set's freshness); never a signature check.
    pub fn record_of(&self, token: &str) -> Option<Verified> {
        let key = self.key_prefix.key(token);
        VERIFIED.entry(&key, self.key_set.generation(), Instant::now(), jwt::now_seconds())
    }

    /// `verified_subject_now` without the subject, for callers that only
    /// need the verdict (`verifyCrossmintJwt` returns the token's payload).
    pub fn verified_now(&self, token: &str, allow_signature_check: bool) -> bool {
        let key = self.key_prefix.key(token);
        self.is_recorded(&key)
            || (allow_signature_check && self.check_with_held_keys(key, token).is_some())
    }

    /// One signature check against the key set already held, remembered when
    /// it succeeds; `None` when there is no such key set or the check fails.
    fn check_with_held_keys(&self, key: TokenKey, token: &str) -> Option<Option<String>> {
        let parsed = jwt::parse_token(token).ok()?;
        let held = self.key_set.held_for(parsed.kid.as_deref())?;
        jwt::verify_signature(&parsed, &held.keys).ok()?;
        let claims = jwt::validate_session_claims(&parsed, &self.options, jwt::now_seconds()).ok()?;
        Some(self.remember(key, claims, &held))
    }

    /// Verifies (fetching the key set if needed) and records the result.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let (parsed, held) = self.checked_signature(token).await?;
        let claims = jwt::validate_claims(&parsed, &self.options, jwt::now_seconds())?;
        self.remember(self.key_prefix.key(token), SessionClaims::of(&claims), &held);
        Ok(claims)
    }

    /// The parsed token and the key set its signature verified against.
    async fn checked_signature<'t>(&self, token: &'t str) -> Result<(ParsedToken<'t>, HeldKeySet), VerifyError> {
        let parsed = jwt::parse_token(token)?;
        let held = self.key_set.key_set_for(parsed.kid.as_deref(), self.deadline).await?;
        jwt::verify_signature(&parsed, &held.keys)?;
        Ok((parsed, held))
    }

    /// The subject of a verified token: from the record, else by verifying.
    pub async fn subject(&self, token: &str) -> Result<Option<String>, VerifyError> {
        let key = self.key_prefix.key(token);
        if let Some(subject) = self.recorded(&key) {
            return Ok(subject);
        }
        let (parsed, held) = self.checked_signature(token).await?;
        let claims = jwt::validate_session_claims(&parsed, &self.options, jwt::now_seconds())?;
        Ok(self.remember(key, claims, &held))
    }
}

/// `verifyCrossmintJwt(token, uri)`'s verifiers: default options, jose's
/// fetch deadline. Bounded: when full the table is emptied (the records
/// themselves live in `VERIFIED` and stay valid).
static BY_URI: LazyLock<Mutex<HashMap<String, Arc<TokenVerifier>>>> = LazyLock::new(|| Mutex::new(HashMap::new()));
const BY_URI_LIMIT: usize = 256;

pub fn for_uri(jwks_uri: &str) -> Arc<TokenVerifier> {
    let mut verifiers = BY_URI.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(verifier) = verifiers.get(jwks_uri) {
        return verifier.clone();
    }
    if verifiers.len() >= BY_URI_LIMIT {
        verifiers.clear();
    }
    let verifier = Arc::new(TokenVerifier::new(jwks_uri, VerifyOptions::default(), key_set_cache::FETCH_TIMEOUT));
    verifiers.insert(jwks_uri.to_string(), verifier.clone());
    verifier
}
