//! The channel that brings the check threads' answers (`check_threads`)
//! back to one JavaScript environment: a batch per wake-up, and the event
//! loop held open only while checks are out.

use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;

use crate::check_threads::Replies;

/// Answers from the check threads (`check_threads`) for one JavaScript
/// environment: finished checks collect in `finished`, and the first one
/// after the JS thread last took them wakes it through `wake`. Each worker
/// thread's environment builds its own channel; the threads are shared.
struct ChannelReplies {
    finished: Mutex<Vec<(u32, Option<String>)>>,
    /// Weak (unref'd) so an idle channel never keeps the process alive;
    /// `CheckChannel::keep_alive` refs it while checks are out.
    wake: ThreadsafeFunction<(), Unknown<'static>, (), Status, false, true>,
}

impl Replies for ChannelReplies {
    fn deliver(&self, id: u32, answer: Option<String>) {
        let first = {
            let mut finished = self.finished.lock().unwrap_or_else(|p| p.into_inner());
            finished.push((id, answer));
            finished.len() == 1
        };
        if first {
            // Unbounded queue: never blocks. Closing (the environment is
            // gone) leaves nobody to answer.
            self.wake.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// The answers `takeFinished` hands over: `subjects[i]` answers `ids[i]`
/// (`null`: not verifiable with the key set held, take the slow path).
#[napi(object, object_to_js = true, object_from_js = false)]
pub struct FinishedChecks {
    pub ids: Vec<u32>,
    pub subjects: Vec<Option<String>>,
}

#[napi]
pub struct CheckChannel {
    replies: Arc<ChannelReplies>,
}

impl CheckChannel {
    /// Where the check threads deliver this environment's answers.
    pub(super) fn replies(&self) -> Arc<dyn Replies> {
        self.replies.clone()
    }
}

#[napi]
impl CheckChannel {
    /// `on_finished` is called (with no arguments) when answers are waiting.
    #[napi(constructor)]
    pub fn new(on_finished: Function<(), Unknown<'static>>) -> Result<Self> {
        let wake = on_finished
            .build_threadsafe_function::<()>()
            .weak::<true>()
            .callee_handled::<false>()
            .build_callback(|_| Ok(()))?;
        Ok(CheckChannel { replies: Arc::new(ChannelReplies { finished: Mutex::new(Vec::new()), wake }) })
    }

    /// Everything finished since the last call.
    #[napi]
    pub fn take_finished(&self) -> FinishedChecks {
        let finished = std::mem::take(&mut *self.replies.finished.lock().unwrap_or_else(|p| p.into_inner()));
        let (ids, subjects) = finished.into_iter().unzip();
        FinishedChecks { ids, subjects }
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
