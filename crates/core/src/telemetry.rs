//! What the use cases count, through the `metrics` facade: nothing is
//! recorded until the binary installs a recorder, and the names are the ones
//! `docs/operations.md` lists.

/// A login name or password was checked and found wrong (any door).
pub(crate) fn login_failed() {
    metrics::counter!("colloq_logins_failed_total").increment(1);
}

/// A login was refused unchecked because its account had too many recent
/// failures.
pub(crate) fn login_locked() {
    metrics::counter!("colloq_logins_locked_total").increment(1);
}
