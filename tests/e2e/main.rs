//! End to end: the real `roomdeck` binary in a private tmux server.
//!
//! Drives the console with `send-keys`, reads it with `capture-pane`, and polls for text with a
//! deadline instead of sleeping. A second participant is the `roomdeck room ...` CLI, which
//! finds the console's embedded server through the data dir. Run with `tests/e2e/run`, or
//! `cargo test --test e2e`; without tmux on the PATH the tmux test says so and passes.

mod screenshots;
mod timeline;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_roomdeck");
const WAIT: Duration = Duration::from_secs(15);

struct Tmux {
    socket: String,
    data: PathBuf,
    _dir: tempfile::TempDir,
}

impl Tmux {
    fn start(width: u16, height: u16, extra_args: &str) -> Tmux {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        let config = dir.path().join("config");
        std::fs::create_dir_all(&config).expect("config dir");
        // One tmux server per test: tests run in parallel, some at the same size.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let socket = format!("roomdeck-e2e-{}-{width}-{n}", std::process::id());
        let shell = format!(
            "env ROOMDECK_NAME=ada ROOMDECK_CONFIG_DIR='{}' TERM=xterm-256color '{BIN}' --data-dir '{}' {extra_args}; \
             echo __EXIT__$?; stty -a | tr ' ;' '\\n\\n' | grep -x -- '-\\?icanon'; sleep 120",
            config.display(),
            data.display()
        );
        let t = Tmux {
            socket,
            data,
            _dir: dir,
        };
        t.tmux(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "e2e",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            &shell,
        ]);
        t
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-t", "e2e"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "e2e"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Types text literally (no key names).
    fn text(&self, text: &str) {
        self.tmux(&["send-keys", "-t", "e2e", "-l", text]);
    }

    /// Runs a palette command: `:`, the command, enter.
    fn command(&self, cmd: &str) {
        self.keys(&[":"]);
        self.text(cmd);
        self.keys(&["Enter"]);
    }

    fn wait_for(&self, what: &str) -> String {
        self.wait_until(what, |s| s.contains(what))
    }

    fn wait_until(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if ok(&s) {
                return s;
            }
            if start.elapsed() > WAIT {
                panic!("waited {WAIT:?} for {what:?}; the screen was:\n{s}");
            }
            std::thread::sleep(Duration::from_millis(40));
        }
    }

    /// `roomdeck room messaging broadcast` of a chat message, as `name`.
    fn say(&self, name: &str, text: &str) {
        let data = serde_json::json!({ "text": text }).to_string();
        self.cli(&[
            "--name",
            name,
            "messaging",
            "broadcast",
            "--type",
            "chat",
            "--data",
            &data,
        ]);
    }

    /// `roomdeck room ...` as a second participant of the same local room.
    fn cli(&self, args: &[&str]) -> Output {
        let out = Command::new(BIN)
            .arg("room")
            .arg("--data-dir")
            .arg(&self.data)
            .args(args)
            .output()
            .expect("roomdeck room runs");
        assert!(
            out.status.success(),
            "roomdeck room {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

/// Whether tmux is here; under CI its absence is a failure, not a skip.
fn have_tmux() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("CI").is_none(),
        "CI must install tmux for the e2e tests"
    );
    found
}

#[test]
fn console_in_tmux() {
    if !have_tmux() {
        eprintln!(
            "e2e: tmux is not installed; the tmux test did not run (tests/e2e/run installs it)"
        );
        return;
    }
    let started = Instant::now();
    let t = Tmux::start(120, 32, "");
    t.wait_for("◆ roomdeck");
    let first_frame = started.elapsed();
    t.wait_for("● live");
    eprintln!(
        "e2e: first frame after {first_frame:?}, live after {:?}",
        started.elapsed()
    );

    // The console opens on the overview; chat is tab 1. Type a message and see it.
    t.wait_for("Activity");
    t.keys(&["1"]);
    t.keys(&["i"]);
    t.wait_for("enter send");
    t.text("hello from the console");
    t.keys(&["Enter"]);
    t.wait_for("ada  hello from the console");
    t.keys(&["Escape"]);

    // A second participant's message appears.
    t.cli(&[
        "--name",
        "grace",
        "messaging",
        "broadcast",
        "--type",
        "chat",
        "--data",
        r#"{"text":"hi from grace"}"#,
    ]);
    t.wait_for("hi from grace");

    // Queues: a message sent by the CLI shows up with its size, and is received in the console.
    t.cli(&[
        "queue",
        "send",
        "--queue",
        "jobs",
        "--json",
        r#"{"task":"resize","id":7}"#,
    ]);
    t.keys(&["2"]);
    t.wait_until("jobs with size 1", |s| {
        s.lines()
            .any(|l| l.contains("jobs") && l.trim_end().ends_with("1││"))
            || s.lines().any(|l| l.contains(" jobs ") && l.contains(" 1│"))
    });
    t.keys(&["p"]);
    t.wait_for("\"task\": \"resize\"");
    // Send from the console, take it with the CLI.
    t.keys(&["i"]);
    t.wait_for("Send to queue jobs");
    t.text(r#"{"from": "console"}"#);
    t.keys(&["Enter"]);
    t.wait_for("sent to queue jobs");
    let got = t.cli(&["queue", "receive", "--queue", "jobs"]);
    assert!(
        String::from_utf8_lossy(&got.stdout).contains("console"),
        "{got:?}"
    );

    // Logs: a developer log line arrives, and the filter keeps only matching lines.
    t.keys(&["3"]);
    t.wait_for("participant grace");
    t.command("log e2e marker line");
    t.wait_for("INFO  e2e marker line");
    t.keys(&["/"]);
    t.text("marker");
    t.keys(&["Enter"]);
    let s = t.wait_for("filter \"marker\" 1");
    assert!(
        !s.contains("participant grace"),
        "filter left other lines:\n{s}"
    );
    t.keys(&["Escape"]);
    t.wait_for("participant grace");

    // Help opens, filters by typing, closes.
    t.keys(&["?"]);
    t.wait_for("Help · type to filter");
    t.text("drain");
    t.wait_for("queue_drain");
    t.keys(&["Escape"]); // closes, filter or not
    t.wait_until("help closed", |s| !s.contains("Help ·"));

    // Services: the tab lists the room's services, with restart in the hint bar.
    t.keys(&["4"]);
    t.wait_for("R restart");
    t.wait_until("services listed", |s| {
        s.contains("LIVENESS") || s.contains("no services · deploy one")
    });

    // `:room NAME` reopens the console on another local room, whose service runs.
    let spec = t.data.parent().expect("temp dir").join("ticker.yaml");
    std::fs::write(
        &spec,
        "version: v1\nkind: Service\nmetadata: {name: ticker}\n\
         container: {image: local, command: 'sleep 0.5; echo ticker says hello; exec sleep 600'}\n",
    )
    .expect("spec");
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(&t.data)
        .args(["service", "deploy"])
        .arg(&spec)
        .args(["--room", "lab"])
        .output()
        .expect("roomdeck service deploy runs");
    assert!(out.status.success(), "{out:?}");
    t.command("room lab");
    t.wait_until("room lab live", |s| {
        s.contains("│ room lab") && s.contains("● live")
    });

    // The services pane restarts the service after a confirm; its output shows below.
    t.keys(&["4"]);
    t.wait_until("ticker running", |s| {
        s.lines()
            .any(|l| l.contains("ticker") && l.contains("running"))
    });
    t.keys(&["R"]);
    t.wait_for("Restart service ticker?");
    t.keys(&["y"]);
    t.wait_for("restarted service ticker");
    t.wait_until("restart counted", |s| {
        s.lines()
            .any(|l| l.contains("ticker") && l.contains("running") && l.contains(" 1 "))
    });
    t.wait_for("ticker says hello");

    // Quit: the terminal comes back as it was (main screen, cooked mode).
    t.keys(&["q"]);
    let s = t.wait_for("__EXIT__0");
    t.wait_until("stty output", |s| {
        s.lines()
            .any(|l| l.trim() == "icanon" || l.trim() == "-icanon")
    });
    let s2 = t.screen();
    assert!(
        s2.lines().any(|l| l.trim() == "icanon"),
        "terminal left in raw mode:\n{s2}"
    );
    assert!(!s.contains("◆ roomdeck"), "alternate screen not left:\n{s}");
    assert_eq!(
        t.tmux(&["display", "-p", "-t", "e2e", "#{alternate_on}"])
            .trim(),
        "0"
    );
}

/// The files tab: a file another participant puts in appears live, a folder opens, the
/// preview shows the JSON pretty-printed (and follows a change to it), an upload through the
/// prompt with tab completion, a delete after its confirm.
#[test]
fn files_pane_in_tmux() {
    if !have_tmux() {
        eprintln!("e2e: tmux is not installed; the tmux test did not run");
        return;
    }
    let t = Tmux::start(120, 32, "");
    t.wait_for("● live");
    t.keys(&["5"]);
    t.wait_for("no files in this room yet");
    t.wait_for("u upload");

    // The CLI, a second participant, puts a file in: it appears without a key press.
    let tmp = t.data.parent().expect("temp dir").to_path_buf();
    let report = tmp.join("report.json");
    std::fs::write(&report, r#"{"title":"Q3","pages":[1,2]}"#).expect("local file");
    let report_arg = report.display().to_string();
    t.cli(&["storage", "cp", &report_arg, "room://docs/report.json"]);
    t.wait_for("▸ docs/");

    // Open the folder, select the file: the preview shows it pretty-printed.
    t.keys(&["Enter"]);
    t.wait_for("report.json");
    t.keys(&["Down"]);
    t.wait_for("Preview · docs/report.json · JSON");
    t.wait_for("\"title\": \"Q3\",");

    // Someone changes the file: the preview follows, the selection stays.
    std::fs::write(&report, r#"{"title":"Q4"}"#).expect("local file");
    t.cli(&["storage", "cp", &report_arg, "room://docs/report.json"]);
    t.wait_for("\"title\": \"Q4\"");

    // Upload into the selected file's folder: a path typed in part, tab completes it.
    std::fs::write(tmp.join("upload-me.txt"), "uploaded from the console\n").expect("local file");
    t.keys(&["u"]);
    t.wait_for("Upload a local file into docs");
    t.text(&format!("{}/upload-", tmp.display()));
    t.keys(&["Tab"]);
    t.wait_for("upload-me.txt");
    t.keys(&["Enter"]);
    t.wait_for("uploaded docs/upload-me.txt");
    t.wait_until("the upload in the tree", |s| {
        s.lines()
            .any(|l| l.contains("upload-me.txt") && l.contains(" B "))
    });
    let got = t.cli(&["storage", "get", "docs/upload-me.txt"]);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        "uploaded from the console\n"
    );

    // Delete it, after the confirm.
    t.keys(&["Down"]);
    t.wait_for("Preview · docs/upload-me.txt");
    t.keys(&["d"]);
    t.wait_for("Delete docs/upload-me.txt");
    t.keys(&["y"]);
    t.wait_for("deleted docs/upload-me.txt");
    t.wait_until("gone from the tree", |s| {
        !s.lines()
            .any(|l| l.contains("upload-me.txt") && l.contains(" B "))
    });
    let out = Command::new(BIN)
        .arg("room")
        .arg("--data-dir")
        .arg(&t.data)
        .args(["storage", "exists", "docs/upload-me.txt"])
        .output()
        .expect("roomdeck room runs");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("does not exist"),
        "{out:?}"
    );
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}

#[test]
fn tiny_terminal_shows_a_message_and_read_only_refuses() {
    if !have_tmux() {
        eprintln!("e2e: tmux is not installed; the tmux test did not run");
        return;
    }
    let t = Tmux::start(30, 8, "tui --read-only");
    t.wait_for("too small");
    t.tmux(&["resize-window", "-t", "e2e", "-x", "100", "-y", "24"]);
    t.wait_for("READ-ONLY");
    t.keys(&["1", "i"]);
    t.wait_for("read-only mode");
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}

#[test]
fn refuses_without_a_terminal() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(dir.path())
        .env("ROOMDECK_CONFIG_DIR", dir.path())
        .stdin(std::process::Stdio::null())
        .output()
        .expect("roomdeck runs");
    assert!(!out.status.success());
    assert!(
        out.stdout.is_empty(),
        "wrote to stdout: {:?}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs a terminal"));
    assert!(!Path::new(&dir.path().join("server.url")).exists());
}

/// A remote room: `roomdeck serve` in its own process, the console joined with --url/--token,
/// then the server stopped (the console reconnects with backoff) and started again.
#[test]
fn remote_room_with_reconnect() {
    if !have_tmux() {
        eprintln!("e2e: tmux is not installed; the tmux test did not run");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("served");
    let serve = |port: &str| serve_on(&data, port);
    let mut server = serve("0");
    let url = served_url(&data);
    let token = full_token(&data, "ops", "remote-ada");
    let t = Tmux::start(
        100,
        24,
        &format!("tui --url {url}/rooms/ops --token {token}"),
    );
    t.wait_for("● live");
    t.wait_for("room ops");
    t.wait_for("as remote-ada");
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
    t.wait_for("reconnecting");
    let port = url.rsplit(':').next().expect("port").to_string();
    server = serve(&port);
    t.wait_until("live again", |s| {
        s.contains("● live") && !s.contains("reconnecting")
    });
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
}

/// The database tab: a table made by the CLI shows with its count; queries run in the
/// editor and their rows show; a bad query's error shows under the editor; a write updates
/// the count, and a delete asks first.
#[test]
fn database_tab_in_tmux() {
    if !have_tmux() {
        eprintln!("e2e: tmux is not installed; the tmux test did not run");
        return;
    }
    let t = Tmux::start(110, 30, "");
    t.wait_for("● live");
    t.cli(&[
        "database",
        "create",
        "-t",
        "people",
        "--columns",
        "id int, name text",
    ]);
    t.cli(&[
        "database",
        "insert",
        "-t",
        "people",
        "--json",
        r#"[{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}, {"id": 3, "name": "Linus"}]"#,
    ]);
    let count = |n: &'static str| {
        move |s: &str| {
            s.lines()
                .any(|l| l.contains("people") && l.contains(&format!(" {n}│")))
        }
    };
    t.keys(&["6"]);
    t.wait_until("people with 3 rows", count("3"));
    t.wait_for("Schema · people");
    // Enter on the table writes its SELECT (the focus stays on the list); f5 runs it.
    t.keys(&["Enter"]);
    t.wait_for(r#"SELECT * FROM "people" LIMIT 100"#);
    t.wait_for("f5 runs it, i edits it");
    t.keys(&["F5"]);
    t.wait_for("Result · 3 rows");
    t.wait_for("Grace");
    // A bad query: SQLite's message under the editor; ctrl-r runs (it passes through tmux).
    t.keys(&["i", "Home", "C-k"]);
    t.text("select * from nope");
    t.keys(&["C-r"]);
    t.wait_for("no such table: nope");
    // A write refreshes the count; a delete asks first.
    t.keys(&["Home", "C-k"]);
    t.text("insert into people values (4, 'Alan')");
    t.keys(&["F5"]);
    t.wait_for("1 row changed");
    t.wait_until("people with 4 rows", count("4"));
    t.keys(&["Home", "C-k"]);
    t.text("delete from people where id = 4");
    t.keys(&["F5"]);
    t.wait_for("This drops or deletes data");
    t.keys(&["y"]);
    t.wait_until("people with 3 rows again", count("3"));
    // Esc leaves the editor (q is typed there); then q quits.
    t.keys(&["Escape"]);
    t.wait_for("enter open  f5 run");
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}

/// A sync document's schema: a list of named items (as MeshAgent's MeshSchema writes one).
const LIST_SCHEMA: &str = r##"{"$root_tag_ref": "#/$defs/list", "type": "object",
  "additionalProperties": false, "required": ["list"],
  "properties": {"list": {"type": "object", "additionalProperties": false, "required": ["items"],
    "properties": {"items": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/item"}]}}}}},
  "$defs": {
    "list": {"type": "object", "additionalProperties": false, "required": ["list"],
      "properties": {"list": {"type": "object", "additionalProperties": false, "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"anyOf": [{"$ref": "#/$defs/item"}]}}}}}},
    "item": {"type": "object", "additionalProperties": false, "required": ["item"],
      "properties": {"item": {"type": "object", "additionalProperties": false, "required": ["name"],
        "properties": {"name": {"type": ["string", "null"]}}}}}}}"##;

#[test]
fn documents_and_toolkits_tabs_in_tmux() {
    if !have_tmux() {
        eprintln!("e2e: tmux is not installed; the tmux test did not run");
        return;
    }
    let t = Tmux::start(110, 30, "");
    t.wait_for("● live");
    let schema = t.data.with_file_name("list.schema.json");
    std::fs::write(&schema, LIST_SCHEMA).expect("schema file");
    t.cli(&[
        "sync",
        "create",
        "plan.list",
        "--schema",
        schema.to_str().unwrap(),
        "--json",
        r#"{"list": {"items": [{"item": {"name": "one"}}]}}"#,
    ]);
    // The documents tab lists it and follows it.
    t.keys(&["7"]);
    t.wait_for("plan.list ● live");
    t.wait_for(r#""name": "one""#);
    // Another participant edits it: the view changes without a key pressed.
    t.cli(&[
        "sync",
        "update",
        "plan.list",
        "--patch",
        r#"[{"op": "add", "path": "/list/items/-", "value": {"item": {"name": "two"}}}]"#,
    ]);
    t.wait_for(r#""name": "two""#);
    t.wait_for("1 update");
    // e edits the whole document as JSON; the room keeps what was saved.
    t.keys(&["e"]);
    t.wait_for("Edit plan.list: JSON");
    for _ in 0..24 {
        t.keys(&["C-k", "Delete"]);
    }
    t.text(r#"{"list": {"items": [{"item": {"name": "three"}}]}}"#);
    t.keys(&["Enter"]);
    t.wait_for("saved plan.list");
    t.wait_until("the view shows only the saved item", |s| {
        s.contains(r#""name": "three""#) && !s.contains(r#""name": "one""#)
    });
    let got = t.cli(&["sync", "get", "plan.list"]);
    let got: serde_json::Value = serde_json::from_slice(&got.stdout).expect("sync get prints JSON");
    assert_eq!(
        got,
        serde_json::json!({"list": {"items": [{"item": {"name": "three"}}]}})
    );
    // The toolkits tab: find queues.send, call it with arguments, then queues.list shows it.
    t.keys(&["8"]);
    t.wait_for("containers");
    t.keys(&["/"]);
    t.text("queues.send");
    t.keys(&["Enter", "Down", "Enter"]);
    t.wait_for("Call queues.send: JSON arguments");
    // Clear the template whatever its length (one kill and one join per line).
    for _ in 0..8 {
        t.keys(&["C-k", "Delete"]);
    }
    t.text(r#"{"name": "jobs", "message": {"n": 7}, "create": true}"#);
    t.keys(&["Enter"]);
    t.wait_for(r#"queues.send {"create":true,"message":{"n":7},"name":"jobs"} ok"#);
    t.command("invoke queues.list");
    t.wait_for("queues.list {} ok");
    t.wait_for(r#""name": "jobs""#);
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}

/// The overview (where the console opens) shows the room's rates moving while the CLI, as
/// other participants, sends queue items and chat messages.
#[test]
fn overview_rates_move_in_tmux() {
    if !have_tmux() {
        eprintln!("e2e: tmux is not installed; the tmux test did not run");
        return;
    }
    let t = Tmux::start(110, 30, "");
    t.wait_for("● live");
    t.wait_for("Activity · the room's counters");
    // A row's sparkline has a bar once its rate was above zero in a sample.
    let moved = |screen: &str, label: &str| {
        screen
            .lines()
            .find(|l| l.contains(label))
            .is_some_and(|l| l.chars().any(|c| ('▁'..='█').contains(&c)))
    };
    assert!(!moved(&t.screen(), "queue ops/s"), "no queue work yet");
    for i in 0..4 {
        t.cli(&[
            "queue",
            "send",
            "--queue",
            "jobs",
            "--json",
            &format!(r#"{{"n":{i}}}"#),
        ]);
        t.say("grace", "hi");
    }
    t.wait_until("queue ops and messages move", |s| {
        moved(s, "queue ops/s") && moved(s, "messages/s") && moved(s, "tool calls/s")
    });
    // The queue the CLI filled shows with its depth.
    t.wait_until("jobs with 4 items", |s| {
        s.lines().any(|l| l.contains("jobs") && l.contains(" 4 "))
    });
    // In chat the CLI sender is named (the room remembers it after it left) and listed gone.
    t.keys(&["1"]);
    t.wait_for("grace  hi");
    t.wait_for("○ grace");
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}

/// `:rooms`: the local rooms with their state; `c` creates one, enter switches the console
/// to it (the status line's room), `d` deletes an idle one after its confirm, and the
/// `roomdeck rooms` CLI sees the same registry.
#[test]
fn rooms_view_in_tmux() {
    if !have_tmux() {
        return;
    }
    let t = Tmux::start(100, 30, "");
    t.wait_for("● live");
    t.command("rooms");
    t.wait_until("default listed as active", |s| {
        s.contains("Rooms (1)")
            && s.lines()
                .any(|l| l.contains("● default") && l.contains("active"))
    });

    t.keys(&["c"]);
    t.wait_for("new room:");
    t.text("lab");
    t.keys(&["Enter"]);
    t.wait_for("created room lab");
    t.wait_until("lab listed and selected", |s| {
        s.contains("Rooms (2)")
            && s.lines()
                .any(|l| l.contains("▶  lab") && l.contains("idle"))
    });
    t.keys(&["Enter"]);
    t.wait_until("room lab live", |s| {
        s.contains("│ room lab") && s.contains("● live")
    });

    // Back in the view: lab is the current room now, default went idle and can go.
    t.command("rooms");
    t.wait_until("lab current, default idle", |s| {
        s.lines()
            .any(|l| l.contains("● lab") && l.contains("active"))
            && s.lines()
                .any(|l| l.contains("default") && l.contains("idle"))
    });
    t.keys(&["g", "d"]);
    t.wait_for("Delete room default and all its data?");
    t.keys(&["y"]);
    t.wait_for("deleted room default");
    t.wait_for("Rooms (1)");
    let out = Command::new(BIN)
        .arg("--data-dir")
        .arg(&t.data)
        .args(["rooms", "list"])
        .output()
        .expect("roomdeck rooms list runs");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        listed.contains("lab") && !listed.contains("default"),
        "{listed}"
    );
    t.keys(&["Escape"]);
    t.wait_until("view closed", |s| !s.contains("Rooms ("));
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
}

/// `roomdeck serve` on 127.0.0.1:PORT (0: any) over `data`.
fn serve_on(data: &Path, port: &str) -> std::process::Child {
    Command::new(BIN)
        .args([
            "serve",
            "--bind",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(data)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("roomdeck serve starts")
}

/// The base URL (`ws://HOST:PORT`) a `roomdeck serve` over `data` wrote once it listens.
fn served_url(data: &Path) -> String {
    let marker = data.join("server.url");
    let start = Instant::now();
    loop {
        if let Some(u) = std::fs::read_to_string(&marker)
            .ok()
            .and_then(|t| t.lines().next().map(str::to_string))
        {
            return u;
        }
        assert!(start.elapsed() < WAIT, "roomdeck serve wrote no server.url");
        std::thread::sleep(Duration::from_millis(40));
    }
}

/// A token with every grant (admin too) for `room` of the server over `data`.
fn full_token(data: &Path, room: &str, name: &str) -> String {
    let out = Command::new(BIN)
        .args([
            "token",
            "--room",
            room,
            "--name",
            name,
            "--scope",
            "full",
            "--data-dir",
        ])
        .arg(data)
        .output()
        .expect("roomdeck token runs");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A remote server's rooms through `--api-url`: `:rooms` lists them, `c` creates one on the
/// server, enter joins it with the token the server mints.
#[test]
fn rooms_view_over_the_api_url_in_tmux() {
    if !have_tmux() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("served");
    let mut server = serve_on(&data, "0");
    let url = served_url(&data);
    let api = url.replacen("ws://", "http://", 1);
    let token = full_token(&data, "ops", "remote-ada");
    let t = Tmux::start(
        100,
        30,
        &format!("tui --api-url {api} --room ops --token {token}"),
    );
    t.wait_until("room ops live", |s| {
        s.contains("room ops") && s.contains("● live")
    });
    t.command("rooms");
    t.wait_until("ops listed as active", |s| {
        s.lines()
            .any(|l| l.contains("● ops") && l.contains("active"))
    });
    t.keys(&["c"]);
    t.text("lab");
    t.keys(&["Enter"]);
    t.wait_for("created room lab");
    t.wait_until("lab selected", |s| s.lines().any(|l| l.contains("▶  lab")));
    t.keys(&["Enter"]);
    t.wait_until("room lab live", |s| {
        s.contains("│ room lab") && s.contains("● live") && s.contains("as remote-ada")
    });
    t.keys(&["q"]);
    t.wait_for("__EXIT__0");
    let _ = Command::new("kill").arg(server.id().to_string()).status();
    let _ = server.wait();
}
