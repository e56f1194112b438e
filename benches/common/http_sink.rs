//! A local OTLP/HTTP endpoint that reads every request and answers `200 OK` with an empty
//! body (full success), so a benchmark can run the real OTLP exporter, its encoding and its
//! HTTP client included, without a collector's own cost in the figures. It can answer each
//! request after a delay, like a collector a network round trip away.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The endpoint's address and what it has received.
#[derive(Debug)]
pub struct HttpSink {
    pub endpoint: String,
    requests: Arc<AtomicU64>,
    bytes: Arc<AtomicU64>,
}

impl HttpSink {
    /// Listens on a free local port, answering each connection on its own thread.
    pub fn start() -> io::Result<Self> {
        Self::start_with_delay(Duration::ZERO)
    }

    /// The same, answering each request `delay` after it has arrived in full.
    pub fn start_with_delay(delay: Duration) -> io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let endpoint = format!("http://{}/v1/traces", listener.local_addr()?);
        let requests = Arc::new(AtomicU64::new(0));
        let bytes = Arc::new(AtomicU64::new(0));
        let counts = (Arc::clone(&requests), Arc::clone(&bytes));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (requests, bytes) = (Arc::clone(&counts.0), Arc::clone(&counts.1));
                std::thread::spawn(move || {
                    // A connection ends when the client closes it (or sends garbage).
                    let _ = serve(stream, delay, &requests, &bytes);
                });
            }
        });
        Ok(Self {
            endpoint,
            requests,
            bytes,
        })
    }

    /// Requests received so far, and their body bytes.
    pub fn received(&self) -> (u64, u64) {
        (
            self.requests.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// Reads requests (HTTP/1.1, bodies sized by `content-length`) until the connection closes.
fn serve(
    stream: TcpStream,
    delay: Duration,
    requests: &AtomicU64,
    bytes: &AtomicU64,
) -> io::Result<()> {
    let mut writer = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    let mut body = Vec::new();
    loop {
        let mut length = 0usize;
        loop {
            line.clear();
            if reader.read_line(&mut line)? == 0 {
                return Ok(());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().map_err(io::Error::other)?;
                }
            }
        }
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
        requests.fetch_add(1, Ordering::Relaxed);
        bytes.fetch_add(length as u64, Ordering::Relaxed);
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        writer.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")?;
    }
}
