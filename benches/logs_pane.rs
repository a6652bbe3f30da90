//! Logs pane benchmark: render a 200x50 frame while the pane holds 1,000,000 lines.
//!
//! Run with `cargo bench --bench logs_pane`. It prints the time per frame for following,
//! scrolled, filtered, searched and wrapped views, each next to a peer measured in the same
//! run (a plain ratatui Paragraph of the same 48 visible lines), and the process's resident
//! memory before and after filling the buffer. Target: under 2 ms per frame.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Borders, Paragraph, Widget};
use roomdeck::tui::net::{Level, LogLine};
use roomdeck::tui::panes::logs::LogsPane;
use roomdeck::tui::theme::Theme;

const FULL_LINES: usize = 1_000_000;
const W: u16 = 200;
const H: u16 = 50;

fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    s.lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn line(i: usize, source: &Arc<str>) -> LogLine {
    let level = match i % 50 {
        0 => Level::Error,
        1..=4 => Level::Warn,
        5..=20 => Level::Debug,
        _ => Level::Info,
    };
    LogLine {
        time_ms: 1_767_225_600_000 + i as i64,
        level,
        source: source.clone(),
        text: format!(
            "request {i} handled by worker {} in {} ms: GET /rooms/default/queues/jobs?limit={} status=200",
            i % 16,
            i % 997,
            i % 100
        )
        .into(),
        attrs: Arc::from(""),
    }
}

/// Mean time of `f` over enough runs to fill about 300 ms.
fn time_it(mut f: impl FnMut()) -> Duration {
    for _ in 0..10 {
        f();
    }
    let mut n = 0u32;
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(300) {
        f();
        n += 1;
    }
    start.elapsed() / n
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this binary without it,
    // and then a small buffer is enough to check that the benchmark still works.
    let full = std::env::args().any(|a| a == "--bench");
    let lines = if full { FULL_LINES } else { 10_000 };
    let theme = Theme::builtin("dark").expect("built-in theme");
    let area = Rect::new(0, 0, W, H);
    let rss_before = rss_kib();
    let source: Arc<str> = Arc::from("otel.log");
    let mut pane = LogsPane::new(lines);
    let fill = Instant::now();
    pane.push_lines((0..lines).map(|i| line(i, &source)));
    let fill = fill.elapsed();
    let rss_after = rss_kib();

    // The peer: the cheapest possible frame showing the same rows, a Paragraph of 48 lines.
    let texts: Vec<String> = (lines - 48..lines)
        .map(|i| format!("00:00:00.000 INFO  {}", line(i, &source).text))
        .collect();
    let mut buf = Buffer::empty(area);
    let peer = time_it(|| {
        buf.reset();
        let lines: Vec<Line> = texts.iter().map(|t| Line::raw(t.as_str())).collect();
        Paragraph::new(lines)
            .block(Block::default().borders(Borders::ALL))
            .render(area, &mut buf);
        black_box(&buf);
    });

    println!("logs pane, {lines} lines, {W}x{H} frame (filled in {fill:.2?})");
    println!("{:<28} {:>12} {:>14}", "view", "per frame", "vs paragraph");
    println!(
        "{:<28} {:>12.1?} {:>14}",
        "paragraph of 48 lines (peer)", peer, "1.00x"
    );
    let report = |name: &str, pane: &mut LogsPane| {
        let mut buf = Buffer::empty(area);
        let t = time_it(|| {
            buf.reset();
            pane.render(area, &mut buf, &theme, true);
            black_box(&buf);
        });
        let ratio = t.as_secs_f64() / peer.as_secs_f64();
        let mark = if !full || t < Duration::from_millis(2) {
            ""
        } else {
            "  (over the 2 ms target)"
        };
        println!("{name:<28} {t:>12.1?} {ratio:>13.2}x{mark}");
    };
    report("follow", &mut pane);
    pane.move_by(-(lines as isize) * 2 / 5);
    report("scrolled to the middle", &mut pane);
    pane.follow();
    pane.search = "worker 7".into();
    report("follow + search highlight", &mut pane);
    pane.search.clear();
    let t = Instant::now();
    pane.set_filter("worker 3 ");
    println!(
        "{:<28} {:>12.1?}   (one-off, on typing)",
        "apply filter (whole buffer)",
        t.elapsed()
    );
    report("filtered", &mut pane);
    pane.set_filter("");
    pane.wrap = true;
    report("wrap", &mut pane);
    match (rss_before, rss_after) {
        (Some(a), Some(b)) => println!(
            "memory: {} MiB resident before filling, {} MiB with {lines} lines ({} bytes a line)",
            a / 1024,
            b / 1024,
            (b.saturating_sub(a)) * 1024 / lines as u64
        ),
        _ => println!("memory: /proc/self/status not available on this system"),
    }
}
