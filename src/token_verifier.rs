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

use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::bounded_map::BoundedMap;
use crate::jwt::{self, Claims, ParsedToken, SessionClaims, VerifyOptions};
use crate::key_set_cache::{self, HeldKeySet, RemoteKeySet};
use crate::revoked_jwts;
use crate::verified_tokens::{
    KeyPrefix, RevocationCheck, TokenKey, Verified, VerifiedTokens, DEFAULT_CAPACITY, UNCHECKED,
};
use crate::verify_error::{VerifyError, VerifyErrorKind};

/// Tokens verified by anything in the process (keys include the key set URI
/// and the verification options, so verifiers never mix).
static VERIFIED: LazyLock<VerifiedTokens> = LazyLock::new(|| VerifiedTokens::new(DEFAULT_CAPACITY));

/// What a logout could tell of a JWT's signature (`TokenVerifier::logout_check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    Signed,
    MadeUp,
    Unknown,
}

/// A token found good as a session: its `sub`, when it has a string one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSubject(pub Option<String>);

pub struct TokenVerifier {
    pub options: VerifyOptions,
    key_set: Arc<RemoteKeySet>,
    /// How long this verifier's callers wait for a key set fetch.
    deadline: Duration,
    /// How old a held key set may be and still verify while refetches fail.
    pub stale_if_error: Duration,
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
            stale_if_error: key_set_cache::STALE_IF_ERROR,
        }
    }

    /// A verification still on record for this token key, as a session (the
    /// token not revoked by a logout).
    fn recorded(&self, key: &TokenKey, token: &str) -> Option<Verified> {
        let is_revoked = || revoked_jwts::is_revoked(token);
        let revocation = RevocationCheck { count: revoked_jwts::revocations(), is_revoked: &is_revoked };
        VERIFIED.get(key, self.key_set.generation(), Instant::now(), jwt::now_seconds(), revocation)
    }

    fn is_recorded(&self, key: &TokenKey) -> bool {
        VERIFIED.holds(key, self.key_set.generation(), Instant::now(), jwt::now_seconds())
    }

    /// Records a verification. `revocations_seen` is the revocation count
    /// read before the token was found unrevoked, or `UNCHECKED`.
    fn remember(
        &self,
        key: TokenKey,
        claims: SessionClaims,
        held: &HeldKeySet,
        revocations_seen: u64,
    ) -> VerifiedSubject {
        let tolerance = self.options.clock_tolerance_seconds;
        VERIFIED.insert(
            key,
            Verified {
                subject: claims.subject.clone(),
                good_before_secs: claims.exp.map(|exp| exp + tolerance),
                key_set_generation: held.generation,
                key_set_fresh_until: held.fresh_until,
                revocations_seen,
            },
        );
        VerifiedSubject(claims.subject)
    }

    /// The revocation count, when `token` is not revoked; read first, so a
    /// revocation made meanwhile moves the count past what is recorded.
    fn unrevoked(token: &str) -> Option<u64> {
        let count = revoked_jwts::revocations();
        (!revoked_jwts::is_revoked(token)).then_some(count)
    }

    /// The subject on record for `token` as a session (verified, not revoked
    /// by a logout), or the record key it was looked up under (what `check_unrecorded` needs, so a check made
    /// later, on another thread, hashes the token once).
    pub fn recorded_subject(&self, token: &str) -> Result<VerifiedSubject, TokenKey> {
        let key = self.key_prefix.key(token);
        match self.recorded(&key, token) {
            Some(record) => Ok(VerifiedSubject(record.subject)),
            None => Err(key),
        }
    }

    /// One signature check of a token `recorded_subject` did not find, under
    /// the `key` it answered, against the key set already held; `None` when
    /// the token was revoked, there is no such key set or the check fails.
    pub fn check_unrecorded(&self, key: TokenKey, token: &str) -> Option<VerifiedSubject> {
        let revocations_seen = Self::unrevoked(token)?;
        self.check_with_held_keys(key, token, revocations_seen)
    }

    /// The verification on record for `token` as a session (not revoked),
    /// with what bounds its validity (`exp`, the key set's freshness); never
    /// a signature check.
    pub fn record_of(&self, token: &str) -> Option<Verified> {
        self.recorded(&self.key_prefix.key(token), token)
    }

    /// Whether the token verifies (from the record, or when allowed one
    /// signature check), for callers that only need the verdict
    /// (`verifyCrossmintJwt` returns the token's payload). Revocations by a
    /// logout are a session matter and do not change it.
    pub fn verified_now(&self, token: &str, allow_signature_check: bool) -> bool {
        let key = self.key_prefix.key(token);
        self.is_recorded(&key) || (allow_signature_check && self.check_with_held_keys(key, token, UNCHECKED).is_some())
    }

    /// What a logout can tell of `token` without waiting: signed by a key
    /// of the fresh set held, made up (malformed, or a bad signature by a
    /// key that set holds), or neither can be told (no fresh set, or a key
    /// the set does not hold yet: Crossmint may have rotated). The claims
    /// are not judged: another instance or process may accept what this
    /// one's options refuse, and an expired JWT is kept only for a margin.
    pub fn logout_check(&self, token: &str) -> SignatureCheck {
        let Ok(parsed) = jwt::parse_token(token) else { return SignatureCheck::MadeUp };
        if !self.key_set.holds_fresh_set() {
            return SignatureCheck::Unknown;
        }
        match self.key_set.held_for(parsed.kid.as_deref()) {
            None => SignatureCheck::Unknown,
            Some(held) if jwt::verify_signature(&parsed, &held.keys).is_ok() => SignatureCheck::Signed,
            Some(_) => SignatureCheck::MadeUp,
        }
    }

    /// One signature check against the key set already held, remembered when
    /// it succeeds; `None` when there is no such key set or the check fails.
    fn check_with_held_keys(&self, key: TokenKey, token: &str, revocations_seen: u64) -> Option<VerifiedSubject> {
        let parsed = jwt::parse_token(token).ok()?;
        let held = self.key_set.held_for(parsed.kid.as_deref())?;
        jwt::verify_signature(&parsed, &held.keys).ok()?;
        let claims = jwt::validate_session_claims(&parsed, &self.options, jwt::now_seconds()).ok()?;
        Some(self.remember(key, claims, &held, revocations_seen))
    }

    /// Verifies (fetching the key set if needed) and records the result.
    pub async fn verify(&self, token: &str) -> Result<Claims, VerifyError> {
        let (parsed, held) = self.checked_signature(token).await?;
        let claims = jwt::validate_claims(&parsed, &self.options, jwt::now_seconds())?;
        self.remember(self.key_prefix.key(token), SessionClaims::of(&claims), &held, UNCHECKED);
        Ok(claims)
    }

    /// The parsed token and the key set its signature verified against.
    async fn checked_signature<'t>(&self, token: &'t str) -> Result<(ParsedToken<'t>, HeldKeySet), VerifyError> {
        let parsed = jwt::parse_token(token)?;
        let held = self.key_set.key_set_for(parsed.kid.as_deref(), self.deadline, self.stale_if_error).await?;
        jwt::verify_signature(&parsed, &held.keys)?;
        Ok((parsed, held))
    }

    /// The subject of a token that verifies and was not revoked by a
    /// logout: from the record, else by verifying.
    pub async fn subject(&self, token: &str) -> Result<VerifiedSubject, VerifyError> {
        let key = self.key_prefix.key(token);
        if let Some(record) = self.recorded(&key, token) {
            return Ok(VerifiedSubject(record.subject));
        }
        let revoked = || VerifyError::new(VerifyErrorKind::ClaimInvalid, "the session was logged out");
        let revocations_seen = Self::unrevoked(token).ok_or_else(revoked)?;
        let (parsed, held) = self.checked_signature(token).await?;
        let claims = jwt::validate_session_claims(&parsed, &self.options, jwt::now_seconds())?;
        Ok(self.remember(key, claims, &held, revocations_seen))
    }
}

/// A key set URI and the verification options (as their `Debug` text,
/// which the record keys hash too), with the fetch deadline and the
/// stale-if-error window.
type UriAndOptions = (String, String, Duration, Duration);

/// The verifiers of `verifyCrossmintJwt(token, uri)`, free (its `audience`
/// option) or an instance's (its options), per URI and options: jose's
/// fetch deadline. When full the table is emptied (the records themselves
/// live in `VERIFIED` and stay valid).
static BY_URI: LazyLock<Mutex<BoundedMap<UriAndOptions, Arc<TokenVerifier>>>> =
    LazyLock::new(|| Mutex::new(BoundedMap::new(BY_URI_LIMIT)));
const BY_URI_LIMIT: usize = 256;

pub fn for_uri(jwks_uri: &str, options: &VerifyOptions) -> Arc<TokenVerifier> {
    for_uri_with(jwks_uri, options, key_set_cache::FETCH_TIMEOUT, key_set_cache::STALE_IF_ERROR)
}

fn for_uri_with(
    jwks_uri: &str,
    options: &VerifyOptions,
    deadline: Duration,
    stale_if_error: Duration,
) -> Arc<TokenVerifier> {
    let mut verifiers = BY_URI.lock().unwrap_or_else(|p| p.into_inner());
    let key = (jwks_uri.to_string(), format!("{options:?}"), deadline, stale_if_error);
    verifiers
        .get_or_insert_with(key, || {
            let mut verifier = TokenVerifier::new(jwks_uri, options.clone(), deadline);
            verifier.stale_if_error = stale_if_error;
            Arc::new(verifier)
        })
        .clone()
}

impl TokenVerifier {
    /// A verifier of another key set URI with this one's options, fetch
    /// deadline and stale-if-error window (an instance's `verifyCrossmintJwt`
    /// given a URI string).
    pub fn for_other_uri(&self, jwks_uri: &str) -> Arc<TokenVerifier> {
        for_uri_with(jwks_uri, &self.options, self.deadline, self.stale_if_error)
    }
}
