//! The channel that brings the check threads' answers (`check_threads`)
//! back to one JavaScript environment: a batch per wake-up, and the event
//! loop held open only while checks are out. Through it the JavaScript
//! thread also takes a share of the queued checks (`help`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::check_threads::{Check, Replies, CHECK_THREADS};

/// Answers from the check threads (`check_threads`) for one JavaScript
/// environment: finished checks collect in `finished`, and the first one
/// after the JS thread last took them wakes it through `wake`, unless the
/// JS thread is in `help` and takes them itself. Each worker thread's
/// environment builds its own channel; the threads are shared.
struct ChannelReplies {
    finished: Mutex<Finished>,
    /// This environment's checks queued or running and not yet delivered.
    in_flight: AtomicUsize,
    /// Weak (unref'd) so an idle channel never keeps the process alive;
    /// `CheckChannel::keep_alive` refs it while checks are out.
    wake: ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>,
}

#[derive(Default)]
struct Finished {
    answers: Vec<(u32, Option<String>)>,
    /// The JS thread is in `help`: it takes the answers when it returns.
    helping: bool,
}

impl ChannelReplies {
    fn finished(&self) -> std::sync::MutexGuard<'_, Finished> {
        self.finished.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Replies for ChannelReplies {
    fn deliver(&self, id: u32, answer: Option<String>) {
        let wake = {
            let mut finished = self.finished();
            finished.answers.push((id, answer));
            // Counted down under the lock, after the push: `help` reads it
            // and then takes the answers.
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            finished.answers.len() == 1 && !finished.helping
        };
        if wake {
            // Unbounded queue: never blocks. Closing (the environment is
            // gone) leaves nobody to answer.
            self.wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

#[napi]
pub struct CheckChannel {
    replies: Arc<ChannelReplies>,
    check_time: Arc<CheckTime>,
}

/// Where `NativeAuth::subject_now` leaves the microseconds of a check it
/// made on the JavaScript thread, so that its answer stays a plain string:
/// an array built through napi for the pair cost more than a microsecond
/// (V8 sets napi's elements through its generic, slow path). The cell is
/// the first element of a Float64Array JavaScript made and clears after
/// reading; held here, so it lives as long as anything writes to it.
/// JavaScript-thread only, like the napi calls that write it.
struct CheckTime {
    _array: Float64Array,
    cell: *mut f64,
}

// Safety: the native halves holding it are shared with their async methods'
// futures, which never touch it; `cell` is written only by `subject_now`, a
// synchronous method, on the JavaScript thread.
unsafe impl Send for CheckTime {}
unsafe impl Sync for CheckTime {}

/// Where a native half queues its checks: the channel of its JavaScript
/// environment, handed over once (`NativeAuth::answer_checks_through`) so a
/// lookup on the hot path carries no channel argument.
#[derive(Clone)]
pub(super) struct CheckAnswers {
    replies: Arc<ChannelReplies>,
    check_time: Arc<CheckTime>,
}

impl CheckAnswers {
    /// Queues `check` on the check threads, answered through the channel
    /// under `id`.
    pub(super) fn submit(&self, id: u32, check: Box<dyn FnOnce() -> Option<String> + Send>) {
        self.replies.in_flight.fetch_add(1, Ordering::AcqRel);
        CHECK_THREADS.submit(Check { id, check, replies: self.replies.clone() });
    }

    /// Tells JavaScript that a check ran on its thread, and for how long
    /// (at least a nanosecond: 0 reads as none).
    pub(super) fn record_check_here(&self, microseconds: f64) {
        // Safety: `cell` points into the typed array `check_time` holds a
        // reference to (its backing store does not move once napi handed
        // out its address), and only the JavaScript thread, inside a napi
        // call, reads or writes it.
        unsafe { self.check_time.cell.write(microseconds.max(1e-3)) }
    }
}

impl CheckChannel {
    pub(super) fn answers(&self) -> CheckAnswers {
        CheckAnswers { replies: self.replies.clone(), check_time: self.check_time.clone() }
    }
}

#[napi]
impl CheckChannel {
    /// `on_finished` is called (with no arguments) when answers are waiting;
    /// `check_time[0]` is set to the microseconds of a check `subjectNow`
    /// made on this thread (JavaScript clears it after reading).
    #[napi(constructor)]
    pub fn new(on_finished: Function<(), Unknown<'static>>, mut check_time: Float64Array) -> Result<Self> {
        // Safety: a view of JavaScript's array, held for as long as `cell` is used.
        let cell = match unsafe { check_time.as_mut() }.first_mut() {
            Some(first) => first as *mut f64,
            None => return Err(Error::new(Status::InvalidArg, "the check time cell needs one element")),
        };
        let wake = on_finished
            .build_threadsafe_function::<()>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(|_| Ok(()))?;
        Ok(CheckChannel {
            replies: Arc::new(ChannelReplies {
                finished: Mutex::new(Finished::default()),
                in_flight: AtomicUsize::new(0),
                wake,
            }),
            check_time: Arc::new(CheckTime { _array: check_time, cell }),
        })
    }

    /// Everything finished since the last call, flat: `[id, userId, id,
    /// userId, ...]` (`null`: not verifiable with the key set held, take the
    /// slow path). One array, not an object of two: napi builds each array
    /// and each named property through V8's slow paths.
    #[napi(ts_return_type = "Array<number | string | null>")]
    pub fn take_finished(&self) -> Vec<Either<u32, Option<String>>> {
        let finished = std::mem::take(&mut self.replies.finished().answers);
        let mut flat = Vec::with_capacity(finished.len() * 2);
        for (id, subject) in finished {
            flat.push(Either::A(id));
            flat.push(Either::B(subject));
        }
        flat
    }

    /// The JavaScript thread's share: runs queued checks (of any
    /// environment) on this thread until none is queued or `budget_us`
    /// microseconds are spent (at least one check when any is queued). When
    /// the queue is then empty it waits, within what is left of the budget,
    /// for this environment's checks still running on the check threads (at
    /// most one check's time; never on a single core, where the spinning
    /// would hold the CPU the check needs), so a burst's last answers are
    /// taken here rather than after a wake-up. Returns the microseconds
    /// spent (0 when it neither ran nor waited: nothing to count against the
    /// budget, so an idle turn schedules no other) and whether checks are
    /// still queued; the answers are then in `take_finished`.
    #[napi(ts_return_type = "[number, boolean]")]
    pub fn help(&self, budget_us: f64) -> (f64, bool) {
        let started = Instant::now();
        // At most a second, whatever JavaScript passed (NaN counts as none).
        let deadline = started + Duration::from_secs_f64(budget_us.clamp(0.0, 1e6) / 1e6);
        self.replies.finished().helping = true;
        let (ran, still_queued) = CHECK_THREADS.help(deadline);
        let wait = !still_queued && CHECK_THREADS.spins() && self.replies.in_flight.load(Ordering::Acquire) > 0;
        if wait {
            while self.replies.in_flight.load(Ordering::Acquire) > 0 && Instant::now() < deadline {
                std::hint::spin_loop();
            }
        }
        self.replies.finished().helping = false;
        let spent = if ran > 0 || wait { started.elapsed().as_secs_f64() * 1e6 } else { 0.0 };
        (spent, still_queued)
    }

    /// Keeps the event loop alive while checks are out (so a script
    /// awaiting one does not exit first), and lets it go when none are.
    #[napi]
    pub fn keep_alive(&self, env: Env, keep: bool) -> Result<()> {
        let raw = self.replies.wake.raw();
        // napi-rs's `refer`/`unref` need `&mut`, but the function is shared
        // with the check threads; the raw calls are the same napi calls,
        // made on the JS thread as napi requires.
        let status = unsafe {
            if keep {
                sys::napi_ref_threadsafe_function(env.raw(), raw)
            } else {
                sys::napi_unref_threadsafe_function(env.raw(), raw)
            }
        };
        match status {
            sys::Status::napi_ok => Ok(()),
            status => Err(Error::new(Status::from(status), "could not (un)ref the check channel")),
        }
    }
}
