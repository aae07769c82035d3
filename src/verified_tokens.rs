//! Tokens already verified, so a user's next requests skip the signature
//! check. An entry is keyed by a SHA-256 digest of the token together with
//! what it was checked against (key set URI and verification options), and
//! lives until the earliest of: the token's `exp`, the end of the key set's
//! freshness, or a refetch of the key set (a new generation). The table is
//! bounded; when full it is emptied, which costs one signature check per
//! active user and never a wrong answer.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{Context, SHA256};

use crate::bounded_map::BoundedMap;

pub const DEFAULT_CAPACITY: usize = 50_000;

pub type TokenKey = [u8; 32];

/// The digest state after a verification context, so each lookup hashes
/// only the token (a verifier's context is a fixed few hundred bytes).
pub struct KeyPrefix(Context);

impl KeyPrefix {
    pub fn new(context: &str) -> KeyPrefix {
        // Length-prefixed, so no (context, token) pair can collide with another.
        let mut hasher = Context::new(&SHA256);
        hasher.update(&(context.len() as u64).to_le_bytes());
        hasher.update(context.as_bytes());
        KeyPrefix(hasher)
    }

    pub fn key(&self, token: &str) -> TokenKey {
        let mut hasher = self.0.clone();
        hasher.update(token.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(hasher.finish().as_ref());
        out
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Verified {
    pub subject: Option<String>,
    /// `exp + clock tolerance`, in seconds; the token is good while now is before it.
    pub good_before_secs: Option<f64>,
    pub key_set_generation: u64,
    pub key_set_fresh_until: Instant,
    /// The count of JWT revocations (`revoked_jwts`) this verification is
    /// known to have survived; `UNCHECKED` when it was never checked.
    pub revocations_seen: u64,
}

impl Verified {
    /// How much longer, from now, the record holds by its `exp` and its key
    /// set's freshness: how long an answer made from it may be reused, as
    /// long as nothing is refetched or revoked meanwhile (the caller watches
    /// those counts). `None` for a token without `exp`, whose answers are
    /// never reused outside the record.
    pub fn reusable_for(&self, now: Instant, now_ms: f64) -> Option<Duration> {
        let until_exp_ms = self.good_before_secs? * 1000.0 - now_ms;
        let until_exp = Duration::try_from_secs_f64(until_exp_ms / 1000.0).unwrap_or(Duration::ZERO);
        Some(until_exp.min(self.key_set_fresh_until.saturating_duration_since(now)))
    }
}

/// `Verified::revocations_seen` of a record made without a revocation check.
pub const UNCHECKED: u64 = u64::MAX;

/// What a session lookup checks besides the record's own validity: whether
/// the token was revoked since the record last looked (`count` is the
/// revocation count now; `is_revoked` is only called when it moved).
pub struct RevocationCheck<'a> {
    pub count: u64,
    pub is_revoked: &'a dyn Fn() -> bool,
}

pub struct VerifiedTokens {
    entries: Mutex<BoundedMap<TokenKey, Verified>>,
}

impl VerifiedTokens {
    pub fn new(capacity: usize) -> Self {
        VerifiedTokens { entries: Mutex::new(BoundedMap::new(capacity)) }
    }

    /// The still-valid, unrevoked verification of this token, if any.
    pub fn get(
        &self,
        key: &TokenKey,
        current_generation: u64,
        now: Instant,
        now_secs: f64,
        revocation: RevocationCheck<'_>,
    ) -> Option<Verified> {
        self.valid_entry(key, current_generation, now, now_secs, Some(revocation), Verified::clone)
    }

    #[cfg(test)]
    fn subject(
        &self,
        key: &TokenKey,
        generation: u64,
        now: Instant,
        now_secs: f64,
        revocation: RevocationCheck<'_>,
    ) -> Option<Option<String>> {
        self.get(key, generation, now, now_secs, revocation).map(|record| record.subject)
    }

    /// Whether a still-valid verification of this token is on record
    /// (revoked or not: a verification is not a session).
    pub fn holds(&self, key: &TokenKey, current_generation: u64, now: Instant, now_secs: f64) -> bool {
        self.valid_entry(key, current_generation, now, now_secs, None, |_| ()).is_some()
    }

    /// `read` of the entry for `key` if it is still valid (and, when asked,
    /// not revoked); an invalid one is dropped.
    fn valid_entry<R>(
        &self,
        key: &TokenKey,
        current_generation: u64,
        now: Instant,
        now_secs: f64,
        revocation: Option<RevocationCheck<'_>>,
        read: impl FnOnce(&Verified) -> R,
    ) -> Option<R> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let entry = entries.get_mut(key)?;
        let valid = entry.key_set_generation == current_generation
            && now < entry.key_set_fresh_until
            && entry.good_before_secs.is_none_or(|before| now_secs < before);
        if !valid {
            entries.remove(key);
            return None;
        }
        if let Some(check) = revocation.filter(|check| check.count != entry.revocations_seen) {
            if (check.is_revoked)() {
                return None;
            }
            entry.revocations_seen = check.count;
        }
        Some(read(entry))
    }

    pub fn insert(&self, key: TokenKey, verified: Verified) {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).insert(key, verified);
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn token_key(context: &str, token: &str) -> TokenKey {
        KeyPrefix::new(context).key(token)
    }

    fn entry(generation: u64, good_before_secs: Option<f64>, fresh_for: Duration) -> Verified {
        Verified {
            subject: Some("user".into()),
            good_before_secs,
            key_set_generation: generation,
            key_set_fresh_until: Instant::now() + fresh_for,
            revocations_seen: 0,
        }
    }

    fn unrevoked(count: u64) -> RevocationCheck<'static> {
        RevocationCheck { count, is_revoked: &|| false }
    }

    #[test]
    fn hit_until_exp_generation_or_freshness_ends() {
        let cache = VerifiedTokens::new(10);
        let key = token_key("uri", "token");
        cache.insert(key, entry(1, Some(1000.0), Duration::from_secs(60)));
        assert_eq!(cache.subject(&key, 1, Instant::now(), 999.0, unrevoked(0)), Some(Some("user".into())));
        assert!(cache.holds(&key, 1, Instant::now(), 999.0));
        let record = cache.get(&key, 1, Instant::now(), 999.0, unrevoked(0)).expect("still valid");
        assert_eq!((record.subject.as_deref(), record.good_before_secs), (Some("user"), Some(1000.0)));
        assert_eq!(cache.get(&key, 2, Instant::now(), 999.0, unrevoked(0)), None, "key set refetched");
        cache.insert(key, entry(1, Some(1000.0), Duration::from_secs(60)));
        assert!(!cache.holds(&key, 1, Instant::now(), 1000.0), "exp reached");
        cache.insert(key, entry(1, Some(1000.0), Duration::from_secs(60)));
        assert_eq!(cache.subject(&key, 1, Instant::now(), 1000.0, unrevoked(0)), None, "exp reached");
        cache.insert(key, entry(1, None, Duration::from_secs(60)));
        assert_eq!(cache.subject(&key, 2, Instant::now(), 0.0, unrevoked(0)), None, "key set refetched");
        cache.insert(key, entry(1, None, Duration::ZERO));
        assert_eq!(cache.subject(&key, 1, Instant::now(), 0.0, unrevoked(0)), None, "key set no longer fresh");
    }

    #[test]
    fn an_answer_is_reusable_until_exp_or_the_end_of_freshness_whichever_comes_first() {
        let now = Instant::now();
        let record = |good_before_secs, fresh_for| Verified {
            key_set_fresh_until: now + fresh_for,
            ..entry(1, good_before_secs, fresh_for)
        };
        let ms = |d: Option<Duration>| d.map(|d| d.as_millis());
        assert_eq!(
            ms(record(Some(1000.0), Duration::from_secs(60)).reusable_for(now, 999_250.0)),
            Some(750),
            "exp first"
        );
        assert_eq!(
            ms(record(Some(2000.0), Duration::from_secs(60)).reusable_for(now, 999_250.0)),
            Some(60_000),
            "freshness first"
        );
        assert_eq!(
            ms(record(Some(1000.0), Duration::from_secs(60)).reusable_for(now, 1_000_000.0)),
            Some(0),
            "exp passed"
        );
        assert_eq!(
            record(None, Duration::from_secs(60)).reusable_for(now, 0.0),
            None,
            "no exp: never reused outside the record"
        );
    }

    #[test]
    fn a_session_lookup_checks_revocations_once_per_change_of_the_count() {
        let cache = VerifiedTokens::new(10);
        let key = token_key("uri", "token");
        cache.insert(key, entry(1, None, Duration::from_secs(60)));
        let asked = std::cell::Cell::new(0);
        let not_revoked = || {
            asked.set(asked.get() + 1);
            false
        };
        let check = |count| RevocationCheck { count, is_revoked: &not_revoked };
        assert!(cache.subject(&key, 1, Instant::now(), 0.0, check(0)).is_some());
        assert_eq!(asked.get(), 0, "nothing revoked since the record was made");
        assert!(cache.subject(&key, 1, Instant::now(), 0.0, check(1)).is_some());
        assert!(cache.subject(&key, 1, Instant::now(), 0.0, check(1)).is_some());
        assert_eq!(asked.get(), 1, "asked once for the new count");
        let revoked = RevocationCheck { count: 2, is_revoked: &|| true };
        assert_eq!(cache.subject(&key, 1, Instant::now(), 0.0, revoked), None);
        assert!(cache.holds(&key, 1, Instant::now(), 0.0), "still a verified token, but no session");
    }

    #[test]
    fn keys_depend_on_context_and_token() {
        assert_ne!(token_key("a", "t"), token_key("b", "t"));
        assert_ne!(token_key("a", "t"), token_key("a", "u"));
        assert_ne!(token_key("ab", "c"), token_key("a", "bc"));
        let prefix = KeyPrefix::new("context");
        assert_eq!(prefix.key("t"), prefix.key("t"), "the prefix is not consumed");
    }

    #[test]
    fn bounded() {
        let cache = VerifiedTokens::new(3);
        for i in 0..10 {
            cache.insert(token_key("u", &i.to_string()), entry(1, None, Duration::from_secs(60)));
        }
        assert!(cache.len() <= 3);
    }
}
