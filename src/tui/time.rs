//! Wall-clock formatting with a fixed UTC offset taken once at start-up (tests use 0).

/// "HH:MM:SS.mmm" for a Unix time in milliseconds.
pub fn clock_ms(ms: i64, offset_secs: i32) -> String {
    let t = ms + offset_secs as i64 * 1000;
    let day_ms = t.rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        day_ms / 3_600_000,
        day_ms / 60_000 % 60,
        day_ms / 1000 % 60,
        day_ms % 1000
    )
}

/// "HH:MM:SS".
pub fn clock(ms: i64, offset_secs: i32) -> String {
    let mut s = clock_ms(ms, offset_secs);
    s.truncate(8);
    s
}

/// The local time zone's offset from UTC, in seconds, now.
pub fn local_offset_secs() -> i32 {
    #[cfg(unix)]
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as libc::time_t)
            .unwrap_or(0);
        // SAFETY: localtime_r writes only into the struct we pass and reads `now`.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        let ok = unsafe { !libc::localtime_r(&now, &mut tm).is_null() };
        if ok {
            return tm.tm_gmtoff as i32;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(clock_ms(1_700_000_000_123, 0), "22:13:20.123");
        assert_eq!(clock(1_700_000_000_123, 3600), "23:13:20");
        assert_eq!(clock(0, -3600), "23:00:00");
    }
}
