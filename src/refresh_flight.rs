//! Single-flight refreshes with a rotation grace window.
//!
//! Crossmint rotates a refresh token on first use. When a browser fires
//! twenty requests at once with an expired JWT, twenty refreshes with the same
//! token would leave nineteen of them holding a dead token, logging the user
//! out. Here concurrent refreshes of one token share one call, and for a short
//! window afterwards a request still carrying the old token (it left the
//! browser before the new cookies arrived) receives the same result.
//! Tokens are kept only as SHA-256 digests, and the table is bounded.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::digest::{digest, SHA256};
use tokio::sync::OnceCell;

pub const ROTATION_GRACE: Duration = Duration::from_secs(30);
/// Past this many tokens in their grace window, new refreshes are not shared
/// (they still work); memory stays bounded under any load.
pub const MAX_TRACKED_TOKENS: usize = 10_000;

type Digest = [u8; 32];

struct Flight<T> {
    outcome: OnceCell<T>,
    finished_at: Mutex<Option<Instant>>,
}

impl<T> Flight<T> {
    fn new() -> Self {
        Flight {
            outcome: OnceCell::new(),
            finished_at: Mutex::new(None),
        }
    }

    fn expired(&self, now: Instant, grace: Duration) -> bool {
        self.finished_at
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some_and(|at| now.duration_since(at) >= grace)
    }
}

pub struct RefreshFlights<T> {
    flights: Mutex<HashMap<Digest, Arc<Flight<T>>>>,
    /// How long finished entries are kept; each caller may reuse a result for
    /// at most this long, or less if it asks for a shorter grace.
    max_grace: Duration,
    capacity: usize,
}

fn token_digest(token: &str) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
    out
}

impl<T: Clone> RefreshFlights<T> {
    pub fn new(max_grace: Duration, capacity: usize) -> Self {
        RefreshFlights {
            flights: Mutex::new(HashMap::new()),
            max_grace,
            capacity,
        }
    }

    /// Runs `refresh` for `token` unless a refresh of the same token is under
    /// way or finished successfully less than `grace` ago (capped at the
    /// table's maximum), in which case its outcome is returned. `succeeded`
    /// tells which outcomes may be reused; failures are forgotten at once so a
    /// later retry makes a new call.
    pub async fn run<F, Fut>(
        &self,
        token: &str,
        grace: Duration,
        succeeded: fn(&T) -> bool,
        refresh: F,
    ) -> T
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let key = token_digest(token);
        let Some(flight) = self.join_or_start(key, grace.min(self.max_grace)) else {
            return refresh().await;
        };
        let outcome = flight.outcome.get_or_init(refresh).await.clone();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if succeeded(&outcome) {
            let mut finished = flight.finished_at.lock().unwrap_or_else(|p| p.into_inner());
            finished.get_or_insert_with(Instant::now);
        } else if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            flights.remove(&key);
        }
        outcome
    }

    fn join_or_start(&self, key: Digest, grace: Duration) -> Option<Arc<Flight<T>>> {
        let now = Instant::now();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = flights.get(&key) {
            if !existing.expired(now, grace) {
                return Some(existing.clone());
            }
        }
        if flights.len() >= self.capacity {
            flights.retain(|_, flight| !flight.expired(now, self.max_grace));
            if flights.len() >= self.capacity {
                return None;
            }
        }
        let flight = Arc::new(Flight::new());
        flights.insert(key, flight.clone());
        Some(flight)
    }

    /// Ends the grace window of the whole rotation chain `token` belongs to:
    /// the refreshes that led to it and the ones that followed from it
    /// (`successor` names the token an outcome issued). A logout must not
    /// leave any link of the chain able to hand out a session. Returns the
    /// outcomes dropped, so their tokens can be revoked too.
    pub fn forget(&self, token: &str, successor: impl Fn(&T) -> Option<String>) -> Vec<T> {
        let mut chain = vec![token_digest(token)];
        let mut dropped = Vec::new();
        let mut flights = self.flights.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            let linked: Vec<Digest> = flights
                .iter()
                .filter(|(key, flight)| {
                    chain.contains(key)
                        || flight
                            .outcome
                            .get()
                            .and_then(&successor)
                            .is_some_and(|next| chain.contains(&token_digest(&next)))
                })
                .map(|(key, _)| *key)
                .collect();
            if linked.is_empty() {
                return dropped;
            }
            for key in linked {
                if let Some(flight) = flights.remove(&key) {
                    chain.push(key);
                    if let Some(outcome) = flight.outcome.get() {
                        if let Some(next) = successor(outcome) {
                            chain.push(token_digest(&next));
                        }
                        dropped.push(outcome.clone());
                    }
                }
            }
        }
    }

    /// How many tokens are tracked (in flight or in their grace window).
    pub fn tracked(&self) -> usize {
        self.flights.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn ok(outcome: &Result<u32, u32>) -> bool {
        outcome.is_ok()
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
                        .run("token", ROTATION_GRACE, ok, || async {
                            calls.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<u32, u32>(7)
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), Ok(7));
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn success_is_reused_within_the_grace_window_only() {
        let grace = Duration::from_millis(100);
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        assert_eq!(flights.run("t", grace, ok, || async { Ok::<u32, u32>(1) }).await, Ok(1));
        assert_eq!(flights.run("t", grace, ok, || async { Ok(2) }).await, Ok(1));
        // A caller that allows no grace does not reuse a finished refresh.
        assert_eq!(flights.run("t", Duration::ZERO, ok, || async { Ok(5) }).await, Ok(5));
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(flights.run("t", grace, ok, || async { Ok(3) }).await, Ok(3));
        assert_eq!(flights.run("other", grace, ok, || async { Ok(4) }).await, Ok(4));
    }

    #[tokio::test]
    async fn failures_are_not_reused() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        assert_eq!(flights.run("t", ROTATION_GRACE, ok, || async { Err::<u32, u32>(1) }).await, Err(1));
        assert_eq!(flights.run("t", ROTATION_GRACE, ok, || async { Ok(2) }).await, Ok(2));
        assert_eq!(flights.tracked(), 1);
    }

    fn issued(outcome: &Result<u32, u32>) -> Option<String> {
        outcome.ok().map(|n| format!("t{n}"))
    }

    #[tokio::test]
    async fn forgetting_ends_reuse_along_the_whole_rotation_chain() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 100);
        // t1 -> t2 -> t3, then an unrelated t7 -> t8.
        assert_eq!(flights.run("t1", ROTATION_GRACE, ok, || async { Ok::<u32, u32>(2) }).await, Ok(2));
        assert_eq!(flights.run("t2", ROTATION_GRACE, ok, || async { Ok(3) }).await, Ok(3));
        assert_eq!(flights.run("t7", ROTATION_GRACE, ok, || async { Ok(8) }).await, Ok(8));
        // Logging out with the newest token drops every link before it.
        let dropped = flights.forget("t3", issued);
        assert_eq!(dropped.len(), 2);
        assert_eq!(flights.run("t1", ROTATION_GRACE, ok, || async { Err(9) }).await, Err(9));
        assert_eq!(flights.run("t2", ROTATION_GRACE, ok, || async { Err(9) }).await, Err(9));
        assert_eq!(flights.tracked(), 1, "the unrelated chain stays");
        // Logging out with the oldest token drops the links after it.
        assert_eq!(flights.forget("t7", issued), vec![Ok(8)]);
        assert_eq!(flights.tracked(), 0);
    }

    #[tokio::test]
    async fn the_table_is_bounded() {
        let flights = RefreshFlights::new(ROTATION_GRACE, 3);
        for i in 0..10 {
            let token = format!("t{i}");
            assert_eq!(flights.run(&token, ROTATION_GRACE, ok, || async move { Ok::<u32, u32>(i) }).await, Ok(i));
        }
        assert_eq!(flights.tracked(), 3);
    }
}
