//! Remote key sets, fetched once and shared by every `CrossmintAuth` in the
//! process. The reference fetches the key set on every verification; here a
//! set is reused for ten minutes, refetched early (at most once per cooldown)
//! when a token names a key we have not seen, and kept for a while when
//! Crossmint cannot be reached, so a Crossmint outage does not log anyone out.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::bounded_map::BoundedMap;
use crate::crossmint_client::{client, send, ClientErrorKind, HttpCall, HTTP_NO_REDIRECT};
use crate::jwks::KeySet;
use crate::verify_error::{VerifyError, VerifyErrorKind};

pub const TTL: Duration = Duration::from_secs(600);
/// How long past its freshness a set is still served while a background
/// refetch runs; later, a fetch is tried before old keys are trusted.
pub const REVALIDATE_WINDOW: Duration = Duration::from_secs(60);

/// `REVALIDATE_WINDOW`, never longer than the freshness itself (which the
/// test suite shortens).
fn revalidate_window() -> Duration {
    REVALIDATE_WINDOW.min(ttl())
}
/// After a failed fetch, callers get that failure (or the held keys) for this
/// long instead of starting another fetch.
pub const FAILURE_BACKOFF: Duration = Duration::from_secs(5);

/// The freshness actually used: `TTL`, unless `CROSSMINT_NATIVE_KEY_SET_TTL_MS`
/// shortens it (the test suite exercises expiry without waiting). It can
/// only shorten: a longer freshness would keep a key Crossmint withdrew
/// verifying for longer.
pub fn ttl() -> Duration {
    static CONFIGURED: LazyLock<Duration> = LazyLock::new(|| {
        std::env::var("CROSSMINT_NATIVE_KEY_SET_TTL_MS")
            .ok()
            .and_then(|ms| ms.parse::<u64>().ok())
            .map_or(TTL, |ms| Duration::from_millis(ms).min(TTL))
    });
    *CONFIGURED
}
/// Unknown `kid`s trigger at most one refetch per this interval, so random
/// key ids in forged tokens cannot turn into a flood of requests.
pub const UNKNOWN_KID_COOLDOWN: Duration = Duration::from_secs(5);
/// How long keys already held keep verifying while refetches fail, unless
/// the instance says otherwise (`keySetStaleIfErrorSeconds`).
pub const STALE_IF_ERROR: Duration = Duration::from_secs(24 * 3600);
/// jose's default deadline for a key set request.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Numbers every fetched set, so verifications made with an older set can be
/// told apart from current ones.
static GENERATIONS: AtomicU64 = AtomicU64::new(1);

/// How many times any held set was replaced by one with a new generation.
/// Counted after the replacement is visible, so whoever reads an unchanged
/// count after a lookup knows every generation the lookup saw is still held.
static GENERATION_CHANGES: AtomicU64 = AtomicU64::new(0);

/// The count of generation changes so far (see `GENERATION_CHANGES`); read it
/// before a lookup whose answer is to be reused while the count stays put.
pub fn generation_changes() -> u64 {
    GENERATION_CHANGES.load(Ordering::Acquire)
}

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
        HeldKeySet { keys: f.keys, generation: f.generation, fresh_until: f.at + ttl() }
    }
}

pub struct RemoteKeySet {
    uri: String,
    current: RwLock<Option<Fetched>>,
    /// When a fetch was last made because a token named a key we lack.
    last_kid_refetch: Mutex<Option<Instant>>,
    last_failure: Mutex<Option<(Instant, VerifyError)>>,
    refetching: std::sync::atomic::AtomicBool,
    /// Serialises fetches, so concurrent misses share one request.
    fetching: tokio::sync::Mutex<()>,
    warned: std::sync::atomic::AtomicBool,
}

/// Key sets by URI. When full it is emptied: verifiers keep the set they
/// hold, and a new verifier of the same URI fetches it once more.
static REGISTRY: LazyLock<Mutex<BoundedMap<String, Arc<RemoteKeySet>>>> =
    LazyLock::new(|| Mutex::new(BoundedMap::new(REGISTRY_LIMIT)));
const REGISTRY_LIMIT: usize = 256;

/// The process-wide entry for a key set URI.
pub fn remote(uri: &str) -> Arc<RemoteKeySet> {
    let mut registry = REGISTRY.lock().unwrap_or_else(|p| p.into_inner());
    registry
        .get_or_insert_with(uri.to_string(), || {
            Arc::new(RemoteKeySet {
                uri: uri.to_string(),
                current: RwLock::new(None),
                last_kid_refetch: Mutex::new(None),
                last_failure: Mutex::new(None),
                refetching: Default::default(),
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
        let fresh = now.duration_since(fetched.at) < ttl();
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
        let fresh = fetched.at.elapsed() < ttl();
        let knows_kid = kid.is_none_or(|kid| fetched.keys.has_kid(kid));
        (fresh && knows_kid).then(|| fetched.into())
    }

    /// Whether a set is held and still fresh: one that does not know a kid
    /// then means no key Crossmint publishes made the token.
    pub fn holds_fresh_set(&self) -> bool {
        self.current().is_some_and(|fetched| fetched.at.elapsed() < ttl())
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
            Ok(url) => {
                format!("{}:{}", url.host_str().unwrap_or_default(), url.port_or_known_default().unwrap_or_default())
            }
            Err(_) => self.uri.clone(),
        }
    }

    async fn fetch(&self, deadline: Duration) -> Result<KeySet, VerifyError> {
        let sent = async { send(client(&HTTP_NO_REDIRECT)?.get(&self.uri), deadline, HttpCall::KeySet).await };
        let answer = sent.await.map_err(|e| match (e.kind, e.errno) {
            (ClientErrorKind::Timeout, _) => VerifyError::new(VerifyErrorKind::KeySetTimeout, "request timed out"),
            (ClientErrorKind::InvalidResponse | ClientErrorKind::Rejected(_), _) => {
                VerifyError::new(VerifyErrorKind::KeySetResponse, e.message)
            }
            // Node's socket error text, which the reference passes through.
            (_, Some(errno)) => VerifyError::new(
                VerifyErrorKind::KeySetUnreachable(errno),
                format!("connect {errno} {}", self.host_and_port()),
            ),
            (_, None) => VerifyError::new(VerifyErrorKind::KeySetUnreachable("ERR_JWKS_UNREACHABLE"), e.message),
        })?;
        if answer.status.as_u16() != 200 {
            return Err(VerifyError::new(
                VerifyErrorKind::KeySetResponse,
                "Expected 200 OK from the JSON Web Key Set HTTP response",
            ));
        }
        KeySet::from_slice(&answer.body)
    }
}

impl RemoteKeySet {
    /// The key set that should verify a token naming `kid`. Fresh: answered
    /// from memory. Stale but still within the stale-if-error window and
    /// knowing `kid`: answered from memory while one refetch runs in the
    /// background. Otherwise one fetch, shared by every caller waiting for it;
    /// a failed fetch is remembered for a few seconds so callers behind it do
    /// not each wait out their own timeout.
    /// `deadline` bounds this caller's wait only: the fetch itself always gets
    /// jose's 5 s, so one impatient instance cannot fail it for the others.
    /// `stale_if_error` is how old a held set this caller still trusts when
    /// fetching fails.
    pub async fn key_set_for(
        self: &Arc<Self>,
        kid: Option<&str>,
        deadline: Duration,
        stale_if_error: Duration,
    ) -> Result<HeldKeySet, VerifyError> {
        match tokio::time::timeout(deadline, self.key_set_within(kid, stale_if_error)).await {
            Ok(result) => result,
            // The fetch hangs: for this caller that is a failure, and a failed
            // fetch falls back to the keys held (stale-if-error).
            Err(_) => self
                .held_if_error(kid, stale_if_error)
                .ok_or_else(|| VerifyError::new(VerifyErrorKind::KeySetTimeout, "request timed out")),
        }
    }

    async fn key_set_within(
        self: &Arc<Self>,
        kid: Option<&str>,
        stale_if_error: Duration,
    ) -> Result<HeldKeySet, VerifyError> {
        if let Some(keys) = self.usable(kid, Instant::now()) {
            return Ok(keys);
        }
        if let Some(stale) = self.stale_for(kid, stale_if_error) {
            self.refetch_in_background();
            return Ok(stale);
        }
        // Fetching failed last time and has not succeeded since: while the
        // outage lasts, callers do not wait on every new attempt (each may
        // hang for the whole fetch timeout) but get the held keys at once,
        // while one refetch at a time runs in the background.
        if self.last_fetch_failed() {
            if let Some(held) = self.held_if_error(kid, stale_if_error) {
                self.refetch_in_background();
                return Ok(held);
            }
        }
        // The fetch runs in its own task: a caller that stops waiting (its
        // deadline passed) must not cancel it, or the failure it would have
        // shared with the callers queued behind it is never recorded.
        let remote = self.clone();
        let kid = kid.map(str::to_owned);
        match tokio::spawn(async move { remote.fetch_in_turn(kid.as_deref(), stale_if_error).await }).await {
            Ok(result) => result,
            Err(_) => Err(VerifyError::new(
                VerifyErrorKind::KeySetUnreachable("ERR_JWKS_UNREACHABLE"),
                "the key set fetch stopped unexpectedly",
            )),
        }
    }

    /// One caller at a time: reuse what the previous turn fetched or failed,
    /// else fetch.
    async fn fetch_in_turn(&self, kid: Option<&str>, stale_if_error: Duration) -> Result<HeldKeySet, VerifyError> {
        let _turn = self.fetching.lock().await;
        // Whoever held the lock before us may have fetched, or failed to.
        if let Some(keys) = self.usable(kid, Instant::now()) {
            return Ok(keys);
        }
        if let Some(error) = self.recent_failure() {
            // Stale-if-error: the failure is shared, and so are the keys held.
            return self.held_if_error(kid, stale_if_error).ok_or(error);
        }
        if self.holds_fresh_set() {
            // A fresh set that lacks the kid: this refetch is what the cooldown limits.
            *self.last_kid_refetch.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
        }
        self.fetch_and_store(stale_if_error).await
    }

    /// A held set just past its freshness that may still serve `kid` while a
    /// refetch runs in the background. Older sets are not served before a
    /// fetch has been tried (a removed key must stop working), nor sets older
    /// than the caller trusts when fetching fails.
    fn stale_for(&self, kid: Option<&str>, stale_if_error: Duration) -> Option<HeldKeySet> {
        let held = self.current()?;
        let age = held.at.elapsed();
        let usable = age < ttl() + revalidate_window()
            && age < ttl().max(stale_if_error)
            && kid.is_none_or(|kid| held.keys.has_kid(kid));
        usable.then(|| held.into())
    }

    /// The held set, when fetching failed and it is young enough to trust.
    fn held_if_error(&self, kid: Option<&str>, stale_if_error: Duration) -> Option<HeldKeySet> {
        let held = self.current()?;
        let usable = held.at.elapsed() < stale_if_error && kid.is_none_or(|kid| held.keys.has_kid(kid));
        usable.then(|| held.into())
    }

    /// Whether the last fetch failed (a success clears it).
    fn last_fetch_failed(&self) -> bool {
        self.last_failure.lock().unwrap_or_else(|p| p.into_inner()).is_some()
    }

    fn recent_failure(&self) -> Option<VerifyError> {
        let failure = self.last_failure.lock().unwrap_or_else(|p| p.into_inner());
        match &*failure {
            Some((at, error)) if at.elapsed() < FAILURE_BACKOFF => Some(error.clone()),
            _ => None,
        }
    }

    fn refetch_in_background(self: &Arc<Self>) {
        if self.refetching.swap(true, Ordering::AcqRel) {
            return;
        }
        let remote = self.clone();
        tokio::spawn(async move {
            let _turn = remote.fetching.lock().await;
            if !remote.holds_fresh_set() && remote.recent_failure().is_none() {
                let _ = remote.fetch_and_store(STALE_IF_ERROR).await;
            }
            remote.refetching.store(false, Ordering::Release);
        });
    }

    /// Fetches now; call with the `fetching` lock held. When the fetch fails,
    /// answers the held set if it is younger than `stale_if_error`.
    async fn fetch_and_store(&self, stale_if_error: Duration) -> Result<HeldKeySet, VerifyError> {
        match self.fetch(FETCH_TIMEOUT).await {
            Ok(keys) => {
                // Verifications made with the held set stay valid unless a
                // key was removed or changed: refetching an identical set
                // (which anyone can trigger with a random kid) costs nothing.
                let (generation, changed) = match self.current() {
                    Some(held) if held.keys.is_subset_of(&keys) => (held.generation, false),
                    _ => (GENERATIONS.fetch_add(1, Ordering::Relaxed), true),
                };
                let fetched = Fetched { keys: Arc::new(keys), at: Instant::now(), generation };
                *self.current.write().unwrap_or_else(|p| p.into_inner()) = Some(fetched.clone());
                if changed {
                    GENERATION_CHANGES.fetch_add(1, Ordering::Release);
                }
                *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = None;
                self.warned.store(false, Ordering::Relaxed);
                Ok(fetched.into())
            }
            Err(error) => {
                *self.last_failure.lock().unwrap_or_else(|p| p.into_inner()) = Some((Instant::now(), error.clone()));
                match self.current() {
                    Some(held) if held.at.elapsed() < stale_if_error => {
                        if !self.warned.swap(true, Ordering::Relaxed) {
                            crate::warnings::push(format!(
                                "crossmint-server-native: refreshing the key set at {} failed ({error}); verifying with the keys already held",
                                self.uri
                            ));
                        }
                        Ok(held.into())
                    }
                    _ => Err(error),
                }
            }
        }
    }
}
