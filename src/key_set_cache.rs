//! Remote key sets, fetched once and shared by every `CrossmintAuth` in the
//! process. The reference fetches the key set on every verification; here a
//! set is reused for ten minutes, refetched early (at most once per cooldown)
//! when a token names a key we have not seen, and kept for a while when
//! Crossmint cannot be reached, so a Crossmint outage does not log anyone out.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::crossmint_client::{send, ClientErrorKind, HTTP_NO_REDIRECT};
use crate::jwks::KeySet;
use crate::verify_error::{VerifyError, VerifyErrorKind};

pub const TTL: Duration = Duration::from_secs(600);
/// Unknown `kid`s trigger at most one refetch per this interval, so random
/// key ids in forged tokens cannot turn into a flood of requests.
pub const UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(5);
/// How long keys already held keep verifying while refetches fail.
pub const STALE_IF_ERROR: Duration = Duration::from_secs(24 * 3600);
/// jose's default deadline for a key set request.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Numbers every fetched set, so verifications made with an older set can be
/// told apart from current ones.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

#[derive(Clone)]
struct Fetched {
    keys: Arc<KeySet>,
    at: Instant,
    generation: u64,
}

/// A key set as held right now.
#[derive(Clone)]
pub struct HeldKeySet {
    pub keys: Arc<KeySet>,
    pub generation: u64,
    /// Verifications made with this set may be reused until then.
    pub fresh_until: Instant,
}

impl From<Fetched> for HeldKeySet {
    fn from(f: Fetched) -> Self {
        HeldKeySet {
            keys: f.keys,
            generation: f.generation,
            fresh_until: f.at + TTL,
        }
    }
}

pub struct RemoteKeySet {
    uri: String,
    current: RwLock<Option<Fetched>>,
    /// When a fetch was last made because a token named a key we lack.
    last_kid_refetch: Mutex<Option<Instant>>,
    /// Serialises fetches, so concurrent misses share one request.
    fetching: tokio::sync::Mutex<()>,
    warned: std::sync::atomic::AtomicBool,
}

static REGISTRY: LazyLock<Mutex<HashMap<String, Arc<RemoteKeySet>>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));

/// The process-wide entry for a key set URI.
pub fn remote(uri: &str) -> Arc<RemoteKeySet> {
    let mut registry = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    registry
        .entry(uri.to_string())
        .or_insert_with(|| {
            Arc::new(RemoteKeySet {
                uri: uri.to_string(),
                current: RwLock::new(None),
                last_kid_refetch: Mutex::new(None),
                fetching: tokio::sync::Mutex::new(()),
                warned: Default::default(),
            })
        })
        .clone()
}

impl RemoteKeySet {
    fn current(&self) -> Option<Fetched> {
        self.current.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The held set if it can answer for `kid` without a fetch.
    fn usable(&self, kid: Option<&str>, now: Instant) -> Option<HeldKeySet> {
        let fetched = self.current()?;
        let fresh = now.duration_since(fetched.at) < TTL;
        let knows_kid = kid.is_none_or(|kid| fetched.keys.has_kid(kid));
        if fresh && (knows_kid || self.cooling_down(now)) {
            return Some(fetched.into());
        }
        None
    }

    /// The fresh held set, if it knows `kid`: what a synchronous
    /// verification may use without waiting for the network.
    pub fn held_for(&self, kid: Option<&str>) -> Option<HeldKeySet> {
        let fetched = self.current()?;
        let fresh = fetched.at.elapsed() < TTL;
        let knows_kid = kid.is_none_or(|kid| fetched.keys.has_kid(kid));
        (fresh && knows_kid).then(|| fetched.into())
    }

    /// The generation of the set held now (0 when none).
    pub fn generation(&self) -> u64 {
        self.current().map_or(0, |f| f.generation)
    }

    fn cooling_down(&self, now: Instant) -> bool {
        self.last_kid_refetch
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| now.duration_since(at) < UNKNOWN_KID_COOLDOWN)
    }

    fn host_and_port(&self) -> String {
        match reqwest::Url::parse(&self.uri) {
            Ok(url) => format!(
                "{}:{}",
                url.host_str().unwrap_or_default(),
                url.port_or_known_default().unwrap_or_default()
            ),
            Err(_) => self.uri.clone(),
        }
    }

    async fn fetch(&self) -> Result<KeySet, VerifyError> {
        let request = HTTP_NO_REDIRECT.get(&self.uri);
        let (status, body) = send(request, FETCH_TIMEOUT, "JSON Web Key Set request")
            .await
            .map_err(|e| match (e.kind, e.errno) {
                (ClientErrorKind::Timeout, _) => {
                    VerifyError::new(VerifyErrorKind::KeySetTimeout, "request timed out")
                }
                (ClientErrorKind::InvalidResponse, _) => {
                    VerifyError::new(VerifyErrorKind::KeySetResponse, e.message)
                }
                // Node's socket error text, which the reference passes through.
                (_, Some(errno)) => VerifyError::new(
                    VerifyErrorKind::KeySetUnreachable(errno),
                    format!("connect {errno} {}", self.host_and_port()),
                ),
                (_, None) => VerifyError::new(VerifyErrorKind::KeySetUnreachable("ERR_JWKS_UNREACHABLE"), e.message),
            })?;
        if status.as_u16() != 200 {
            return Err(VerifyError::new(
                VerifyErrorKind::KeySetResponse,
                "Expected 200 OK from the JSON Web Key Set HTTP response",
            ));
        }
        KeySet::from_slice(&body)
    }
}

/// The key set at `uri` that should verify a token naming `kid`.
pub async fn key_set_for(uri: &str, kid: Option<&str>) -> Result<HeldKeySet, VerifyError> {
    remote(uri).key_set_for(kid).await
}

impl RemoteKeySet {
/// The key set that should verify a token naming `kid`, fetched if needed.
pub async fn key_set_for(self: &Arc<Self>, kid: Option<&str>) -> Result<HeldKeySet, VerifyError> {
    let remote = self;
    let uri = &remote.uri;
    if let Some(keys) = remote.usable(kid, Instant::now()) {
        return Ok(keys);
    }
    let _turn = remote.fetching.lock().await;
    // Whoever held the lock before us may have fetched what we need.
    if let Some(keys) = remote.usable(kid, Instant::now()) {
        return Ok(keys);
    }
    let held_is_fresh = remote
        .current()
        .is_some_and(|held| held.at.elapsed() < TTL);
    if held_is_fresh {
        // A fresh set that lacks the kid: this refetch is what the cooldown limits.
        *remote.last_kid_refetch.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }
    match remote.fetch().await {
        Ok(keys) => {
            let fetched = Fetched {
                keys: Arc::new(keys),
                at: Instant::now(),
                generation: GENERATIONS.fetch_add(1, Ordering::Relaxed),
            };
            *remote.current.write().unwrap_or_else(|p| p.into_inner()) = Some(fetched.clone());
            remote.warned.store(false, Ordering::Relaxed);
            Ok(fetched.into())
        }
        Err(error) => match remote.current() {
            Some(held) if held.at.elapsed() < STALE_IF_ERROR => {
                if !remote.warned.swap(true, Ordering::Relaxed) {
                    eprintln!(
                        "crossmint-server-native: refreshing the key set at {uri} failed ({error}); verifying with the keys already held"
                    );
                }
                Ok(held.into())
            }
            _ => Err(error),
        },
    }
}
}

/// Forgets every cached set (tests and key-rotation drills).
pub fn clear() {
    REGISTRY.lock().unwrap_or_else(|p| p.into_inner()).clear();
}
