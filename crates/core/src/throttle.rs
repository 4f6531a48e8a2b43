//! Budgets that hold across every door of both dialects: password checks per
//! account (`/api/login`, `/system/api/login` and Fresns `account/login`
//! spend one budget) and sends per user. governor's GCRA decides with one
//! atomic update per check, so simultaneous attempts cannot all slip through
//! before any is counted.

use std::num::NonZeroU32;
use std::time::Duration;

use colloq_domain::ids::{AccountId, UserId};
use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::CoreError;

/// How much each budget allows; 0 turns a budget off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// Password checks per account per minute (also the burst).
    pub logins_per_account_per_minute: u32,
    /// Messages per user per second; twice as many may come at once.
    pub sends_per_user_per_second: u32,
}

/// The shared budgets of one server.
#[derive(Debug)]
pub struct Throttle {
    logins: Option<DefaultKeyedRateLimiter<AccountId>>,
    sends: Option<DefaultKeyedRateLimiter<UserId>>,
}

impl Throttle {
    /// Budgets as configured.
    pub fn new(budgets: Budgets) -> Self {
        Self {
            logins: NonZeroU32::new(budgets.logins_per_account_per_minute)
                .map(|n| RateLimiter::keyed(Quota::per_minute(n))),
            sends: NonZeroU32::new(budgets.sends_per_user_per_second).map(|n| {
                let burst = n.saturating_mul(NonZeroU32::MIN.saturating_add(1));
                RateLimiter::keyed(Quota::per_second(n).allow_burst(burst))
            }),
        }
    }

    /// No budgets at all (tools, and tests that are not about them).
    pub fn unlimited() -> Self {
        Self {
            logins: None,
            sends: None,
        }
    }

    /// Spends one password check of `account`.
    ///
    /// # Errors
    /// [`CoreError::RateLimited`] when its budget is spent.
    pub(crate) fn login(&self, account: AccountId) -> Result<(), CoreError> {
        check(self.logins.as_ref(), &account, "login")
    }

    /// Spends one send of `user`.
    ///
    /// # Errors
    /// [`CoreError::RateLimited`] when its budget is spent.
    pub fn send(&self, user: UserId) -> Result<(), CoreError> {
        check(self.sends.as_ref(), &user, "send")
    }

    /// Forgets accounts and users whose budgets are full again, so the maps
    /// do not grow with everyone ever seen.
    pub fn forget_idle(&self) {
        if let Some(l) = &self.logins {
            l.retain_recent();
        }
        if let Some(s) = &self.sends {
            s.retain_recent();
        }
    }
}

fn check<K>(
    limiter: Option<&DefaultKeyedRateLimiter<K>>,
    key: &K,
    budget: &'static str,
) -> Result<(), CoreError>
where
    K: std::hash::Hash + Eq + Clone,
{
    let Some(limiter) = limiter else {
        return Ok(());
    };
    limiter.check_key(key).map_err(|not_until| {
        metrics::counter!("colloq_rate_limited_total", "budget" => budget).increment(1);
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        CoreError::RateLimited {
            retry_after: wait.max(Duration::from_secs(1)),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_is_spent_atomically_and_per_key() {
        let throttle = Throttle::new(Budgets {
            logins_per_account_per_minute: 5,
            sends_per_user_per_second: 0,
        });
        let allowed = std::thread::scope(|s| {
            let handles: Vec<_> = (0..32)
                .map(|_| s.spawn(|| throttle.login(AccountId(1)).is_ok()))
                .collect();
            let mut allowed = 0;
            for handle in handles {
                if matches!(handle.join(), Ok(true)) {
                    allowed += 1;
                }
            }
            allowed
        });
        assert_eq!(allowed, 5);
        assert!(matches!(
            throttle.login(AccountId(1)),
            Err(CoreError::RateLimited { retry_after }) if retry_after >= Duration::from_secs(1)
        ));
        assert!(throttle.login(AccountId(2)).is_ok());
        // A budget of 0 is off.
        for _ in 0..1000 {
            assert!(throttle.send(UserId(1)).is_ok());
        }
    }
}
