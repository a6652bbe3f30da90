//! The storage toolkit, the Files REST API and download URLs, through the real server and
//! the Rust client.

use crate::common;

use std::path::{Path, PathBuf};

use common::*;
use roomdeck::auth::ApiScope;
use roomdeck::auth::scope::{StorageGrant, StoragePathGrant};
use roomdeck::client::{ClientError, RoomClient, StorageEvent};
use roomdeck::protocol::Content;
use roomdeck::server::{self, ServerConfig};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Deterministic bytes that are not all alike.
fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

fn files_dir(dir: &Path, room: &str) -> PathBuf {
    dir.join("rooms").join(room).join("files")
}

fn code(e: ClientError) -> i64 {
    e.code()
        .unwrap_or_else(|| panic!("expected a room error code, got {e}"))
}

async fn upload(
    c: &RoomClient,
    path: &str,
    data: &[u8],
    overwrite: bool,
) -> Result<(), ClientError> {
    let mut reader = data;
    let mut quiet = |_: u64, _: Option<u64>| {};
    c.storage()
        .upload(
            path,
            &mut reader,
            Some(data.len() as u64),
            overwrite,
            &mut quiet,
        )
        .await
}

async fn download(c: &RoomClient, path: &str) -> Result<Vec<u8>, ClientError> {
    let mut out = Vec::new();
    let mut quiet = |_: u64, _: Option<u64>| {};
    c.storage().download(path, &mut out, &mut quiet).await?;
    Ok(out)
}

#[tokio::test]
async fn multi_megabyte_round_trip_with_stat_list_move_delete() {
    let s = TestServer::start().await;
    let a = s.join("r", "alice").await;
    let b = s.join("r", "bob").await;
    let data = pattern(5 * 1024 * 1024 + 123, 1);
    let mut seen = Vec::new();
    let mut progress = |done: u64, _: Option<u64>| seen.push(done);
    let mut reader = &data[..];
    a.storage()
        .upload("docs/big.bin", &mut reader, None, false, &mut progress)
        .await
        .expect("uploads without an announced size");
    assert_eq!(seen.last().copied(), Some(data.len() as u64));
    assert!(seen.len() > 1, "progress is reported per chunk");

    let mut out = Vec::new();
    let mut quiet = |_: u64, _: Option<u64>| {};
    let info = b
        .storage()
        .download("docs/big.bin", &mut out, &mut quiet)
        .await
        .expect("downloads");
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(info.name, "big.bin");
    assert!(out == data, "downloaded bytes equal the uploaded ones");

    let st = a.storage();
    assert!(st.exists("docs/big.bin").await.unwrap());
    assert!(
        st.exists("/docs/big.bin").await.unwrap(),
        "leading / is the room root"
    );
    assert!(!st.exists("docs/nope").await.unwrap());
    let stat = st.stat("docs").await.unwrap().expect("folder exists");
    assert!(stat.is_folder);
    assert_eq!(st.stat("nope").await.unwrap(), None);
    let list = st.list("docs").await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].size, Some(data.len() as u64));
    assert!(list[0].updated_at.is_some());

    upload(&a, "docs/small.txt", b"v1", false).await.unwrap();
    assert_eq!(
        code(
            upload(&a, "docs/small.txt", b"v2", false)
                .await
                .unwrap_err()
        ),
        3005
    );
    upload(&a, "docs/small.txt", b"v2", true).await.unwrap();
    assert_eq!(download(&a, "docs/small.txt").await.unwrap(), b"v2");
    upload(&a, "empty", b"", false).await.unwrap();
    assert_eq!(download(&a, "empty").await.unwrap(), b"");

    assert_eq!(
        code(
            st.move_path("docs/big.bin", "docs/small.txt", false)
                .await
                .unwrap_err()
        ),
        3005
    );
    st.move_path("docs/big.bin", "archive/big.bin", false)
        .await
        .unwrap();
    assert!(!st.exists("docs/big.bin").await.unwrap());
    assert_eq!(
        code(st.move_path("docs/gone", "x", false).await.unwrap_err()),
        3001
    );
    assert_eq!(code(st.delete("archive", false).await.unwrap_err()), 3002);
    st.delete("archive", true).await.unwrap();
    assert_eq!(code(st.delete("archive", true).await.unwrap_err()), 3001);
    assert_eq!(
        code(download(&a, "archive/big.bin").await.unwrap_err()),
        3001
    );
    let names: Vec<_> = st
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["docs", "empty"]);
}

/// The console's preview reads only a file's head; the connection stays usable after it.
#[tokio::test]
async fn read_head_reads_only_the_first_chunk() {
    let s = TestServer::start().await;
    let a = s.join("r", "alice").await;
    let data = pattern(3 * 1024 * 1024, 7);
    upload(&a, "big.bin", &data, false).await.unwrap();
    let (info, head) = a.storage().read_head("big.bin", 1000).await.unwrap();
    assert_eq!(info.size, data.len() as u64);
    assert_eq!(head, data[..1000]);
    upload(&a, "small.json", b"{\"a\":1}", false).await.unwrap();
    let (info, head) = a
        .storage()
        .read_head("small.json", 64 * 1024)
        .await
        .unwrap();
    assert_eq!((info.size, head.as_slice()), (7, &b"{\"a\":1}"[..]));
    upload(&a, "empty", b"", false).await.unwrap();
    let (info, head) = a.storage().read_head("empty", 10).await.unwrap();
    assert_eq!((info.size, head.len()), (0, 0));
    assert_eq!(
        code(a.storage().read_head("nope", 10).await.unwrap_err()),
        3001
    );
    // The stream was closed, not left hanging: the same client still works.
    assert_eq!(download(&a, "small.json").await.unwrap(), b"{\"a\":1}");
}

#[tokio::test]
async fn every_participant_sees_updated_moved_deleted() {
    let s = TestServer::start().await;
    let a = s.join("r", "alice").await;
    let b = s.join("r", "bob").await;
    let mut events = b.subscribe();
    upload(&a, "f.txt", b"x", false).await.unwrap();
    a.storage()
        .move_path("f.txt", "g.txt", false)
        .await
        .unwrap();
    a.storage().delete("g.txt", false).await.unwrap();
    let by = a.participant_id();
    let mut got = Vec::new();
    while got.len() < 3 {
        let e = within("a storage event", events.recv())
            .await
            .expect("event");
        if let Some(e) = StorageEvent::from_room_event(&e) {
            got.push(e);
        }
    }
    assert_eq!(
        got,
        [
            StorageEvent::Updated {
                path: "f.txt".into(),
                participant_id: by.clone()
            },
            StorageEvent::Moved {
                source_path: "f.txt".into(),
                destination_path: "g.txt".into(),
                participant_id: by.clone()
            },
            StorageEvent::Deleted {
                path: "g.txt".into(),
                participant_id: by
            },
        ]
    );
}

#[tokio::test]
async fn traversal_and_symlinks_out_are_refused() {
    let s = TestServer::start().await;
    let a = s.join("r", "alice").await;
    let st = a.storage();
    for bad in [
        "../x",
        "a/../../x",
        "a\\b",
        "a\0b",
        "a//b",
        "./../x",
        &"n".repeat(300),
    ] {
        assert_eq!(
            code(st.exists(bad).await.unwrap_err()),
            3004,
            "exists {bad:?}"
        );
        assert_eq!(
            code(upload(&a, bad, b"x", true).await.unwrap_err()),
            3004,
            "upload {bad:?}"
        );
        assert_eq!(
            code(download(&a, bad).await.unwrap_err()),
            3004,
            "download {bad:?}"
        );
    }
    assert!(!s.dir.path().join("rooms").join("x").exists());

    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"top secret").unwrap();
    let files = files_dir(s.dir.path(), "r");
    std::fs::create_dir_all(&files).unwrap();
    std::os::unix::fs::symlink(outside.path(), files.join("out")).unwrap();
    assert_eq!(code(download(&a, "out/secret").await.unwrap_err()), 3004);
    assert_eq!(
        code(upload(&a, "out/planted", b"x", false).await.unwrap_err()),
        3004
    );
    assert_eq!(
        code(st.delete("out/secret", false).await.unwrap_err()),
        3004
    );
    assert_eq!(
        code(
            st.move_path("out/secret", "stolen", false)
                .await
                .unwrap_err()
        ),
        3004
    );
    assert!(!outside.path().join("planted").exists());
    assert!(outside.path().join("secret").exists());
    let names: Vec<_> = st
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert!(!names.contains(&"out".to_string()), "{names:?}");
}

fn read_only_scope() -> ApiScope {
    let mut scope = ApiScope::agent_default();
    scope.storage = Some(StorageGrant {
        paths: Some(vec![StoragePathGrant {
            path: "public".into(),
            read_only: true,
        }]),
        files: None,
    });
    scope
}

#[tokio::test]
async fn read_only_grant_may_read_but_not_write() {
    let s = TestServer::start().await;
    let a = s.join("r", "alice").await;
    upload(&a, "public/a.txt", b"hello", false).await.unwrap();
    upload(&a, "private/b.txt", b"hidden", false).await.unwrap();
    let r = s.join_with("r", "reader", read_only_scope()).await;
    assert_eq!(download(&r, "public/a.txt").await.unwrap(), b"hello");
    assert_eq!(
        code(upload(&r, "public/new", b"x", false).await.unwrap_err()),
        1001
    );
    assert_eq!(
        code(upload(&r, "public/a.txt", b"x", true).await.unwrap_err()),
        1001
    );
    assert_eq!(
        code(r.storage().delete("public/a.txt", false).await.unwrap_err()),
        1001
    );
    assert_eq!(
        code(
            r.storage()
                .move_path("public/a.txt", "public/b", false)
                .await
                .unwrap_err()
        ),
        1001
    );
    assert_eq!(code(download(&r, "private/b.txt").await.unwrap_err()), 1001);
    // The root may be listed on the way to `public`, showing only what the grant covers.
    let names: Vec<_> = r
        .storage()
        .list("")
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["public"]);
    assert_eq!(download(&a, "public/a.txt").await.unwrap(), b"hello");
}

#[tokio::test]
async fn a_dropped_upload_leaves_the_old_file_or_none() {
    let s = TestServer::start().await;
    let a = s.join("r", "alice").await;
    upload(&a, "keep.bin", b"old contents", false)
        .await
        .unwrap();
    for (path, overwrite) in [("keep.bin", true), ("new.bin", false)] {
        let c = s.join("r", "dropper").await;
        let start = Content::binary(
            json!({"kind": "start", "path": path, "overwrite": overwrite, "name": path,
                   "mime_type": "application/octet-stream", "size": 10_000_000}),
            vec![],
        );
        let mut stream = c
            .invoke_stream("storage", "upload", Some(start))
            .await
            .expect("upload starts");
        for _ in 0..3 {
            let pull = within("a pull", stream.next())
                .await
                .expect("pull")
                .expect("ok");
            assert!(matches!(&pull, Content::Binary { headers, .. } if headers["kind"] == "pull"));
            stream
                .send(Content::binary(
                    json!({"kind": "data"}),
                    pattern(100_000, 2),
                ))
                .await
                .unwrap();
        }
        c.close().await;
        let uploads = s.dir.path().join("rooms/r/.uploads");
        eventually("the temp file is removed", || {
            std::fs::read_dir(&uploads).map(|d| d.count()).unwrap_or(0) == 0
        })
        .await;
        drop(stream);
    }
    assert_eq!(download(&a, "keep.bin").await.unwrap(), b"old contents");
    assert!(!a.storage().exists("new.bin").await.unwrap());
}

#[tokio::test]
async fn uploads_over_the_size_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = ServerConfig::new(
        "127.0.0.1:0".parse().unwrap(),
        dir.path().to_path_buf(),
        SECRET.to_string(),
    );
    config.max_upload_size = 1000;
    let server = server::start(config).await.unwrap();
    let c = RoomClient::connect(
        &server.room_url("r"),
        &token("r", "a", ApiScope::agent_default()),
    )
    .await
    .unwrap();
    let big = pattern(5000, 3);
    // Announced size: refused before any byte moves.
    let e = upload(&c, "big", &big, false).await.unwrap_err();
    assert_eq!(code(e.clone()), 1002);
    assert!(e.to_string().contains("1000 bytes"), "{e}");
    // Unannounced: refused once the bytes pass the limit.
    let mut reader = &big[..];
    let mut quiet = |_: u64, _: Option<u64>| {};
    let e = c
        .storage()
        .upload("big", &mut reader, None, false, &mut quiet)
        .await
        .unwrap_err();
    assert_eq!(code(e), 1002);
    assert!(!c.storage().exists("big").await.unwrap());
    upload(&c, "small", &big[..1000], false).await.unwrap();
    server.shutdown().await.unwrap();
}

/// A bare HTTP/1.0 request; returns (status, headers, body).
async fn http(addr: std::net::SocketAddr, request: String, body: &[u8]) -> (u16, String, Vec<u8>) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    tcp.write_all(request.as_bytes()).await.unwrap();
    tcp.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap();
    (status, head, raw[split + 4..].to_vec())
}

fn get(path_and_query: &str, bearer: Option<&str>) -> String {
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    format!("GET {path_and_query} HTTP/1.0\r\nHost: 127.0.0.1\r\n{auth}\r\n")
}

#[tokio::test]
async fn download_urls_serve_the_file_until_tampered() {
    let s = TestServer::start().await;
    let a = s.join("r", "alice").await;
    let data = pattern(300_000, 4);
    upload(&a, "dir/a b.bin", &data, false).await.unwrap();
    let url = a.storage().download_url("dir/a b.bin").await.unwrap();
    let addr = s.server.as_ref().unwrap().addr();
    let prefix = format!("http://{addr}");
    assert!(url.starts_with(&prefix), "{url}");
    let path = &url[prefix.len()..];
    let (status, _, body) = http(addr, get(path, None), b"").await;
    assert_eq!(status, 200);
    assert!(body == data);
    let tampered = path.replace("dir/a%20b.bin", "dir/other.bin");
    assert_eq!(http(addr, get(&tampered, None), b"").await.0, 403);
    let mut forged = path.to_string();
    forged.pop();
    forged.push('x');
    assert_eq!(http(addr, get(&forged, None), b"").await.0, 403);
    assert_eq!(
        code(a.storage().download_url("missing").await.unwrap_err()),
        3001
    );
}

#[tokio::test]
async fn files_rest_api_checks_tokens_and_grants() {
    let s = TestServer::start().await;
    let addr = s.server.as_ref().unwrap().addr();
    let (status, _, body) = http(addr, get("/config", None), b"").await;
    assert_eq!(status, 200);
    let config: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(config["domains"]["files"], "http://127.0.0.1/files");

    let full = token("r", "alice", ApiScope::agent_default());
    let put = format!(
        "PUT /files/p/rooms/r/docs/x.txt?overwrite=false HTTP/1.0\r\nHost: h\r\nAuthorization: Bearer {full}\r\nContent-Length: 5\r\n\r\n"
    );
    assert_eq!(http(addr, put.clone(), b"hello").await.0, 201);
    assert_eq!(http(addr, put, b"hello").await.0, 409);
    let (status, _, body) = http(addr, get("/files/p/rooms/r/docs/x.txt", Some(&full)), b"").await;
    assert_eq!((status, body.as_slice()), (200, &b"hello"[..]));
    let (status, _, body) = http(
        addr,
        get("/files/p/rooms/r/?list&prefix=docs&limit=10", Some(&full)),
        b"",
    )
    .await;
    assert_eq!(status, 200);
    let page: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["entries"][0]["name"], "x.txt");
    assert_eq!(page["continuation_token"], serde_json::Value::Null);

    assert_eq!(
        http(addr, get("/files/p/rooms/r/docs/x.txt", None), b"")
            .await
            .0,
        401
    );
    let other_room = token("elsewhere", "eve", ApiScope::agent_default());
    assert_eq!(
        http(
            addr,
            get("/files/p/rooms/r/docs/x.txt", Some(&other_room)),
            b""
        )
        .await
        .0,
        403
    );
    let reader = token("r", "reader", read_only_scope());
    assert_eq!(
        http(addr, get("/files/p/rooms/r/docs/x.txt", Some(&reader)), b"")
            .await
            .0,
        403
    );
    let put = format!(
        "PUT /files/p/rooms/r/public/y HTTP/1.0\r\nHost: h\r\nAuthorization: Bearer {reader}\r\nContent-Length: 1\r\n\r\n"
    );
    assert_eq!(http(addr, put, b"y").await.0, 403);
    assert_eq!(
        http(
            addr,
            get("/files/p/rooms/r/a/%2E%2E/%2E%2E/etc", Some(&full)),
            b""
        )
        .await
        .0,
        400
    );
    let del = format!(
        "DELETE /files/p/rooms/r/docs?recursive=false HTTP/1.0\r\nHost: h\r\nAuthorization: Bearer {full}\r\n\r\n"
    );
    assert_eq!(http(addr, del, b"").await.0, 409);
}

/// The real binary, killed with SIGKILL in the middle of an upload: after a restart there is
/// neither a partial file nor a leftover temp file.
#[tokio::test]
async fn a_killed_server_leaves_no_partial_upload() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, url) = serve_binary(dir.path()).await;
    let jwt = token("r", "a", ApiScope::agent_default());
    let c = RoomClient::connect(&format!("{url}/rooms/r"), &jwt)
        .await
        .unwrap();
    upload(&c, "keep.bin", b"old", false).await.unwrap();
    for path in ["keep.bin", "new.bin"] {
        let start = Content::binary(
            json!({"kind": "start", "path": path, "overwrite": true, "size": null}),
            vec![],
        );
        let mut stream = c
            .invoke_stream("storage", "upload", Some(start))
            .await
            .unwrap();
        for _ in 0..2 {
            within("a pull", stream.next()).await.unwrap().unwrap();
            stream
                .send(Content::binary(
                    json!({"kind": "data"}),
                    pattern(200_000, 5),
                ))
                .await
                .unwrap();
        }
        within("a pull", stream.next()).await.unwrap().unwrap();
        std::mem::forget(stream);
        if path == "new.bin" {
            break;
        }
    }
    child.start_kill().unwrap();
    child.wait().await.unwrap();
    let files = files_dir(dir.path(), "r");
    assert_eq!(std::fs::read(files.join("keep.bin")).unwrap(), b"old");
    assert!(!files.join("new.bin").exists());
    let staged = std::fs::read_dir(dir.path().join("rooms/r/.uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(
        staged, 2,
        "both uploads were in flight when the server died"
    );

    let (_child, url) = serve_binary(dir.path()).await;
    let c = RoomClient::connect(&format!("{url}/rooms/r"), &jwt)
        .await
        .unwrap();
    assert_eq!(download(&c, "keep.bin").await.unwrap(), b"old");
    assert!(!c.storage().exists("new.bin").await.unwrap());
    let leftovers = std::fs::read_dir(dir.path().join("rooms/r/.uploads"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(
        leftovers, 0,
        "temp files of killed uploads are cleaned at start"
    );
}
