//! The scrubber: times typed as `12.5s`, `1m3s`, `2h`, `350ms` or `12.5`; offsets shown as
//! `+1m03.250s`; playback at 1x or 10x; the position bar.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::tui::theme::Theme;

/// Microseconds for a typed time, or why not.
pub fn parse_time(text: &str) -> Result<u64, String> {
    let t = text.trim().trim_start_matches('+');
    if t.is_empty() {
        return Err("a time, like 12.5s or 1m3s".into());
    }
    let bad = || format!("\"{text}\" is not a time (like 12.5s, 1m3s, 350ms)");
    let mut total = 0f64;
    let mut num = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let unit = match c {
            'h' => 3_600e6,
            'm' if chars.peek() == Some(&'s') => {
                chars.next();
                1e3
            }
            'm' => 60e6,
            's' => 1e6,
            'u' | 'µ' => {
                if chars.peek() == Some(&'s') {
                    chars.next();
                }
                1.0
            }
            _ => return Err(bad()),
        };
        let n: f64 = num.parse().map_err(|_| bad())?;
        total += n * unit;
        num.clear();
    }
    if !num.is_empty() {
        let n: f64 = num.parse().map_err(|_| bad())?;
        total += n * 1e6;
    }
    Ok(total.round() as u64)
}

/// `+12.345s`, `+1m03.250s`, `+1h02m03s`.
pub fn offset(t_us: u64) -> String {
    let ms = t_us / 1000;
    let (h, m, s, milli) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    if h > 0 {
        format!("+{h}h{m:02}m{s:02}s")
    } else if m > 0 {
        format!("+{m}m{s:02}.{milli:03}s")
    } else {
        format!("+{s}.{milli:03}s")
    }
}

/// A duration: `850µs`, `12.3ms`, `1.20s`.
pub fn duration(us: u64) -> String {
    if us < 1000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else {
        format!("{:.2}s", us as f64 / 1e6)
    }
}

/// Playback: the session's clock runs from `from_us` at `speed` since `since_ms`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Play {
    pub since_ms: i64,
    pub from_us: u64,
}

impl Play {
    /// The session time that playback has reached at `now_ms`.
    pub fn at(&self, now_ms: i64, speed: u32) -> u64 {
        let elapsed = (now_ms - self.since_ms).max(0) as u64;
        self.from_us + elapsed * 1000 * u64::from(speed)
    }
}

/// `▕━━━━━●─────────▏ +12.345s / +1m05.000s` for a cursor at `t_us` of `end_us`.
pub fn bar<'a>(t_us: u64, end_us: u64, width: usize, theme: &Theme, tail: String) -> Line<'a> {
    let label = format!(" {} / {}", offset(t_us), offset(end_us));
    let cells = width.saturating_sub(label.chars().count() + tail.chars().count() + 2);
    let pos = if end_us == 0 || cells == 0 {
        0
    } else {
        ((t_us.min(end_us) as u128 * (cells.saturating_sub(1)) as u128) / end_us as u128) as usize
    };
    let done: String = "━".repeat(pos);
    let rest: String = "─".repeat(cells.saturating_sub(pos + 1));
    let knob = if cells > 0 { "●" } else { "" };
    Line::from(vec![
        Span::styled("▕", theme.muted()),
        Span::styled(done, theme.accent()),
        Span::styled(knob, theme.accent()),
        Span::styled(rest, theme.muted()),
        Span::styled("▏", theme.muted()),
        Span::styled(label, Style::default()),
        Span::styled(tail, theme.muted()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_as_people_write_them() {
        assert_eq!(parse_time("12.5s"), Ok(12_500_000));
        assert_eq!(parse_time("1m3s"), Ok(63_000_000));
        assert_eq!(parse_time("+1m03.250s"), Ok(63_250_000));
        assert_eq!(parse_time("350ms"), Ok(350_000));
        assert_eq!(parse_time("2"), Ok(2_000_000));
        assert_eq!(parse_time("1h"), Ok(3_600_000_000));
        assert!(parse_time("soon").is_err());
        assert!(parse_time("").is_err());
        assert_eq!(offset(63_250_000), "+1m03.250s");
        assert_eq!(offset(12_345_678), "+12.345s");
        assert_eq!(parse_time(&offset(12_345_000)), Ok(12_345_000));
    }
}
