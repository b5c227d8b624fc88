//! Polling until a condition holds.

use std::time::Duration;

/// Checks `cond` every `interval` until it holds (`true`) or `timeout`
/// passed (`false`, after one last check).
pub async fn poll_until(
    timeout: Duration,
    interval: Duration,
    mut cond: impl FnMut() -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(interval).await;
    }
}

/// Polls `cond` every 20 ms for up to `timeout`; panics with `what` when it never holds.
pub async fn wait_for(what: &str, timeout: Duration, cond: impl FnMut() -> bool) {
    if !poll_until(timeout, Duration::from_millis(20), cond).await {
        panic!("waitFor timed out after {timeout:?}: {what}");
    }
}

/// Waits until `cond` holds (checked every 10 ms, 10 s at most); `Err` with
/// what was awaited when it does not.
pub async fn eventually(what: &str, cond: impl FnMut() -> bool) -> Result<(), String> {
    if poll_until(Duration::from_secs(10), Duration::from_millis(10), cond).await {
        Ok(())
    } else {
        Err(format!("not within 10 s: {what}"))
    }
}
