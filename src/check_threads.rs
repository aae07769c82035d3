//! Threads of our own for the signature checks of never-seen tokens, and
//! the JavaScript thread as one more checker.
//!
//! libuv's thread pool (a napi `AsyncTask`) costs the JavaScript thread a
//! queue lock, a condition-variable signal per task (the woken worker often
//! preempts the JS thread, then blocks on the lock it still holds) and a
//! promise per task. Here a check is queued under our own lock, a sleeping
//! thread is woken only when no thread is awake to take it, and answers go
//! back through the caller's `Replies`, which the napi layer batches into one
//! wake-up of the JS thread for everything finished since its last wake-up.
//!
//! Threads start on first use, up to one fewer than the cores (at least one).
//! The JavaScript thread is the last core's checker: it takes checks from
//! the same queue (`help`) for a bounded time per event-loop turn
//! (lib/core/check-scheduler.js), so a burst awaited as a whole is checked
//! on every core while the event loop still turns. With a thread per core
//! the check threads preempted it, and it fell behind feeding them
//! (bench/results.md keeps the figures).
//!
//! A thread that runs out of work watches the queue for `SPIN` before it
//! sleeps: work that comes in bursts (a wave of requests, then the next)
//! finds it awake, instead of paying a sleeping thread's wake-up (tens of
//! microseconds here) at the start of every wave.
//!
//! A check that panics is answered with `None` (the caller then takes the
//! slow path, which reports its own error), so no caller waits forever.

use std::collections::VecDeque;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// How long an idle check thread keeps watching the queue before it sleeps
/// (on a machine with more than one core).
const SPIN: Duration = Duration::from_micros(200);

/// Where a check's answer goes: `id` is the caller's, `answer` the check's.
pub trait Replies: Send + Sync {
    fn deliver(&self, id: u32, answer: Option<String>);
}

/// One token to check: `check` runs on a check thread, or on a JavaScript
/// thread that helps.
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
    /// `state.checks.len()`, readable without the lock by spinning threads.
    queued: AtomicUsize,
    /// Threads awake without a check (watching the queue for `spin`).
    spinning: AtomicUsize,
    /// `SPIN`, or zero on a single core.
    spin: Duration,
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
    CheckThreads::new(cores - 1, if cores > 1 { SPIN } else { Duration::ZERO })
});

impl CheckThreads {
    pub fn new(max_threads: usize, spin: Duration) -> CheckThreads {
        CheckThreads {
            state: Mutex::new(State { checks: VecDeque::new(), idle: 0, started: 0 }),
            work_waiting: Condvar::new(),
            max_threads: max_threads.max(1),
            queued: AtomicUsize::new(0),
            spinning: AtomicUsize::new(0),
            spin,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues `check`. Wakes a sleeping thread only when no thread is awake
    /// to take it (a busy thread takes the next check when it finishes, a
    /// spinning one at once), and starts threads while there are fewer than
    /// cores. A caller that queues must help (`help`) or queue more: a lone
    /// check wakes nobody.
    pub fn submit(&'static self, check: Check) {
        let (wake, start) = {
            let mut state = self.lock();
            state.checks.push_back(check);
            let waiting = state.checks.len();
            self.queued.store(waiting, Ordering::Release);
            // Spinning threads take the waiting checks at once; beyond them a
            // sleeping thread is woken, or one more started. A lone check is
            // left to the JavaScript thread, which helps at the end of its
            // run or turn (lib/core/check-scheduler.js): waking a thread for
            // it would cost the caller the wake-up and rarely win the race.
            let unattended = waiting >= 2 && waiting > self.spinning.load(Ordering::Acquire);
            let wake = unattended && state.idle > 0;
            let start = unattended && !wake && state.started < self.max_threads;
            if start {
                state.started += 1;
            }
            (wake, start)
        };
        if wake {
            self.work_waiting.notify_one();
        }
        if start {
            let spawned = thread::Builder::new().name("crossmint-check".into()).spawn(move || self.work());
            if spawned.is_err() {
                self.thread_not_started();
            }
        }
    }

    /// The next check, keeping `queued` in step (under the lock).
    fn take(&self, state: &mut State) -> Option<Check> {
        let check = state.checks.pop_front();
        self.queued.store(state.checks.len(), Ordering::Release);
        check
    }

    fn pop(&self) -> Option<Check> {
        self.take(&mut self.lock())
    }

    /// Runs queued checks on the calling thread (a JavaScript thread) until
    /// the queue is empty or `deadline` passes, at least one when any is
    /// queued (so a caller that helps always makes progress, whatever its
    /// budget). How many it ran, and whether checks are still queued.
    pub fn help(&self, deadline: Instant) -> (usize, bool) {
        let mut ran = 0;
        while self.queued.load(Ordering::Acquire) > 0 {
            match self.pop() {
                Some(check) => check.run(),
                None => break,
            }
            ran += 1;
            if Instant::now() >= deadline {
                return (ran, self.queued.load(Ordering::Acquire) > 0);
            }
        }
        (ran, false)
    }

    /// Whether waiting by spinning pays: with one core the spinner would
    /// only take the CPU from the thread it waits for.
    pub fn spins(&self) -> bool {
        !self.spin.is_zero()
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
            self.queued.store(0, Ordering::Release);
            state.checks.drain(..).collect()
        };
        orphaned.into_iter().for_each(Check::run);
    }

    /// Waits up to `spin` for a check to be queued, without the lock.
    fn watch_queue(&self) {
        if self.spin.is_zero() {
            return;
        }
        self.spinning.fetch_add(1, Ordering::AcqRel);
        let until = Instant::now() + self.spin;
        while self.queued.load(Ordering::Acquire) == 0 && Instant::now() < until {
            std::hint::spin_loop();
        }
        self.spinning.fetch_sub(1, Ordering::AcqRel);
    }

    fn work(&self) {
        loop {
            if let Some(check) = self.pop() {
                check.run();
                continue;
            }
            self.watch_queue();
            let check = {
                let mut state = self.lock();
                loop {
                    if let Some(check) = self.take(&mut state) {
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
    fn every_check_is_answered_once_on_a_check_thread_or_the_helper_even_when_it_panics() {
        static THREADS: LazyLock<CheckThreads> = LazyLock::new(|| CheckThreads::new(3, SPIN));
        let (sender, answers) = channel();
        let replies = Arc::new(Collect(Mutex::new(sender)));
        let helper = thread::current().name().unwrap_or("").to_string();
        // In waves, so threads go idle and must be woken again.
        for wave in 0..20u32 {
            checks(&replies, wave * 50..wave * 50 + 50).into_iter().for_each(|check| THREADS.submit(check));
            if wave % 4 == 1 {
                // This thread helps, as a JavaScript thread does.
                THREADS.help(Instant::now() + Duration::from_micros(200));
            }
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
            assert!(thread_name == "crossmint-check" || thread_name == helper, "{thread_name}");
            let expected = (id % 500 != 3).then(|| format!("subject-{id}"));
            assert_eq!(answer, expected);
        }
        assert!(answers.recv_timeout(Duration::from_millis(100)).is_err(), "no extra answers");
        let state = THREADS.lock();
        assert!(state.started <= 3, "at most max_threads threads: {}", state.started);
        assert!(state.checks.is_empty());
    }
}
