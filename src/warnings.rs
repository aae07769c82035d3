//! Warnings raised in Rust (on a worker thread, with no JavaScript at hand)
//! wait here until the JavaScript side collects them and hands them to the
//! user's `logger.warn`. Bounded: a flood of warnings keeps the first few.

use std::sync::Mutex;

const MAX_PENDING: usize = 16;

static PENDING: Mutex<Vec<String>> = Mutex::new(Vec::new());

pub fn push(message: String) {
    let mut pending = PENDING.lock().unwrap_or_else(|p| p.into_inner());
    if pending.len() < MAX_PENDING {
        pending.push(message);
    }
}

/// Everything raised since the last call.
pub fn take() -> Vec<String> {
    std::mem::take(&mut *PENDING.lock().unwrap_or_else(|p| p.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collects_and_bounds() {
        take();
        for i in 0..40 {
            push(format!("w{i}"));
        }
        let taken = take();
        assert_eq!(taken.len(), MAX_PENDING);
        assert_eq!(taken[0], "w0");
        assert!(take().is_empty());
    }
}
