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

/// "YYYY-MM-DD HH:MM" for a Unix time in milliseconds.
pub fn date_time(ms: i64, offset_secs: i32) -> String {
    let t = ms + offset_secs as i64 * 1000;
    let days = t.div_euclid(86_400_000);
    let day_ms = t.rem_euclid(86_400_000);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        day_ms / 3_600_000,
        day_ms / 60_000 % 60
    )
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
        assert_eq!(date_time(1_700_000_000_123, 0), "2023-11-14 22:13");
        assert_eq!(date_time(0, -3600), "1969-12-31 23:00");
        assert_eq!(date_time(951_782_400_000, 0), "2000-02-29 00:00");
    }
}
