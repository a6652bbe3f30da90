//! A small HTTP/1.1 client for the REST routes of a roomdeck server (plain `http://` only;
//! the commands that need it talk to a server on this machine or a trusted network).

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Largest response body read.
const MAX_BODY: usize = 64 * 1024 * 1024;

/// A REST endpoint: base URL, bearer token and project id.
#[derive(Debug, Clone)]
pub struct Api {
    pub base: String,
    pub token: String,
    pub project: String,
}

impl Api {
    pub fn new(base: &str, token: Option<String>, project: &str) -> Result<Api, String> {
        let token = token.filter(|t| !t.is_empty()).ok_or(
            "a token with the admin grant is required with --api-url (--token or MESHAGENT_TOKEN; `roomdeck token --scope full`)",
        )?;
        Ok(Api {
            base: base.trim_end_matches('/').to_string(),
            token,
            project: project.to_string(),
        })
    }

    /// `{base}/accounts/projects/{project}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/accounts/projects/{}{path}",
            self.base,
            encode(&self.project)
        )
    }

    /// Sends a request; a non-2xx answer becomes `Err` with the server's message.
    pub async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, String> {
        let url = self.url(path);
        let (status, text) = request(method, &url, Some(&self.token), body).await?;
        let json: Value = if text.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text.clone()))
        };
        if (200..300).contains(&status) {
            return Ok(json);
        }
        let message = json["error"]["message"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| text.trim().to_string());
        Err(format!("{method} {url}: HTTP {status}: {message}"))
    }
}

/// Percent-encodes a path segment.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One request; returns the status and the body as text.
pub async fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        if url.starts_with("https://") {
            format!("{url}: https is not supported by roomdeck's REST client yet; use http:// to a roomdeck server")
        } else {
            format!("{url}: the API URL must start with http://")
        }
    })?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let addr = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_string()
    } else {
        format!("{authority}:80")
    };
    let mut stream = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::net::TcpStream::connect(&addr),
    )
    .await
    .map_err(|_| format!("{url}: no connection within 10 s"))?
    .map_err(|e| format!("{url}: {e}"))?;
    let payload = body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nAccept: application/json\r\nUser-Agent: roomdeck\r\n"
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if body.is_some() {
        head.push_str("Content-Type: application/json\r\n");
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", payload.len()));
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    stream
        .write_all(payload.as_bytes())
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let mut raw = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        (&mut stream).take(MAX_BODY as u64).read_to_end(&mut raw),
    )
    .await
    .map_err(|_| format!("{url}: no answer within 60 s"))?;
    read.map_err(|e| format!("{url}: {e}"))?;
    parse_response(&raw).map_err(|e| format!("{url}: {e}"))
}

fn parse_response(raw: &[u8]) -> Result<(u16, String), String> {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer is not HTTP")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let body = &raw[split + 4..];
    let status = head
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or("the answer has no status line")?;
    let chunked = head.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        l.starts_with("transfer-encoding:") && l.contains("chunked")
    });
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok((status, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunked body")?;
        let size_text = String::from_utf8_lossy(&data[..line_end]).to_string();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| "bad chunk size")?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if data.len() < size {
            return Err("truncated chunked body".into());
        }
        out.extend_from_slice(&data[..size]);
        data = data.get(size + 2..).unwrap_or(&[]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_plain_and_chunked() {
        let (s, b) = parse_response(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}").unwrap();
        assert_eq!((s, b.as_str()), (200, "{}"));
        let (s, b) = parse_response(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
        )
        .unwrap();
        assert_eq!((s, b.as_str()), (404, "abcde"));
        assert!(parse_response(b"garbage").is_err());
    }

    #[test]
    fn encodes_segments() {
        assert_eq!(encode("a b/c"), "a%20b%2Fc");
        assert_eq!(encode("room-1.x_y"), "room-1.x_y");
    }
}
