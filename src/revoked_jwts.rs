//! Session JWTs of logged-out chains. A JWT is self-contained: revoking its
//! refresh token at Crossmint does not stop it from verifying until its
//! `exp`. So a logout also names the JWTs of the chain it ended (the one the
//! request carried and those the chain's refreshes issued), and `getSession`
//! refuses them from then on: in this process at once, and in the others
//! that share refresh coordination as soon as the logout reaches them.
//! `verifyCrossmintJwt` is untouched: it verifies a token, as jose does.
//!
//! JWTs are kept as SHA-256 digests, each until its `exp` (plus a margin for
//! clock tolerance), at most a day. The count of revocations lets holders of
//! earlier answers (verified records, remembered headers) find out cheaply
//! whether anything was revoked since.
//!
//! A logout's JWT whose signature this process could check is kept apart
//! from one it could not (no fresh key set, or a key it does not hold yet):
//! anyone can send logouts carrying made-up tokens of the second kind, and a
//! flood of them must not push a real revocation out of its bounded table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::expiring_map::ExpiringMap;
use crate::jwt;
use crate::refresh_flight::{token_digest, Digest};

/// Revoked JWTs remembered at most; past it the oldest are forgotten first.
pub const CAPACITY: usize = 65_536;
/// Beyond `exp`, for instances that allow clock tolerance.
const MARGIN: Duration = Duration::from_secs(600);
/// The longest a revocation is kept (a JWT without `exp`, or a long one).
const LONGEST: Duration = Duration::from_secs(24 * 3600);

static REVOKED: LazyLock<Mutex<ExpiringMap<Digest, ()>>> = LazyLock::new(|| Mutex::new(ExpiringMap::new(CAPACITY)));
/// Logouts' JWTs whose signature could not be checked when they came.
static UNVERIFIED: LazyLock<Mutex<ExpiringMap<Digest, ()>>> = LazyLock::new(|| Mutex::new(ExpiringMap::new(CAPACITY)));
/// How many revocations were made so far; bumped after the digest is stored.
static REVOCATIONS: AtomicU64 = AtomicU64::new(0);

fn lock() -> std::sync::MutexGuard<'static, ExpiringMap<Digest, ()>> {
    REVOKED.lock().unwrap_or_else(|p| p.into_inner())
}

fn lock_unverified() -> std::sync::MutexGuard<'static, ExpiringMap<Digest, ()>> {
    UNVERIFIED.lock().unwrap_or_else(|p| p.into_inner())
}

/// The digest under which a JWT is revoked (also what other processes are told).
pub fn digest_of(jwt: &str) -> Digest {
    token_digest(jwt)
}

/// How long a revocation of `jwt` must be kept: until its `exp` has passed
/// for every instance.
fn memory_for(jwt: &str) -> Duration {
    let exp = jwt::payload_text(jwt)
        .and_then(|text| serde_json::from_str::<Value>(&text).ok())
        .and_then(|payload| payload.get("exp").and_then(Value::as_f64));
    match exp {
        Some(exp) => Duration::try_from_secs_f64(exp - jwt::now_seconds())
            .unwrap_or(Duration::ZERO)
            .saturating_add(MARGIN)
            .min(LONGEST),
        None => LONGEST,
    }
}

/// A revocation as other processes are told of it: the JWT's digest and
/// how long to refuse it.
pub type Revocation = (Digest, Duration);

/// Refuses `jwt` as a session from now on.
pub fn revoke(jwt: &str) -> Revocation {
    let revocation = (digest_of(jwt), memory_for(jwt));
    revoke_digest(revocation.0, revocation.1);
    revocation
}

/// Refuses `jwt`, whose signature could not be checked, from now on: kept
/// apart, so that such revocations only ever crowd out each other.
pub fn revoke_unverified(jwt: &str) -> Revocation {
    let (digest, memory) = (digest_of(jwt), memory_for(jwt));
    let now = Instant::now();
    lock_unverified().insert(digest, (), now + memory, now);
    REVOCATIONS.fetch_add(1, Ordering::Release);
    (digest, memory)
}

/// Refuses the JWT with this digest for `memory` (revocations made elsewhere).
pub fn revoke_digest(digest: Digest, memory: Duration) {
    let now = Instant::now();
    lock().insert(digest, (), now + memory.min(LONGEST), now);
    REVOCATIONS.fetch_add(1, Ordering::Release);
}

/// Whether `jwt` was revoked and still could verify.
pub fn is_revoked(jwt: &str) -> bool {
    if REVOCATIONS.load(Ordering::Acquire) == 0 {
        return false;
    }
    let (digest, now) = (digest_of(jwt), Instant::now());
    lock().get(&digest, now).is_some() || lock_unverified().get(&digest, now).is_some()
}

/// The number of revocations so far. An answer given while it read `n` is
/// still right while it reads `n`.
pub fn revocations() -> u64 {
    REVOCATIONS.load(Ordering::Acquire)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revoked_jwt_is_refused_and_the_count_moves() {
        let before = revocations();
        let jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1IiwiZXhwIjo0MTAyNDQ0ODAwfQ.c2ln";
        assert!(!is_revoked(jwt));
        revoke(jwt);
        assert!(is_revoked(jwt));
        assert!(!is_revoked("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ2In0.c2ln"));
        assert!(revocations() > before);
    }

    #[test]
    fn revocations_that_could_not_be_checked_never_push_out_checked_ones() {
        let checked = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaGVja2VkIn0.c2ln";
        revoke(checked);
        let first_junk = "junk.0.x";
        revoke_unverified(first_junk);
        for i in 1..=CAPACITY + 10 {
            revoke_unverified(&format!("junk.{i}.x"));
        }
        assert!(is_revoked(checked), "a flood of unchecked revocations leaves it");
        assert!(!is_revoked(first_junk), "they crowd out each other, oldest first");
        assert!(is_revoked(&format!("junk.{}.x", CAPACITY + 10)));
    }

    #[test]
    fn a_revocation_lasts_until_exp_and_a_margin_at_most_a_day() {
        let in_a_minute = format!("{{\"exp\":{}}}", jwt::now_seconds() + 60.0);
        let token = |payload: &str| {
            use base64::engine::general_purpose::URL_SAFE_NO_PAD;
            use base64::Engine as _;
            format!("eyJhbGciOiJSUzI1NiJ9.{}.c2ln", URL_SAFE_NO_PAD.encode(payload))
        };
        let memory = memory_for(&token(&in_a_minute));
        assert!(memory > MARGIN && memory <= MARGIN + Duration::from_secs(61), "{memory:?}");
        assert_eq!(memory_for(&token("{\"exp\":1}")), MARGIN, "already expired");
        assert_eq!(memory_for(&token("{\"sub\":\"u\"}")), LONGEST, "no exp");
        assert_eq!(memory_for(&token("{\"exp\":99999999999}")), LONGEST);
        assert_eq!(memory_for("not a jwt"), LONGEST);
    }
}
