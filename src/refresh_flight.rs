//! Single-flight refreshes with a rotation grace window.
//!
//! Crossmint rotates a refresh token on first use. When a browser fires
//! twenty requests at once with an expired JWT, twenty refreshes with the same
//! token would leave nineteen of them holding a dead token, logging the user
//! out. Here concurrent refreshes of one token share one call, and for a short
//! window afterwards a request still carrying the old token (it left the
//! browser before the new cookies arrived) receives the same result.
//!
//! Anyone can trigger a logout (no credentials needed), so every operation
//! costs the same whatever the table's size: tokens are hashed before the lock
//! is taken, a rotation chain is followed link by link through indexes built
//! when a refresh finishes, and entries leave the table (with the secrets they
//! hold) as soon as their grace window ends, through an expiry queue checked
//! on each operation. Tokens are kept only as SHA-256 digests, and the table
//! is bounded.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{digest, SHA256};
use tokio::sync::OnceCell;

pub const ROTATION_GRACE: Duration = Duration::from_secs(30);
/// Past this many tokens in flight or in their grace window, new refreshes
/// are not shared (they still work); memory stays bounded under any load.
pub const MAX_TRACKED_TOKENS: usize = 10_000;

pub type Digest = [u8; 32];

/// Hashes a flight key; done before any lock is taken.
pub fn token_digest(token: &str) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    out
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
}

/// What a caller of [`RefreshFlights::run`] receives.
#[derive(Debug, PartialEq)]
pub enum Flown<T> {
    Done(T),
    /// A logout ended the chain while the refresh was under way. `revoke`
    /// holds the outcome for the one caller that must revoke what it issued.
    LoggedOut { revoke: Option<T> },
}

pub struct RefreshFlights<T> {
    table: Mutex<Table<T>>,
    /// The longest any caller may reuse a result.
    max_grace: Duration,
    capacity: usize,
}

impl<T: Clone> RefreshFlights<T> {
    pub fn new(max_grace: Duration, capacity: usize) -> Self {
        RefreshFlights {
            table: Mutex::new(Table {
                entries: HashMap::new(),
                predecessors: HashMap::new(),
                expiries: BinaryHeap::new(),
                next_serial: 0,
            }),
            max_grace,
            capacity,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table<T>> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `refresh` for `token` unless a refresh of the same token is under
    /// way or finished successfully less than `grace` ago (and less than the
    /// grace of the caller that performed it), in which case its outcome is
    /// returned. `succeeded` tells which outcomes may be reused; failures are
    /// forgotten at once so a later retry makes a new call. `successor` names
    /// (as a flight key) the token an outcome issued, so a logout can follow
    /// the chain.
    ///
    /// `grace` is read when the call starts (to join or reuse) and, for the
    /// caller that performs the refresh, again when it finishes (how long the
    /// outcome is kept): it can change meanwhile, as when refresh coordination
    /// loses Redis and this process becomes the only one to keep the outcome.
    pub async fn run<F, Fut>(
        &self,
        token: &str,
        grace: impl Fn() -> Duration,
        succeeded: fn(&T) -> bool,
        successor: impl Fn(&T) -> Option<String>,
        refresh: F,
    ) -> Flown<T>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let key = token_digest(token);
        let Some(flight) = self.join_or_start(key, grace().min(self.max_grace)) else {
            return Flown::Done(refresh().await);
        };
        let outcome = flight.outcome.get_or_init(refresh).await.clone();
        let ok = succeeded(&outcome);
        let next = if ok { successor(&outcome).map(|s| token_digest(&s)) } else { None };
        let now = Instant::now();
        let mut table = self.lock();
        if flight.logged_out.load(Ordering::SeqCst) {
            drop(table);
            let first = ok && !flight.revocation_claimed.swap(true, Ordering::SeqCst);
            return Flown::LoggedOut { revoke: first.then_some(outcome) };
        }
        let is_current = table.entries.get(&key).is_some_and(|e| Arc::ptr_eq(&e.flight, &flight));
        if is_current && !ok {
            table.remove(&key);
        } else if is_current {
            let Table { entries, predecessors, expiries, .. } = &mut *table;
            if let Some(entry) = entries.get_mut(&key).filter(|e| e.finished_at.is_none()) {
                entry.finished_at = Some(now);
                entry.grace = grace().min(self.max_grace);
                entry.successor = next;
                if let Some(next) = next {
                    predecessors.insert(next, key);
                }
                expiries.push(Reverse((now + entry.grace, key, entry.serial)));
            }
        }
        Flown::Done(outcome)
    }

    fn join_or_start(&self, key: Digest, grace: Duration) -> Option<Arc<Flight<T>>> {
        let now = Instant::now();
        let mut table = self.lock();
        table.prune(now);
        if let Some(existing) = table.entries.get(&key) {
            let reusable = match existing.finished_at {
                None => true,
                Some(at) => now.duration_since(at) < grace.min(existing.grace),
            };
            if reusable {
                return Some(existing.flight.clone());
            }
            table.remove(&key);
        }
        if table.entries.len() >= self.capacity {
            return None;
        }
        let flight = Arc::new(Flight {
            outcome: OnceCell::new(),
            logged_out: AtomicBool::new(false),
            revocation_claimed: AtomicBool::new(false),
        });
        table.next_serial += 1;
        let serial = table.next_serial;
        table.entries.insert(
            key,
            Entry { flight: flight.clone(), grace, finished_at: None, successor: None, serial },
        );
        Some(flight)
    }

    /// Ends the grace window of the whole rotation chain `token` belongs to:
    /// the refreshes that led to it and the ones that followed from it. A
    /// logout must not leave any link of the chain able to hand out a
    /// session; a link still in flight will not hand out its result. Returns
    /// the finished outcomes dropped, so their tokens can be revoked too.
    pub fn forget(&self, token: &str) -> Vec<T> {
        let start = token_digest(token);
        let mut dropped = Vec::new();
        let mut table = self.lock();
        table.prune(Instant::now());
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
            if let Some(entry) = table.remove(&key) {
                drop_entry(entry, &mut dropped);
            }
        }
        // Forwards: `token`'s own refresh and what followed from it.
        let mut cursor = Some(start);
        while let Some(key) = cursor {
            let Some(entry) = table.remove(&key) else { break };
            cursor = entry.successor;
            drop_entry(entry, &mut dropped);
        }
        dropped
    }

    /// How many tokens are tracked (in flight or in their grace window).
    pub fn tracked(&self) -> usize {
        let mut table = self.lock();
        table.prune(Instant::now());
        table.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn ok(outcome: &Result<u32, u32>) -> bool {
        outcome.is_ok()
    }

    fn issued(outcome: &Result<u32, u32>) -> Option<String> {
        outcome.ok().map(|n| format!("t{n}"))
    }

    async fn run(flights: &RefreshFlights<Result<u32, u32>>, token: &str, grace: Duration, result: Result<u32, u32>) -> Flown<Result<u32, u32>> {
        flights.run(token, || grace, ok, issued, || async move { result }).await
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
                        .run("token", || ROTATION_GRACE, ok, issued, || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<u32, u32>(7)
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Flown::Done(Ok(7)));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn success_is_reused_within_the_grace_window_only() {
        let grace = Duration::from_millis(100);
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        assert_eq!(run(&flights, "t", grace, Ok(1)).await, Flown::Done(Ok(1)));
        assert_eq!(run(&flights, "t", grace, Ok(2)).await, Flown::Done(Ok(1)));
        // A caller that allows no grace does not reuse a finished refresh.
        assert_eq!(run(&flights, "t", Duration::ZERO, Ok(5)).await, Flown::Done(Ok(5)));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(run(&flights, "t", grace, Ok(3)).await, Flown::Done(Ok(3)));
        assert_eq!(run(&flights, "other", grace, Ok(4)).await, Flown::Done(Ok(4)));
    }

    #[tokio::test]
    async fn the_stricter_grace_of_performer_and_caller_applies() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        // Refreshed by an instance that allows no reuse: a default caller
        // replaying the old token must not receive the new session.
        assert_eq!(run(&flights, "t", Duration::ZERO, Ok(1)).await, Flown::Done(Ok(1)));
        assert_eq!(run(&flights, "t", ROTATION_GRACE, Err(9)).await, Flown::Done(Err(9)));
        let short = Duration::from_millis(50);
        assert_eq!(run(&flights, "u", short, Ok(1)).await, Flown::Done(Ok(1)));
        tokio::time::sleep(Duration::from_millis(70)).await;
        assert_eq!(run(&flights, "u", ROTATION_GRACE, Err(9)).await, Flown::Done(Err(9)));
    }

    #[tokio::test]
    async fn the_grace_is_read_again_when_the_refresh_finishes() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        let grace_ms = std::sync::atomic::AtomicU64::new(0);
        let grace = || Duration::from_millis(grace_ms.load(Ordering::SeqCst));
        let outcome = flights
            .run("t", grace, ok, issued, || async {
                // Started with no reuse; by the end the process keeps it.
                grace_ms.store(30_000, Ordering::SeqCst);
                Ok::<u32, u32>(1)
            })
            .await;
        assert_eq!(outcome, Flown::Done(Ok(1)));
        assert_eq!(run(&flights, "t", ROTATION_GRACE, Err(9)).await, Flown::Done(Ok(1)));
    }

    #[tokio::test]
    async fn failures_are_not_reused() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        assert_eq!(run(&flights, "t", ROTATION_GRACE, Err(1)).await, Flown::Done(Err(1)));
        assert_eq!(run(&flights, "t", ROTATION_GRACE, Ok(2)).await, Flown::Done(Ok(2)));
        assert_eq!(flights.tracked(), 1);
    }

    #[tokio::test]
    async fn forgetting_ends_reuse_along_the_whole_rotation_chain() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        // t1 -> t2 -> t3, then an unrelated t7 -> t8.
        assert_eq!(run(&flights, "t1", ROTATION_GRACE, Ok(2)).await, Flown::Done(Ok(2)));
        assert_eq!(run(&flights, "t2", ROTATION_GRACE, Ok(3)).await, Flown::Done(Ok(3)));
        assert_eq!(run(&flights, "t7", ROTATION_GRACE, Ok(8)).await, Flown::Done(Ok(8)));
        // Logging out with the newest token drops every link before it.
        let dropped = flights.forget("t3");
        assert_eq!(dropped.len(), 2);
        assert_eq!(run(&flights, "t1", ROTATION_GRACE, Err(9)).await, Flown::Done(Err(9)));
        assert_eq!(run(&flights, "t2", ROTATION_GRACE, Err(9)).await, Flown::Done(Err(9)));
        assert_eq!(flights.tracked(), 1, "the unrelated chain stays");
        // Logging out with the oldest token drops the links after it.
        assert_eq!(flights.forget("t7"), vec![Ok(8)]);
        assert_eq!(flights.tracked(), 0);
    }

    #[tokio::test]
    async fn a_refresh_finishing_after_its_chain_was_logged_out_is_not_handed_out() {
        let flights = Arc::new(RefreshFlights::new(ROTATION_GRACE, 100));
        let start = |flights: Arc<RefreshFlights<Result<u32, u32>>>| {
            tokio::spawn(async move {
                flights
                    .run("t1", || ROTATION_GRACE, ok, issued, || async {
                        tokio::time::sleep(Duration::from_millis(80)).await;
                        Ok::<u32, u32>(2)
                    })
                    .await
            })
        };
        let (first, joiner) = (start(flights.clone()), start(flights.clone()));
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(flights.forget("t1").is_empty(), "nothing finished yet");
        let outcomes = [first.await.unwrap(), joiner.await.unwrap()];
        let revokers = outcomes.iter().filter(|o| **o == Flown::LoggedOut { revoke: Some(Ok(2)) }).count();
        let others = outcomes.iter().filter(|o| **o == Flown::LoggedOut { revoke: None }).count();
        assert_eq!((revokers, others), (1, 1), "{outcomes:?}");
        assert_eq!(flights.tracked(), 0);
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
                flights.forget(&format!("random{i}"));
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
            assert_eq!(run(&flights, &token, ROTATION_GRACE, Ok(i)).await, Flown::Done(Ok(i)));
        }
        assert_eq!(flights.tracked(), 3);
    }
}
