//! Single-flight refreshes with a rotation grace window, and the memory of
//! how each token's refresh chain ended.
//!
//! Crossmint rotates a refresh token on first use. When a browser fires
//! twenty requests at once with an expired JWT, twenty refreshes with the same
//! token would leave nineteen of them holding a dead token, logging the user
//! out. Here concurrent refreshes of one token share one call, and for a short
//! window afterwards a request still carrying the old token (it left the
//! browser before the new cookies arrived) receives the same result.
//!
//! A logout is final: from the moment it starts, the whole rotation chain of
//! its token (the refreshes that led to it, the ones that followed) is marked
//! logged out. No refresh of a marked token starts, one under way hands out
//! nothing (its caller revokes what it issued), and one finished within its
//! grace window is dropped for the logout to revoke. A token a refresh
//! rotated is remembered too, so it is never presented to Crossmint again.
//!
//! Anyone can trigger a logout (no credentials needed), so every operation
//! costs the same whatever the table's size: tokens are hashed before the lock
//! is taken, a rotation chain is followed link by link through indexes built
//! when a refresh finishes, and entries leave the table (with the secrets they
//! hold) as soon as their grace window ends, through an expiry queue checked
//! on each operation. Tokens are kept only as SHA-256 digests, and every
//! table is bounded.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{digest, SHA256};
use tokio::sync::OnceCell;

use crate::expiring_map::ExpiringMap;

pub const ROTATION_GRACE: Duration = Duration::from_secs(30);
/// Past this many tokens in flight or in their grace window, new refreshes
/// are not shared (they still work); memory stays bounded under any load.
pub const MAX_TRACKED_TOKENS: usize = 10_000;
/// How long a logged-out token stays refused here without asking anyone:
/// far longer than any refresh in flight and than the retries of its
/// revocation at Crossmint, after which Crossmint refuses it itself.
pub const LOGOUT_MEMORY: Duration = Duration::from_secs(600);
/// How long a rotated token is remembered as spent, so a late request that
/// still carries it is answered here instead of presenting it again.
pub const ROTATED_MEMORY: Duration = Duration::from_secs(600);
/// Ended tokens remembered at most (about 80 bytes each); past it the
/// oldest are forgotten first, and Crossmint's own refusal answers for them.
pub const MAX_ENDED_TOKENS: usize = 65_536;

pub type Digest = [u8; 32];

/// The SHA-256 of a flight key or a token: what the tables hold instead of
/// it, computed before any lock is taken.
pub fn token_digest(text: &str) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, text.as_bytes()).as_ref());
    out
}

/// What a refresh's outcome means for its token and for the callers sharing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// New material: shared for the grace window; the token is spent.
    Rotated,
    /// Crossmint took the token but its answer cannot be used: the token is
    /// spent and nothing can be shared.
    SpentUnusable,
    /// Crossmint refused the token.
    Refused,
    /// The chain was logged out (as another process found).
    LoggedOut,
    /// Nothing is known of the token's fate (outage, timeout): a later
    /// request tries again.
    Unknown,
}

/// A refresh outcome as the table sees it.
pub trait RefreshOutcome: Clone {
    fn kind(&self) -> OutcomeKind;
}

/// How a token's refresh chain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ending {
    LoggedOut,
    Rotated,
}

struct Flight<T> {
    outcome: OnceCell<T>,
    /// Set when a logout ended the chain while this refresh was under way:
    /// its result must not be handed out.
    logged_out: AtomicBool,
    /// Exactly one caller revokes what a logged-out refresh issued.
    revocation_claimed: AtomicBool,
}

struct Entry<T> {
    flight: Arc<Flight<T>>,
    /// The grace of the instance that performed the refresh: a caller reuses
    /// the result for the shorter of this and its own grace.
    grace: Duration,
    finished_at: Option<Instant>,
    /// The token this refresh issued (as a flight key digest).
    successor: Option<Digest>,
    /// Distinguishes this entry from a later one under the same key in the
    /// expiry queue.
    serial: u64,
}

struct Table<T> {
    entries: HashMap<Digest, Entry<T>>,
    /// successor digest -> the entry whose refresh issued it.
    predecessors: HashMap<Digest, Digest>,
    /// (when the grace ends, key, serial) of finished entries, soonest first.
    expiries: BinaryHeap<Reverse<(Instant, Digest, u64)>>,
    next_serial: u64,
    /// Tokens whose chain was logged out or which a refresh rotated.
    ended: ExpiringMap<Digest, Ending>,
}

impl<T> Table<T> {
    fn remove(&mut self, key: &Digest) -> Option<Entry<T>> {
        let entry = self.entries.remove(key)?;
        if let Some(next) = entry.successor {
            if self.predecessors.get(&next) == Some(key) {
                self.predecessors.remove(&next);
            }
        }
        Some(entry)
    }

    /// Drops the entries whose grace window has ended.
    fn prune(&mut self, now: Instant) {
        while let Some(Reverse((at, key, serial))) = self.expiries.peek().copied() {
            if at > now {
                break;
            }
            self.expiries.pop();
            if self.entries.get(&key).is_some_and(|e| e.serial == serial) {
                self.remove(&key);
            }
        }
    }

    fn end(&mut self, key: Digest, ending: Ending, now: Instant) {
        // A logout outranks a rotation; a rotation never clears a logout.
        if ending == Ending::Rotated && self.ended.get(&key, now) == Some(&Ending::LoggedOut) {
            return;
        }
        let memory = match ending {
            Ending::LoggedOut => LOGOUT_MEMORY,
            Ending::Rotated => ROTATED_MEMORY,
        };
        self.ended.insert(key, ending, now + memory, now);
    }

    fn logged_out(&self, key: &Digest, now: Instant) -> bool {
        self.ended.get(key, now) == Some(&Ending::LoggedOut)
    }
}

/// What a caller of a shared refresh is handed.
#[derive(Debug, PartialEq)]
pub enum RefreshHandout<T> {
    /// The refresh's outcome (its own, or the one it shared).
    Outcome(T),
    /// A logout ended the chain before or while the refresh ran. `to_revoke`
    /// holds the outcome for the one caller that must revoke what it issued.
    LoggedOut { to_revoke: Option<T> },
}

/// How a call joined the table.
enum Joined<T> {
    Flight(Arc<Flight<T>>),
    /// The table is full: the refresh runs unshared.
    Untracked,
    LoggedOut,
}

pub struct RefreshFlights<T> {
    table: Mutex<Table<T>>,
    /// The longest any caller may reuse a result.
    max_grace: Duration,
    capacity: usize,
}

impl<T: RefreshOutcome> RefreshFlights<T> {
    pub fn new(max_grace: Duration, capacity: usize) -> Self {
        RefreshFlights {
            table: Mutex::new(Table {
                entries: HashMap::new(),
                predecessors: HashMap::new(),
                expiries: BinaryHeap::new(),
                next_serial: 0,
                ended: ExpiringMap::new(MAX_ENDED_TOKENS),
            }),
            max_grace,
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table<T>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `refresh` for the token of `flight_key` (see `SessionEngine`)
    /// unless a refresh of the same token is under
    /// way or finished successfully less than `grace` ago (and less than the
    /// grace of the caller that performed it), in which case its outcome is
    /// returned; or its chain was logged out, in which case nothing runs.
    /// Only rotated outcomes are reused; others are forgotten at once so a
    /// later retry makes a new call. `successor` names (as a flight key) the
    /// token an outcome issued, so a logout can follow the chain.
    ///
    /// `grace` is read when the call starts (to join or reuse) and, for the
    /// caller that performs the refresh, again when it finishes (how long the
    /// outcome is kept): it can change meanwhile, as when refresh coordination
    /// loses Redis and this process becomes the only one to keep the outcome.
    pub async fn run<F, Fut>(
        &self,
        flight_key: &str,
        grace: impl Fn() -> Duration,
        successor: impl Fn(&T) -> Option<String>,
        refresh: F,
    ) -> RefreshHandout<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let key = token_digest(flight_key);
        let flight = match self.join_or_start(key, grace().min(self.max_grace)) {
            Joined::LoggedOut => return RefreshHandout::LoggedOut { to_revoke: None },
            Joined::Untracked => None,
            Joined::Flight(flight) => Some(flight),
        };
        let outcome = match &flight {
            Some(flight) => flight.outcome.get_or_init(refresh).await.clone(),
            None => refresh().await,
        };
        let kind = outcome.kind();
        let next = match kind {
            OutcomeKind::Rotated => successor(&outcome).map(|s| token_digest(&s)),
            _ => None,
        };
        let now = Instant::now();
        let mut table = self.lock();
        let is_current = flight
            .as_ref()
            .is_some_and(|flight| table.entries.get(&key).is_some_and(|e| Arc::ptr_eq(&e.flight, flight)));
        let logged_out = kind == OutcomeKind::LoggedOut
            || flight.as_ref().is_some_and(|flight| flight.logged_out.load(Ordering::SeqCst))
            || table.logged_out(&key, now);
        if logged_out {
            // What the refresh issued belongs to the ended chain too.
            table.end(key, Ending::LoggedOut, now);
            if let Some(next) = next {
                table.end(next, Ending::LoggedOut, now);
            }
            if is_current {
                table.remove(&key);
            }
            drop(table);
            let first = kind == OutcomeKind::Rotated
                && flight.as_ref().is_none_or(|flight| !flight.revocation_claimed.swap(true, Ordering::SeqCst));
            return RefreshHandout::LoggedOut { to_revoke: first.then_some(outcome) };
        }
        match kind {
            OutcomeKind::Rotated => {
                table.end(key, Ending::Rotated, now);
                let Table { entries, predecessors, expiries, .. } = &mut *table;
                if let Some(entry) = entries.get_mut(&key).filter(|e| is_current && e.finished_at.is_none()) {
                    entry.finished_at = Some(now);
                    entry.grace = grace().min(self.max_grace);
                    entry.successor = next;
                    if let Some(next) = next {
                        predecessors.insert(next, key);
                    }
                    expiries.push(Reverse((now + entry.grace, key, entry.serial)));
                }
            }
            OutcomeKind::SpentUnusable => {
                table.end(key, Ending::Rotated, now);
                if is_current {
                    table.remove(&key);
                }
            }
            OutcomeKind::Refused | OutcomeKind::Unknown | OutcomeKind::LoggedOut => {
                if is_current {
                    table.remove(&key);
                }
            }
        }
        RefreshHandout::Outcome(outcome)
    }

    fn join_or_start(&self, key: Digest, grace: Duration) -> Joined<T> {
        let now = Instant::now();
        let mut table = self.lock();
        table.prune(now);
        if table.logged_out(&key, now) {
            return Joined::LoggedOut;
        }
        if let Some(existing) = table.entries.get(&key) {
            let reusable = match existing.finished_at {
                None => true,
                Some(at) => now.duration_since(at) < grace.min(existing.grace),
            };
            if reusable {
                return Joined::Flight(existing.flight.clone());
            }
            table.remove(&key);
        }
        if table.entries.len() >= self.capacity {
            return Joined::Untracked;
        }
        let flight = Arc::new(Flight {
            outcome: OnceCell::new(),
            logged_out: AtomicBool::new(false),
            revocation_claimed: AtomicBool::new(false),
        });
        table.next_serial += 1;
        let serial = table.next_serial;
        table.entries.insert(key, Entry { flight: flight.clone(), grace, finished_at: None, successor: None, serial });
        Joined::Flight(flight)
    }

    /// Whether the token of `flight_key` was rotated by a refresh here (or
    /// its chain logged out): presenting it to Crossmint again can only be
    /// refused.
    pub fn ended(&self, flight_key: &str) -> bool {
        let key = token_digest(flight_key);
        self.lock().ended.get(&key, Instant::now()).is_some()
    }

    /// Ends the whole rotation chain the token of `flight_key` belongs to: the token itself,
    /// the refreshes that led to it and the ones that followed from it. From
    /// now on no refresh of any of them starts; a link still in flight will
    /// not hand out its result. Returns the finished outcomes dropped, so
    /// the tokens they issued can be revoked too.
    pub fn log_out(&self, flight_key: &str) -> Vec<T> {
        let start = token_digest(flight_key);
        let now = Instant::now();
        let mut dropped = Vec::new();
        let mut table = self.lock();
        table.prune(now);
        let drop_entry = |entry: Entry<T>, dropped: &mut Vec<T>| {
            entry.flight.logged_out.store(true, Ordering::SeqCst);
            if let Some(outcome) = entry.flight.outcome.get() {
                dropped.push(outcome.clone());
            }
        };
        // Backwards: the refreshes that issued `token`, then their predecessors.
        let mut cursor = table.predecessors.get(&start).copied();
        while let Some(key) = cursor {
            cursor = table.predecessors.get(&key).copied();
            table.end(key, Ending::LoggedOut, now);
            if let Some(entry) = table.remove(&key) {
                drop_entry(entry, &mut dropped);
            }
        }
        // Forwards: `token` itself, its own refresh and what followed from it.
        let mut cursor = Some(start);
        while let Some(key) = cursor {
            table.end(key, Ending::LoggedOut, now);
            let Some(entry) = table.remove(&key) else { break };
            cursor = entry.successor;
            drop_entry(entry, &mut dropped);
        }
        dropped
    }

    /// How many tokens are tracked (in flight or in their grace window).
    #[cfg(test)]
    fn tracked(&self) -> usize {
        let mut table = self.lock();
        table.prune(Instant::now());
        table.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    impl RefreshOutcome for Result<u32, u32> {
        fn kind(&self) -> OutcomeKind {
            match self {
                Ok(_) => OutcomeKind::Rotated,
                Err(401) => OutcomeKind::Refused,
                Err(502) => OutcomeKind::SpentUnusable,
                Err(_) => OutcomeKind::Unknown,
            }
        }
    }

    fn issued(outcome: &Result<u32, u32>) -> Option<String> {
        outcome.ok().map(|n| format!("t{n}"))
    }

    async fn run(
        flights: &RefreshFlights<Result<u32, u32>>,
        token: &str,
        grace: Duration,
        result: Result<u32, u32>,
    ) -> RefreshHandout<Result<u32, u32>> {
        flights.run(token, || grace, issued, || async move { result }).await
    }

    #[tokio::test]
    async fn concurrent_refreshes_of_one_token_make_one_call() {
        let flights = Arc::new(RefreshFlights::new(ROTATION_GRACE, 100));
        let calls = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (flights, calls) = (flights.clone(), calls.clone());
                tokio::spawn(async move {
                    flights
                        .run(
                            "token",
                            || ROTATION_GRACE,
                            issued,
                            || async {
                                calls.fetch_add(1, Ordering::SeqCst);
                                tokio::time::sleep(Duration::from_millis(50)).await;
                                Ok::<u32, u32>(7)
                            },
                        )
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), RefreshHandout::Outcome(Ok(7)));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn success_is_reused_within_the_grace_window_only() {
        let grace = Duration::from_millis(100);
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        assert_eq!(run(&flights, "t", grace, Ok(1)).await, RefreshHandout::Outcome(Ok(1)));
        assert_eq!(run(&flights, "t", grace, Ok(2)).await, RefreshHandout::Outcome(Ok(1)));
        // A caller that allows no grace does not reuse a finished refresh.
        assert_eq!(run(&flights, "t", Duration::ZERO, Ok(5)).await, RefreshHandout::Outcome(Ok(5)));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(run(&flights, "t", grace, Ok(3)).await, RefreshHandout::Outcome(Ok(3)));
        assert_eq!(run(&flights, "other", grace, Ok(4)).await, RefreshHandout::Outcome(Ok(4)));
    }

    #[tokio::test]
    async fn the_stricter_grace_of_performer_and_caller_applies() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        // Refreshed by an instance that allows no reuse: a default caller
        // replaying the old token must not receive the new session.
        assert_eq!(run(&flights, "t", Duration::ZERO, Ok(1)).await, RefreshHandout::Outcome(Ok(1)));
        assert_eq!(run(&flights, "t", ROTATION_GRACE, Err(9)).await, RefreshHandout::Outcome(Err(9)));
        let short = Duration::from_millis(50);
        assert_eq!(run(&flights, "u", short, Ok(1)).await, RefreshHandout::Outcome(Ok(1)));
        tokio::time::sleep(Duration::from_millis(70)).await;
        assert_eq!(run(&flights, "u", ROTATION_GRACE, Err(9)).await, RefreshHandout::Outcome(Err(9)));
    }

    #[tokio::test]
    async fn the_grace_is_read_again_when_the_refresh_finishes() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        let grace_ms = std::sync::atomic::AtomicU64::new(0);
        let grace = || Duration::from_millis(grace_ms.load(Ordering::SeqCst));
        let outcome = flights
            .run("t", grace, issued, || async {
                // Started with no reuse; by the end the process keeps it.
                grace_ms.store(30_000, Ordering::SeqCst);
                Ok::<u32, u32>(1)
            })
            .await;
        assert_eq!(outcome, RefreshHandout::Outcome(Ok(1)));
        assert_eq!(run(&flights, "t", ROTATION_GRACE, Err(9)).await, RefreshHandout::Outcome(Ok(1)));
    }

    #[tokio::test]
    async fn failures_are_not_reused() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        assert_eq!(run(&flights, "t", ROTATION_GRACE, Err(1)).await, RefreshHandout::Outcome(Err(1)));
        assert_eq!(run(&flights, "t", ROTATION_GRACE, Ok(2)).await, RefreshHandout::Outcome(Ok(2)));
        assert_eq!(flights.tracked(), 1);
    }

    #[tokio::test]
    async fn a_logout_ends_the_whole_rotation_chain() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        // t1 -> t2 -> t3, then an unrelated t7 -> t8.
        assert_eq!(run(&flights, "t1", ROTATION_GRACE, Ok(2)).await, RefreshHandout::Outcome(Ok(2)));
        assert_eq!(run(&flights, "t2", ROTATION_GRACE, Ok(3)).await, RefreshHandout::Outcome(Ok(3)));
        assert_eq!(run(&flights, "t7", ROTATION_GRACE, Ok(8)).await, RefreshHandout::Outcome(Ok(8)));
        // Logging out with the newest token drops every link before it, and
        // no link of the chain can be refreshed afterwards.
        let dropped = flights.log_out("t3");
        assert_eq!(dropped.len(), 2);
        for token in ["t1", "t2", "t3"] {
            assert_eq!(
                run(&flights, token, ROTATION_GRACE, Ok(9)).await,
                RefreshHandout::LoggedOut { to_revoke: None },
                "{token}"
            );
        }
        assert_eq!(flights.tracked(), 1, "the unrelated chain stays");
        // Logging out with the oldest token drops the links after it.
        assert_eq!(flights.log_out("t7"), vec![Ok(8)]);
        assert_eq!(flights.tracked(), 0);
        assert_eq!(run(&flights, "t8", ROTATION_GRACE, Ok(9)).await, RefreshHandout::LoggedOut { to_revoke: None });
    }

    /// A refresh of `t1` that takes `ms` and issues `t2`, on a task of its own.
    fn slow_refresh(
        flights: &Arc<RefreshFlights<Result<u32, u32>>>,
        ms: u64,
    ) -> tokio::task::JoinHandle<RefreshHandout<Result<u32, u32>>> {
        let flights = flights.clone();
        tokio::spawn(async move {
            let refresh = || async {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                Ok::<u32, u32>(2)
            };
            flights.run("t1", || ROTATION_GRACE, issued, refresh).await
        })
    }

    #[tokio::test]
    async fn a_refresh_finishing_after_its_chain_was_logged_out_is_not_handed_out() {
        let flights = Arc::new(RefreshFlights::new(ROTATION_GRACE, 100));
        let (first, joiner) = (slow_refresh(&flights, 80), slow_refresh(&flights, 80));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(flights.log_out("t1").is_empty(), "nothing finished yet");
        let outcomes = [first.await.unwrap(), joiner.await.unwrap()];
        let revokers = outcomes.iter().filter(|o| **o == RefreshHandout::LoggedOut { to_revoke: Some(Ok(2)) }).count();
        let others = outcomes.iter().filter(|o| **o == RefreshHandout::LoggedOut { to_revoke: None }).count();
        assert_eq!((revokers, others), (1, 1), "{outcomes:?}");
        assert_eq!(flights.tracked(), 0);
        // What the logged-out refresh issued is refused too.
        assert_eq!(run(&flights, "t2", ROTATION_GRACE, Ok(3)).await, RefreshHandout::LoggedOut { to_revoke: None });
    }

    #[tokio::test]
    async fn a_refresh_arriving_after_a_logout_started_never_runs() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        assert!(flights.log_out("t1").is_empty());
        let ran = AtomicUsize::new(0);
        let outcome = flights
            .run(
                "t1",
                || ROTATION_GRACE,
                issued,
                || async {
                    ran.fetch_add(1, Ordering::SeqCst);
                    Ok::<u32, u32>(2)
                },
            )
            .await;
        assert_eq!((outcome, ran.load(Ordering::SeqCst)), (RefreshHandout::LoggedOut { to_revoke: None }, 0));
        assert!(flights.ended("t1"));
    }

    #[tokio::test]
    async fn a_refresh_outside_the_full_table_still_obeys_a_logout() {
        let flights = Arc::new(RefreshFlights::new(ROTATION_GRACE, 0));
        let slow = slow_refresh(&flights, 50);
        tokio::time::sleep(Duration::from_millis(10)).await;
        flights.log_out("t1");
        assert_eq!(slow.await.unwrap(), RefreshHandout::LoggedOut { to_revoke: Some(Ok(2)) });
    }

    #[tokio::test]
    async fn rotated_and_spent_tokens_are_remembered_unknown_fates_are_not() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        run(&flights, "rotated", ROTATION_GRACE, Ok(1)).await;
        run(&flights, "spent", ROTATION_GRACE, Err(502)).await;
        run(&flights, "refused", ROTATION_GRACE, Err(401)).await;
        run(&flights, "outage", ROTATION_GRACE, Err(503)).await;
        let ended: Vec<_> = ["rotated", "spent", "refused", "outage"].iter().map(|t| flights.ended(t)).collect();
        assert_eq!(ended, [true, true, false, false]);
        assert_eq!(flights.tracked(), 1, "only the rotated outcome is shared");
    }

    #[tokio::test]
    async fn finished_entries_leave_the_table_when_their_grace_ends() {
        let grace = Duration::from_millis(40);
        let flights = RefreshFlights::new(grace, 100_000);
        for i in 0..1_000 {
            run(&flights, &format!("a{i}"), grace, Ok(i)).await;
        }
        assert_eq!(flights.tracked(), 1_000);
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(flights.tracked(), 0);
    }

    #[tokio::test]
    async fn a_logout_costs_the_same_on_a_full_table() {
        // Measured as a ratio in one run (the machine is shared and noisy):
        // logouts of unknown tokens used to walk the whole table.
        async fn logouts(tracked: u32) -> Duration {
            let flights = RefreshFlights::new(ROTATION_GRACE, 100_000);
            for i in 0..tracked {
                run(&flights, &format!("live{i}"), ROTATION_GRACE, Ok(i + 1_000_000)).await;
            }
            let started = Instant::now();
            for i in 0..500 {
                flights.log_out(&format!("random{i}"));
            }
            started.elapsed()
        }
        let empty = logouts(0).await.max(Duration::from_micros(200));
        let full = logouts(9_900).await;
        assert!(full < empty * 10, "500 logouts: {full:?} with 9,900 tracked vs {empty:?} on an empty table");
    }

    #[tokio::test]
    async fn the_table_is_bounded() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 3);
        for i in 0..10 {
            let token = format!("t{i}");
            assert_eq!(run(&flights, &token, ROTATION_GRACE, Ok(i)).await, RefreshHandout::Outcome(Ok(i)));
        }
        assert_eq!(flights.tracked(), 3);
    }
}
