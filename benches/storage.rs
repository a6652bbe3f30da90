//! Storage throughput: a file uploaded to and downloaded from a `roomdeck serve` over the
//! room protocol, against a plain loopback TCP copy of the same bytes measured in the same
//! run, and the server's peak memory (VmHWM) while it happened.
//!
//! ```text
//! cargo bench --bench storage                       # 1 GiB
//! STORAGE_BENCH_MIB=256 cargo bench --bench storage
//! ```
//! The server binary is `ROOMDECK_BIN`, else the one cargo built for this bench.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use roomdeck::auth::{ApiScope, ParticipantToken};
use roomdeck::client::RoomClient;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

const SECRET: &str = "storage-bench-secret-storage-bench";
const CHUNK: usize = 1024 * 1024;

type Fallible<T> = Result<T, Box<dyn std::error::Error>>;

fn server_bin() -> PathBuf {
    std::env::var("ROOMDECK_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_BIN_EXE_roomdeck")))
}

/// Peak resident memory of a process, in KiB.
fn peak_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

async fn write_pattern(path: &Path, mib: usize) -> Fallible<()> {
    let mut f = tokio::fs::File::create(path).await?;
    let mut buf = vec![0u8; CHUNK];
    let mut x: u64 = 0x9e3779b97f4a7c15;
    for _ in 0..mib {
        for b in buf.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        f.write_all(&buf).await?;
    }
    f.sync_all().await?;
    Ok(())
}

/// File -> loopback TCP -> file, fsynced like an upload.
async fn tcp_copy(src: &Path, dst: &Path) -> Fallible<Duration> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let dst = dst.to_path_buf();
    let started = Instant::now();
    let receiver = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await?;
        let mut out = tokio::fs::File::create(&dst).await?;
        tokio::io::copy(&mut sock, &mut out).await?;
        out.sync_all().await?;
        Ok::<_, std::io::Error>(())
    });
    let mut sock = tokio::net::TcpStream::connect(addr).await?;
    let mut file = tokio::fs::File::open(src).await?;
    let mut buf = vec![0u8; CHUNK];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        sock.write_all(&buf[..n]).await?;
    }
    sock.shutdown().await?;
    receiver.await??;
    Ok(started.elapsed())
}

async fn same_bytes(a: &Path, b: &Path) -> Fallible<bool> {
    let (mut fa, mut fb) = (
        tokio::fs::File::open(a).await?,
        tokio::fs::File::open(b).await?,
    );
    let (mut ba, mut bb) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    loop {
        let na = fa.read(&mut ba).await?;
        if na == 0 {
            return Ok(fb.read(&mut bb).await? == 0);
        }
        fb.read_exact(&mut bb[..na]).await?;
        if ba[..na] != bb[..na] {
            return Ok(false);
        }
    }
}

#[tokio::main]
async fn main() -> Fallible<()> {
    let mib: usize = std::env::var("STORAGE_BENCH_MIB")
        .ok()
        .map(|a| a.parse())
        .transpose()?
        // `cargo bench` passes --bench; `cargo test --all-targets` runs a small smoke version.
        .unwrap_or(if std::env::args().any(|a| a == "--bench") {
            1024
        } else {
            8
        });
    let work = tempfile::tempdir()?;
    let src = work.path().join("source.bin");
    write_pattern(&src, mib).await?;
    let bytes = (mib * CHUNK) as f64;
    let rate = |d: Duration| bytes / CHUNK as f64 / d.as_secs_f64();

    let tcp = tcp_copy(&src, &work.path().join("tcp.bin")).await?;
    let _ = std::fs::remove_file(work.path().join("tcp.bin"));

    let data_dir = work.path().join("data");
    let mut server = tokio::process::Command::new(server_bin())
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--secret",
            SECRET,
            "--data-dir",
        ])
        .arg(&data_dir)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = server.id().ok_or("the server exited at once")?;
    let mut lines = tokio::io::BufReader::new(server.stdout.take().ok_or("no stdout")?).lines();
    let mut url = None;
    while let Some(line) = lines.next_line().await? {
        if let Some(u) = line.strip_prefix("roomdeck: serving ") {
            url = Some(u.trim().to_string());
            break;
        }
    }
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let url = url.ok_or("the server printed no URL")?;
    let idle_kib = peak_kib(pid).unwrap_or(0);

    let mut token = ParticipantToken::new("bench");
    token.add_room_grant("bench");
    token.add_api_grant(ApiScope::agent_default());
    let client = RoomClient::connect(&format!("{url}/rooms/bench"), &token.to_jwt(SECRET)?).await?;
    let storage = client.storage();
    let mut quiet = |_: u64, _: Option<u64>| {};

    let started = Instant::now();
    storage
        .upload_file("bench.bin", &src, true, &mut quiet)
        .await?;
    let up = started.elapsed();
    let up_kib = peak_kib(pid).unwrap_or(0);

    let back = work.path().join("back.bin");
    let started = Instant::now();
    storage
        .download_file("bench.bin", &back, &mut quiet)
        .await?;
    let down = started.elapsed();
    let peak = peak_kib(pid).unwrap_or(0);
    let ok = same_bytes(&src, &back).await?;
    client.close().await;

    println!("storage bench: {mib} MiB, bytes identical after the round trip: {ok}");
    println!(
        "  loopback TCP copy  {:>8.1} MiB/s  ({:.2?})",
        rate(tcp),
        tcp
    );
    println!(
        "  upload             {:>8.1} MiB/s  ({:.2?})  {:.2}x the TCP copy",
        rate(up),
        up,
        rate(up) / rate(tcp)
    );
    println!(
        "  download           {:>8.1} MiB/s  ({:.2?})  {:.2}x the TCP copy",
        rate(down),
        down,
        rate(down) / rate(tcp)
    );
    println!(
        "  server peak RSS    idle {:.1} MiB, after upload {:.1} MiB, after download {:.1} MiB",
        idle_kib as f64 / 1024.0,
        up_kib as f64 / 1024.0,
        peak as f64 / 1024.0
    );
    if !ok {
        return Err("the downloaded bytes differ from the uploaded ones".into());
    }
    Ok(())
}
