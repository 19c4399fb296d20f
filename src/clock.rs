//! The wall clock, in the unit every wire format and journal here uses.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since 1970 UTC (0 if the system clock reads earlier).
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
