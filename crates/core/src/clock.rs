use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, DurationRound, Utc};

/// The time source of every use case. Production reads the system clock; tests
/// [`advance`](Clock::advance) it to expire tokens without sleeping.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    skew_micros: Arc<AtomicI64>,
}

impl Clock {
    /// The current time, truncated to microseconds: the finest both engines
    /// store, so a value read back equals the value written.
    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now() + Duration::microseconds(self.skew_micros.load(Ordering::Relaxed));
        now.duration_trunc(Duration::microseconds(1)).unwrap_or(now)
    }

    /// Moves this clock (and its clones) forward by `by`.
    pub fn advance(&self, by: Duration) {
        let micros = by.num_microseconds().unwrap_or(i64::MAX);
        self.skew_micros.fetch_add(micros, Ordering::Relaxed);
    }
}
