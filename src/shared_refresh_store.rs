//! Refreshes shared across processes (`refreshCoordination`, or the
//! embedded store of one host): one protocol over two stores.
//!
//! The in-process table (refresh_flight) keeps every concurrent request's
//! session inside one process. Behind a load balancer, or in Node's
//! `cluster`, the eight requests a browser fires with an expired JWT land on
//! several processes, and each would spend the same single-use refresh
//! token: all but one lose the session. Here the first process to see a
//! token takes a short lock in the store, refreshes, and publishes the
//! outcome for the grace window; the others wait for it and answer with the
//! same material. What the store holds is `sealed_records`'.
//!
//! A logout marks its token's record (and the chain's) as logged out,
//! whether or not a refresh of it was ever shared, so no process refreshes
//! it afterwards; and announces the digests of the JWTs it refused, so every
//! process listening refuses them too. A rotated token leaves a marker of
//! its own, so no process presents it to Crossmint again.
//!
//! The store is never a new way to fail: every operation has a short
//! deadline, and when the store is down, slow or refuses, the caller
//! refreshes as it would without coordination (the in-process table still
//! applies). The first failure raises one warning; afterwards one caller a
//! second tries the store, and the first success raises one more line and
//! resumes coordination.

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::file_refresh_store::FileBackend;
use crate::redis_refresh_store::RedisBackend;
use crate::refresh_flight::{RefreshHandout, ROTATION_GRACE};
use crate::sealed_records::{
    self as records, millis, open, record_id, seal, wall_clock_ms, RecordHeader, SharedOutcome, Verdict, LOGGED_OUT,
    LOGOUT_WINDOW, MAX_CHAIN, PICKUP_WINDOW, REFUSAL_WINDOW, SPENT_WINDOW,
};
use crate::warnings;

/// Any one operation on the store.
pub const OP_DEADLINE: Duration = Duration::from_millis(200);
/// While the store is failing, how often one caller tries it again.
pub const RETRY_EVERY: Duration = Duration::from_secs(1);
/// How often a waiting process looks for the leader's outcome: a read is
/// cheap next to a refresh, and a follower waits on average half of this
/// beyond the leader (measured by bench/coordination.js).
pub const POLL_EVERY: Duration = Duration::from_millis(4);

/// One store per Redis URL or file for the whole process (`None`: a file
/// the system refused, warned of once).
static STORES: LazyLock<Mutex<HashMap<String, Option<Arc<SharedRefreshStore>>>>> = LazyLock::new(Default::default);

/// The process's store for a Redis (or a cluster's seed nodes), created on
/// first use. Fails (without connecting) when a URL cannot be used.
pub fn redis_store(urls: &[String]) -> Result<Arc<SharedRefreshStore>, String> {
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    let name = format!("redis\n{}", urls.join("\n"));
    if let Some(Some(store)) = stores.get(&name) {
        return Ok(store.clone());
    }
    let backend = RedisBackend::new(urls)?;
    let shown = backend.shown_name();
    let store = Arc::new(SharedRefreshStore::new(Backend::Redis(Box::new(backend)), shown)?);
    stores.insert(name, Some(store.clone()));
    Ok(store)
}

/// The process's store in the file at `path`, opened on first use; `None`
/// (after one warning) when the file system refuses it: refreshes are then
/// coordinated within the process, and no request fails for it.
pub fn file_store(path: &Path) -> Option<Arc<SharedRefreshStore>> {
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    let name = format!("file\n{}", path.display());
    if let Some(known) = stores.get(&name) {
        return known.clone();
    }
    let opened = FileBackend::open(path).and_then(|backend| {
        let shown = backend.shown_name();
        SharedRefreshStore::new(Backend::File(backend), shown).map(Arc::new)
    });
    let store = match opened {
        Ok(store) => Some(store),
        Err(error) => {
            warnings::push(format!(
                "Refreshes cannot be shared with this machine's other processes: {error}. They are \
                 coordinated within this process only (localCoordination: {{ file }} chooses another file)."
            ));
            None
        }
    };
    stores.insert(name, store.clone());
    store
}

/// What holds the records. Each answers the four steps of the protocol
/// atomically (a Lua script, a SQLite transaction), with the same replies.
pub enum Backend {
    Redis(Box<RedisBackend>),
    File(FileBackend),
}

/// The claim step's arguments (see `Backend::claim`).
pub struct Claim<'a> {
    pub key: &'a str,
    pub spent_key: &'a str,
    pub lock: &'a str,
    pub lock_for: Duration,
    pub grace: Duration,
    pub refusal: Duration,
}

/// The publish step's arguments (see `Backend::publish`).
pub struct Publish<'a> {
    pub key: &'a str,
    pub predecessor_key: &'a str,
    pub spent_key: &'a str,
    pub lock: &'a str,
    pub record: &'a str,
    pub keep: Duration,
    /// The id written under `predecessor_key` (empty: none).
    pub predecessor_id: &'a str,
    /// How long `spent_key` is set (`None`: not set).
    pub spent_for: Option<Duration>,
}

impl Backend {
    /// Looks at the record under `key`. Answers a lock marker (`lock:`) or a
    /// logout marker as is, and an outcome (`r:`) when the caller may reuse
    /// it (its age read off its remaining life; the caller checks it again
    /// against the sealed creation time); `spent` when the token was
    /// exchanged or refused and nothing is left to reuse; otherwise takes the
    /// lock and answers `lead`.
    async fn claim(&self, claim: &Claim<'_>) -> Result<String, String> {
        match self {
            Backend::Redis(redis) => redis.claim(claim).await,
            Backend::File(file) => file.claim(claim).await,
        }
    }

    async fn get(&self, key: &str) -> Result<Option<String>, String> {
        match self {
            Backend::Redis(redis) => redis.get(key).await,
            Backend::File(file) => file.get(key).await,
        }
    }

    /// Replaces the caller's lock with its outcome, records the predecessor
    /// of the token it issued, and marks the token spent. Answers
    /// `logged-out` when a logout ended the chain meanwhile, `lost` when the
    /// lock expired and someone else took over, `ok` otherwise.
    async fn publish(&self, publish: &Publish<'_>) -> Result<String, String> {
        match self {
            Backend::Redis(redis) => redis.publish(publish).await,
            Backend::File(file) => file.publish(publish).await,
        }
    }

    /// Marks `key` as logged out (whether or not a refresh of its token was
    /// ever shared), and the records that led to it when they exist.
    /// Answers the record's previous outcome, if it held one.
    async fn log_out(&self, key: &str, id: &str) -> Result<Option<String>, String> {
        match self {
            Backend::Redis(redis) => redis.log_out(key, id).await,
            Backend::File(file) => file.log_out(key, id).await,
        }
    }

    async fn announce(&self, message: &str) -> Result<(), String> {
        match self {
            Backend::Redis(redis) => redis.announce(message).await,
            Backend::File(file) => file.announce(message).await,
        }
    }

    /// Opens what the first operation would open (Redis: its connection).
    async fn prepare(&self) {
        match self {
            Backend::Redis(redis) => redis.prepare().await,
            Backend::File(_) => {}
        }
    }

    /// Hears revocation messages until the connection is lost.
    async fn listen(&self, on_message: &(dyn Fn(&str) + Send + Sync)) {
        match self {
            Backend::Redis(redis) => redis.listen(on_message).await,
            Backend::File(file) => file.listen(on_message).await,
        }
    }
}

/// The previous value of a record a logout replaced, as `log_out` answers it:
/// only an outcome is worth opening.
pub fn outcome_of(old: Option<String>) -> Option<String> {
    old.filter(|old| old != LOGGED_OUT && !old.starts_with("lock:"))
}

#[derive(Default)]
struct Health {
    /// Set while the store is failing: when a caller may try it again.
    retry_at: Option<Instant>,
}

pub struct SharedRefreshStore {
    backend: Backend,
    /// How warnings name the store (a redacted URL, a file path).
    shown_name: String,
    health: Mutex<Health>,
    /// Makes lock markers unique to this process and flight.
    owner: String,
    next_flight: AtomicU64,
    /// Whether the task that hears other processes' JWT revocations runs.
    listening: AtomicBool,
}

/// What the claim step answered.
enum Claimed {
    Lead,
    Wait,
    LoggedOut,
    Spent,
    Outcome(String),
}

impl Claimed {
    fn read(reply: &str) -> Self {
        match reply {
            "lead" => Claimed::Lead,
            LOGGED_OUT => Claimed::LoggedOut,
            "spent" => Claimed::Spent,
            r if r.starts_with("r:") => Claimed::Outcome(r.to_string()),
            _ => Claimed::Wait,
        }
    }
}

impl SharedRefreshStore {
    pub fn new(backend: Backend, shown_name: String) -> Result<Self, String> {
        let mut owner = [0u8; 8];
        aws_lc_rs::rand::fill(&mut owner).map_err(|_| "no system random source".to_string())?;
        Ok(SharedRefreshStore {
            backend,
            shown_name,
            health: Mutex::new(Health::default()),
            owner: records::hex(&owner),
            next_flight: AtomicU64::new(0),
            listening: AtomicBool::new(false),
        })
    }

    /// Whether this call may use the store: always while it works; while it
    /// fails, one caller per RETRY_EVERY, so an outage costs the others
    /// nothing.
    fn admit(&self) -> bool {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        match health.retry_at {
            None => true,
            Some(at) if Instant::now() >= at => {
                health.retry_at = Some(Instant::now() + RETRY_EVERY);
                true
            }
            Some(_) => false,
        }
    }

    /// Whether coordination is working (false during an outage). While it
    /// is, the in-process table only shares refreshes in flight: reusing a
    /// finished one is the store's decision, so a logout on another process ends it.
    pub fn healthy(&self) -> bool {
        self.health.lock().unwrap_or_else(|p| p.into_inner()).retry_at.is_none()
    }

    /// `redis` or `local`, as diagnostics name the store.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Redis(_) => "redis",
            Backend::File(_) => "local",
        }
    }

    fn failed(&self, error: &str) {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        if health.retry_at.is_none() {
            crate::telemetry::coordination(self.kind(), false);
            warnings::push(format!(
                "Refresh coordination through {} is unavailable: {error}. Refreshes are \
                 coordinated within this process only until it answers again (tried every {} s).",
                self.shown_name,
                RETRY_EVERY.as_secs()
            ));
        }
        health.retry_at = Some(Instant::now() + RETRY_EVERY);
    }

    fn succeeded(&self) {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        if health.retry_at.take().is_some() {
            crate::telemetry::coordination(self.kind(), true);
            warnings::push(format!(
                "Refresh coordination through {} works again: refreshes are shared across processes.",
                self.shown_name
            ));
        }
    }

    /// One operation's result, recording the health; `None` when it failed
    /// (the failure is recorded, and warned of once).
    fn checked<V>(&self, result: Result<V, String>) -> Option<V> {
        match result {
            Ok(value) => {
                self.succeeded();
                Some(value)
            }
            Err(error) => {
                self.failed(&error);
                None
            }
        }
    }

    /// Starts, once per store, the task that hears the JWTs other processes'
    /// logouts refused and refuses them here too. It listens again whenever
    /// it loses the store; revocations announced meanwhile are missed
    /// (refresh tokens are not: their markers are in the records).
    pub fn listen_for_revocations(self: &Arc<Self>) {
        if self.listening.swap(true, Ordering::AcqRel) {
            return;
        }
        /// Lets a later call start the task again should this one be dropped
        /// (its runtime shut down with the last JavaScript environment).
        struct Listening(Arc<SharedRefreshStore>);
        impl Drop for Listening {
            fn drop(&mut self) {
                self.0.listening.store(false, Ordering::Release);
            }
        }
        // The first requests after a start should find the connection open:
        // opening a cluster's takes several round trips, and a step that
        // waits past its deadline falls back to in-process coordination.
        let warming = self.clone();
        tokio::spawn(async move { warming.backend.prepare().await });
        let listening = Listening(self.clone());
        tokio::spawn(async move {
            let store = &listening.0;
            let on_message = |text: &str| {
                for (digest, memory) in text.split(' ').filter_map(records::parse_revocation) {
                    crate::revoked_jwts::revoke_digest(digest, memory);
                }
            };
            loop {
                store.backend.listen(&on_message).await;
                tokio::time::sleep(RETRY_EVERY).await;
            }
        });
    }

    /// The refresh a store failure leaves this caller to make in-process. A
    /// failure can be a slow answer, not a dead store: when Crossmint then
    /// refuses the token, another process may have spent it through the
    /// store a moment earlier, and its outcome, once the store shows it
    /// (waiting while its lock is there), answers instead of a refusal that
    /// would end the session.
    async fn refresh_despite_store<T: SharedOutcome>(
        &self,
        flight_key: &str,
        id: &str,
        key: &str,
        grace: Duration,
        wait_until: Instant,
        refreshing: impl Future<Output = T>,
    ) -> RefreshHandout<T> {
        let outcome = refreshing.await;
        if outcome.verdict() != Verdict::Refused {
            return RefreshHandout::Outcome(outcome);
        }
        loop {
            // Straight to the backend: the failure just recorded keeps the
            // store out for everyone else, not for this one look.
            let Ok(found) = self.backend.get(key).await else { break };
            match found.as_deref().map(Claimed::read) {
                Some(Claimed::Outcome(record)) => {
                    let opened = open(flight_key, id, &record)
                        .and_then(|(header, plain)| T::decode(&plain).map(|theirs| (header, theirs)));
                    if let Some((header, theirs)) = opened {
                        if header.verdict == Verdict::Succeeded
                            && header.usable(wall_clock_ms(), false, grace)
                            && !theirs.logged_out()
                        {
                            return RefreshHandout::Outcome(theirs);
                        }
                    }
                    break;
                }
                Some(Claimed::Wait) if Instant::now() < wait_until => tokio::time::sleep(POLL_EVERY).await,
                _ => break,
            }
        }
        RefreshHandout::Outcome(outcome)
    }

    /// Tells every listening process that these JWTs (digests, with how
    /// long to refuse each) are refused as sessions from now on.
    pub async fn announce_revoked_jwts(self: &Arc<Self>, revoked: &[([u8; 32], Duration)]) {
        if revoked.is_empty() || !self.admit() {
            return;
        }
        self.listen_for_revocations();
        let result = self.backend.announce(&records::revocation_message(revoked)).await;
        self.checked(result);
    }

    /// Runs `refresh` unless another process is refreshing `flight_key`'s
    /// token (then waits for its outcome) or finished within the grace
    /// window (then reuses it). `lock_for` bounds how long others wait for
    /// this process should it die mid-refresh: the refresh's own deadline
    /// plus a margin. `successor` names (as a flight key) the token an
    /// outcome issued, so a logout with that token reaches this record.
    pub async fn run<T, F, Fut>(
        self: &Arc<Self>,
        flight_key: &str,
        grace: Duration,
        lock_for: Duration,
        successor: impl Fn(&T) -> Option<String>,
        refresh: F,
    ) -> RefreshHandout<T>
    where
        T: SharedOutcome,
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let id = record_id(flight_key);
        let key = records::record_key(&id);
        let grace = grace.min(ROTATION_GRACE);
        // A waiting process gives up past this and refreshes itself.
        let wait_until = Instant::now() + lock_for * 2;
        if !self.admit() {
            return self.refresh_despite_store(flight_key, &id, &key, grace, wait_until, refresh()).await;
        }
        self.listen_for_revocations();
        let spent_key = records::spent_key(&id);
        let lock = format!("lock:{}:{}", self.owner, self.next_flight.fetch_add(1, Ordering::Relaxed));
        let mut waiting = false;
        loop {
            let looked = if waiting {
                tokio::time::sleep(POLL_EVERY).await;
                let result = self.backend.get(&key).await;
                match self.checked(result) {
                    None => {
                        return self.refresh_despite_store(flight_key, &id, &key, grace, wait_until, refresh()).await
                    }
                    Some(value) => value.map(|value| Claimed::read(&value)),
                }
            } else {
                None
            };
            // Nothing there (first look, or the leader's lock expired
            // because it died): the claim step decides.
            let claimed = match looked {
                Some(claimed) => claimed,
                None => {
                    let claim = Claim {
                        key: &key,
                        spent_key: &spent_key,
                        lock: &lock,
                        lock_for,
                        grace,
                        refusal: REFUSAL_WINDOW,
                    };
                    let result = self.backend.claim(&claim).await;
                    match self.checked(result) {
                        None => {
                            return self
                                .refresh_despite_store(flight_key, &id, &key, grace, wait_until, refresh())
                                .await
                        }
                        Some(reply) => Claimed::read(&reply),
                    }
                }
            };
            match claimed {
                Claimed::Lead => break,
                Claimed::LoggedOut => return RefreshHandout::LoggedOut { to_revoke: None },
                Claimed::Spent => return RefreshHandout::Outcome(T::already_spent()),
                Claimed::Outcome(record) => {
                    let opened = open(flight_key, &id, &record)
                        .and_then(|(header, plain)| T::decode(&plain).map(|outcome| (header, outcome)));
                    let Some((header, outcome)) = opened else {
                        // Not written by a holder of this token: ignore it.
                        return RefreshHandout::Outcome(refresh().await);
                    };
                    if !header.usable(wall_clock_ms(), waiting, grace) {
                        // Written back after its time (a replay), or seen
                        // too late: the token was presented, so it is not
                        // again, unless what came back was an outage.
                        return match header.verdict {
                            Verdict::Failed => RefreshHandout::Outcome(refresh().await),
                            _ => RefreshHandout::Outcome(T::already_spent()),
                        };
                    }
                    if outcome.logged_out() {
                        // Its session was logged out (announced to this
                        // process): whatever the store says now, it stays out.
                        return RefreshHandout::LoggedOut { to_revoke: None };
                    }
                    return RefreshHandout::Outcome(outcome);
                }
                Claimed::Wait => {
                    if Instant::now() >= wait_until {
                        return RefreshHandout::Outcome(refresh().await);
                    }
                    waiting = true;
                }
            }
        }

        let outcome = refresh().await;
        let verdict = outcome.verdict();
        let keep = match verdict {
            Verdict::Succeeded => grace.max(PICKUP_WINDOW),
            Verdict::Refused => REFUSAL_WINDOW.max(PICKUP_WINDOW),
            Verdict::Failed => PICKUP_WINDOW,
        };
        let header = RecordHeader { keep, grace, verdict, created_ms: wall_clock_ms() }.text();
        let record = seal(flight_key, &id, &header, &outcome.encode());
        let next_id = match verdict {
            Verdict::Succeeded => successor(&outcome).map(|next| record_id(&next)),
            _ => None,
        };
        let predecessor_key = next_id.as_deref().map(records::predecessor_key).unwrap_or_default();
        let publish = Publish {
            key: &key,
            predecessor_key: &predecessor_key,
            spent_key: &spent_key,
            lock: &lock,
            record: &record,
            keep,
            predecessor_id: if next_id.is_some() { id.as_str() } else { "" },
            spent_for: match verdict {
                Verdict::Succeeded | Verdict::Refused => Some(SPENT_WINDOW),
                Verdict::Failed => None,
            },
        };
        let result = self.backend.publish(&publish).await;
        match self.checked(result).as_deref() {
            Some(LOGGED_OUT) => RefreshHandout::LoggedOut { to_revoke: Some(outcome) },
            _ => RefreshHandout::Outcome(outcome),
        }
    }

    /// Ends the grace window of `flight_key`'s token across processes: its
    /// record, the records that led to it, and (opening each with the token
    /// it holds) the ones that followed from it. Returns the finished
    /// outcomes dropped after it, so the tokens they issued can be revoked.
    pub async fn forget<T: SharedOutcome>(
        self: &Arc<Self>,
        flight_key: &str,
        successor: impl Fn(&T) -> Option<String>,
    ) -> Vec<T> {
        let mut dropped = Vec::new();
        if !self.admit() {
            return dropped;
        }
        self.listen_for_revocations();
        let mut current = flight_key.to_string();
        for _ in 0..MAX_CHAIN {
            let id = record_id(&current);
            let result = self.backend.log_out(&records::record_key(&id), &id).await;
            let Some(Some(old)) = self.checked(result) else { break };
            // Followed whatever its age: a logout revokes more, never less.
            let Some(outcome) = open(&current, &id, &old).and_then(|(_, plain)| T::decode(&plain)) else { break };
            let next = (outcome.verdict() == Verdict::Succeeded).then(|| successor(&outcome)).flatten();
            dropped.push(outcome);
            match next {
                Some(next) => current = next,
                None => break,
            }
        }
        dropped
    }
}

/// `LOGOUT_WINDOW` in ms, as the backends write the marker.
pub fn logout_marker_ms() -> u64 {
    millis(LOGOUT_WINDOW)
}
