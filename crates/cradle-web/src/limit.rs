//! Sign-in rate limiting: after [`MAX_FAILURES`] failed sign-ins for one
//! email address within [`WINDOW`], further attempts for it are refused
//! (429 with `Retry-After`) until the oldest failure leaves the window,
//! whether or not the password would be right. A global bound stops one
//! client from trying many addresses quickly.
//!
//! The counts live in the process: several replicas each count their own.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed attempts allowed per email address within [`WINDOW`].
pub const MAX_FAILURES: usize = 5;
/// Failed attempts allowed over all addresses within [`WINDOW`].
pub const MAX_GLOBAL_FAILURES: usize = 200;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Default)]
pub(crate) struct SignInLimiter {
    failures: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    by_email: HashMap<String, VecDeque<Instant>>,
    all: VecDeque<Instant>,
}

fn expire(times: &mut VecDeque<Instant>, now: Instant) {
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= WINDOW)
    {
        times.pop_front();
    }
}

impl SignInLimiter {
    /// `Err(seconds to wait)` when this address may not try now.
    pub fn check(&self, email: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        expire(&mut failures.all, now);
        let wait = |times: &VecDeque<Instant>| {
            times.front().map_or(1, |first| {
                WINDOW.saturating_sub(now.duration_since(*first)).as_secs() + 1
            })
        };
        if failures.all.len() >= MAX_GLOBAL_FAILURES {
            return Err(wait(&failures.all));
        }
        if let Some(times) = failures.by_email.get_mut(email) {
            expire(times, now);
            if times.len() >= MAX_FAILURES {
                return Err(wait(times));
            }
        }
        Ok(())
    }

    pub fn failed(&self, email: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.all.push_back(now);
        if failures.by_email.len() > 10_000 {
            failures.by_email.retain(|_, times| {
                expire(times, now);
                !times.is_empty()
            });
        }
        failures
            .by_email
            .entry(email.to_owned())
            .or_default()
            .push_back(now);
    }

    pub fn succeeded(&self, email: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.by_email.remove(email);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_allowed_failures() {
        let limiter = SignInLimiter::default();
        for _ in 0..MAX_FAILURES {
            assert!(limiter.check("a@x.de").is_ok());
            limiter.failed("a@x.de");
        }
        let wait = limiter.check("a@x.de").expect_err("limited");
        assert!(wait > 0 && wait <= WINDOW.as_secs() + 1);
        assert!(limiter.check("b@x.de").is_ok(), "other addresses still try");
    }
}
