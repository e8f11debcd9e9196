//! Shared by the playground's tests: start the real `corsair playground`
//! on free loopback ports, and speak plain HTTP/1.1 to it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running `corsair playground`, stopped when dropped.
pub struct Playground {
    child: Child,
    pub page_port: u16,
    pub api_port: u16,
}

fn port_of(line: &str) -> Option<u16> {
    let url = line.split_whitespace().find(|w| w.starts_with("http://"))?;
    url.trim_end_matches('/').rsplit(':').next()?.parse().ok()
}

impl Playground {
    /// Starts the binary with `--listen 127.0.0.1:0 --api-port 0` and reads
    /// the ports it prints.
    pub fn start() -> Playground {
        let mut child = Command::new(env!("CARGO_BIN_EXE_corsair"))
            .args(["playground", "--listen", "127.0.0.1:0", "--api-port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start corsair playground");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let (mut page_port, mut api_port) = (None, None);
        while page_port.is_none() || api_port.is_none() {
            let line = match lines.next() {
                Some(Ok(l)) => l,
                other => {
                    let _ = child.kill();
                    panic!("corsair playground stopped before printing its address: {other:?}");
                }
            };
            if line.trim_start().starts_with("page:") {
                page_port = port_of(&line);
            } else if line.trim_start().starts_with("demo API:") {
                api_port = port_of(&line);
            }
        }
        // Keep draining stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Playground {
            child,
            page_port: page_port.expect("page port"),
            api_port: api_port.expect("api port"),
        }
    }

    pub fn page_url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.page_port)
    }

    pub fn api_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.api_port)
    }
}

impl Drop for Playground {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers (lowercase names), body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.body))
    }
}

/// Sends one request (`Connection: close`) and reads the whole response.
pub fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut head = format!("{method} {path} HTTP/1.1\r\nConnection: close\r\n");
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        head.push_str(&format!("Host: 127.0.0.1:{port}\r\n"));
    }
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
    stream.write_all(head.as_bytes()).expect("write head");
    // The server may answer (413) before reading a large body.
    let _ = stream.write_all(body);
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

/// POSTs (or PUTs) JSON to the page server.
pub fn send_json(pg: &Playground, method: &str, path: &str, value: &serde_json::Value) -> Reply {
    http(
        pg.page_port,
        method,
        path,
        &[("Content-Type", "application/json")],
        value.to_string().as_bytes(),
    )
}
