//! Threads of our own for the signature checks of never-seen tokens.
//!
//! libuv's thread pool (a napi `AsyncTask`) costs the JavaScript thread a
//! queue lock, a condition-variable signal per task (the woken worker often
//! preempts the JS thread, then blocks on the lock it still holds) and a
//! promise per task. Here a check is queued under our own lock, a sleeping
//! thread is woken only when one is idle, and answers go back through the
//! caller's `Replies`, which the napi layer batches into one wake-up of the
//! JS thread for everything finished since its last wake-up.
//!
//! Threads start on first use, up to one fewer than the cores (at least one),
//! and then sleep on a condition variable while there is nothing to check.
//! The JavaScript thread is the last core's checker: when these threads are
//! busy it checks a few tokens per event-loop turn itself
//! (lib/core/check-scheduler.js). With a thread per core the check threads
//! preempted it, and it fell behind feeding them (bench/results.md keeps the
//! figures).
//!
//! A check that panics is answered with `None` (the caller then takes the
//! slow path, which reports its own error), so no caller waits forever.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, LazyLock, Mutex};
use std::thread;

/// Where a check's answer goes: `id` is the caller's, `answer` the check's.
pub trait Replies: Send + Sync {
    fn deliver(&self, id: u32, answer: Option<String>);
}

/// One token to check: `check` runs on a check thread.
pub struct Check {
    pub id: u32,
    pub check: Box<dyn FnOnce() -> Option<String> + Send>,
    pub replies: Arc<dyn Replies>,
}

impl Check {
    fn run(self) {
        let answer = catch_unwind(AssertUnwindSafe(self.check)).unwrap_or(None);
        self.replies.deliver(self.id, answer);
    }
}

pub struct CheckThreads {
    state: Mutex<State>,
    work_waiting: Condvar,
    max_threads: usize,
}

struct State {
    checks: VecDeque<Check>,
    /// Threads asleep on `work_waiting`.
    idle: usize,
    started: usize,
}

/// The process's check threads, shared by every instance and every
/// JavaScript environment (worker threads included).
pub static CHECK_THREADS: LazyLock<CheckThreads> = LazyLock::new(|| {
    let cores = thread::available_parallelism().map_or(2, |cores| cores.get());
    CheckThreads::new(cores - 1)
});

impl CheckThreads {
    pub fn new(max_threads: usize) -> CheckThreads {
        CheckThreads {
            state: Mutex::new(State { checks: VecDeque::new(), idle: 0, started: 0 }),
            work_waiting: Condvar::new(),
            max_threads: max_threads.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `checks`. Wakes idle threads only for work they would not find
    /// otherwise (a busy thread takes the next check when it finishes), and
    /// starts threads while there are fewer than cores.
    pub fn submit(&'static self, checks: Vec<Check>) {
        let added = checks.len();
        if added == 0 {
            return;
        }
        let (wake, start) = {
            let mut state = self.lock();
            state.checks.extend(checks);
            let wake = added.min(state.idle);
            let start = (added - wake).min(self.max_threads - state.started);
            state.started += start;
            (wake, start)
        };
        for _ in 0..wake {
            self.work_waiting.notify_one();
        }
        for _ in 0..start {
            let spawned = thread::Builder::new().name("crossmint-check".into()).spawn(move || self.work());
            if spawned.is_err() {
                self.thread_not_started();
            }
        }
    }

    /// A thread could not be started: with none running, the queued checks
    /// are run here rather than left waiting for a thread that never comes.
    fn thread_not_started(&self) {
        let orphaned: Vec<Check> = {
            let mut state = self.lock();
            state.started -= 1;
            if state.started > 0 {
                return;
            }
            state.checks.drain(..).collect()
        };
        orphaned.into_iter().for_each(Check::run);
    }

    fn work(&self) {
        loop {
            let check = {
                let mut state = self.lock();
                loop {
                    if let Some(check) = state.checks.pop_front() {
                        break check;
                    }
                    state.idle += 1;
                    state = self.work_waiting.wait(state).unwrap_or_else(|p| p.into_inner());
                    state.idle -= 1;
                }
            };
            check.run();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::{channel, Sender};
    use std::time::Duration;

    struct Collect(Mutex<Sender<(u32, Option<String>, String)>>);

    impl Replies for Collect {
        fn deliver(&self, id: u32, answer: Option<String>) {
            let thread_name = thread::current().name().unwrap_or("").to_string();
            let _ = self.0.lock().unwrap().send((id, answer, thread_name));
        }
    }

    fn checks(replies: &Arc<Collect>, ids: std::ops::Range<u32>) -> Vec<Check> {
        ids.map(|id| Check {
            id,
            check: Box::new(move || {
                if id % 500 == 3 {
                    panic!("check {id} fails");
                }
                Some(format!("subject-{id}"))
            }),
            replies: replies.clone(),
        })
        .collect()
    }

    #[test]
    fn every_check_is_answered_once_on_a_check_thread_even_when_it_panics() {
        static THREADS: LazyLock<CheckThreads> = LazyLock::new(|| CheckThreads::new(3));
        let (sender, answers) = channel();
        let replies = Arc::new(Collect(Mutex::new(sender)));
        // In waves, so threads go idle and must be woken again.
        for wave in 0..20u32 {
            THREADS.submit(checks(&replies, wave * 50..wave * 50 + 50));
            if wave % 5 == 0 {
                thread::sleep(Duration::from_millis(20));
            }
        }
        let mut seen = vec![false; 1000];
        for _ in 0..1000 {
            let (id, answer, thread_name) =
                answers.recv_timeout(Duration::from_secs(10)).expect("every check answered");
            assert!(!seen[id as usize], "check {id} answered twice");
            seen[id as usize] = true;
            assert_eq!(thread_name, "crossmint-check");
            let expected = (id % 500 != 3).then(|| format!("subject-{id}"));
            assert_eq!(answer, expected);
        }
        assert!(answers.recv_timeout(Duration::from_millis(100)).is_err(), "no extra answers");
        let state = THREADS.lock();
        assert!(state.started <= 3, "at most max_threads threads: {}", state.started);
        assert!(state.checks.is_empty());
    }
}
