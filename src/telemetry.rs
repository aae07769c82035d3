//! What the Rust core did, for `node:diagnostics_channel` subscribers: each
//! HTTP call (Crossmint, the refresh route, the key set), each refresh's
//! role in its flight, and changes of coordination health. Recorded only
//! while JavaScript says someone listens (one atomic load otherwise), kept
//! until JavaScript collects them after its next native call, bounded (a
//! flood keeps the newest and counts what it dropped). Nothing secret goes
//! in: paths (a user id at most), statuses, durations, error classes.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

const MAX_PENDING: usize = 4096;

static ENABLED: AtomicBool = AtomicBool::new(false);
static DROPPED: AtomicU64 = AtomicU64::new(0);
static PENDING: Mutex<VecDeque<Value>> = Mutex::new(VecDeque::new());

/// Turned on while a subscriber listens; off, nothing is recorded.
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
    if !enabled {
        PENDING.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

fn push(event: Value) {
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    if pending.len() >= MAX_PENDING {
        pending.pop_front();
        DROPPED.fetch_add(1, Ordering::Relaxed);
    }
    pending.push_back(event);
}

/// Milliseconds since the epoch of a moment `elapsed` ago.
fn started_at(elapsed: Duration) -> f64 {
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (now.saturating_sub(elapsed)).as_secs_f64() * 1000.0
}

/// An HTTP call: `call` names it (`refresh`, `logout`, `user`,
/// `refresh-route`, `key-set`); `status` when an answer came, `error` (the
/// failure's class) when none did.
pub fn http_call(call: &str, method: &str, path: &str, status: Option<u16>, error: Option<&str>, took: Duration) {
    if !enabled() {
        return;
    }
    push(json!({
        "event": "http",
        "call": call,
        "method": method,
        "path": path,
        "status": status,
        "error": error,
        "startTime": started_at(took),
        "durationMs": took.as_secs_f64() * 1000.0,
    }));
}

/// A refresh's part in its flight: `leader` (it called Crossmint), `joined`
/// (it took this process's refresh in flight or in its grace window),
/// `follower` (it took another process's, through the shared store);
/// `store` the coordination in use (`none`, `redis`, `local`); `outcome` the
/// refresh's class (`rotated`, `refused`, `spent-unusable`, `logged-out`,
/// `unknown`).
pub fn refresh(role: &str, store: &str, outcome: &str, took: Duration) {
    if !enabled() {
        return;
    }
    push(json!({
        "event": "refresh",
        "role": role,
        "store": store,
        "outcome": outcome,
        "startTime": started_at(took),
        "durationMs": took.as_secs_f64() * 1000.0,
    }));
}

/// Coordination through `store` stopped (`healthy: false`) or resumed.
pub fn coordination(store: &str, healthy: bool) {
    if !enabled() {
        return;
    }
    push(
        json!({ "event": "coordination", "store": store, "healthy": healthy, "startTime": started_at(Duration::ZERO) }),
    );
}

/// Everything recorded since the last call (oldest first), and how many
/// events a flood dropped meanwhile.
pub fn take() -> (Vec<Value>, u64) {
    let events = std::mem::take(&mut *PENDING.lock().unwrap_or_else(|p| p.into_inner()));
    (events.into(), DROPPED.swap(0, Ordering::Relaxed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_only_while_enabled_and_keeps_the_newest() {
        set_enabled(false);
        http_call("refresh", "POST", "/x", Some(200), None, Duration::from_millis(5));
        assert!(take().0.is_empty());
        set_enabled(true);
        for i in 0..(MAX_PENDING + 3) {
            refresh("leader", "none", &format!("o{i}"), Duration::ZERO);
        }
        let (events, dropped) = take();
        assert_eq!((events.len(), dropped), (MAX_PENDING, 3));
        assert_eq!(events[0]["outcome"], "o3");
        set_enabled(false);
    }
}
