//! The collector's address, looked up again at most once a second.
//!
//! `ureq` looks the host up for every request, even one it then sends on a pooled
//! connection that never uses the answer, and under a timeout (the export's) it does so on a
//! thread of its own, started and joined for every batch. With a collector on the same
//! machine that was a third of the export thread's time a span at 1 M spans/s, and it is a
//! DNS query per batch where the collector has a name that no local cache answers.
//! [`ReusingResolver`] keeps the last answer for new connections made within a second of it:
//! a collector that moves is found again as soon as a connection to it has to be made after
//! that, as with a lookup per request.

use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long a lookup's addresses are used before the host is looked up again.
const REUSE_FOR: Duration = Duration::from_secs(1);

/// A resolver that answers from its last lookup of the same host for [`REUSE_FOR`].
#[derive(Debug)]
pub(super) struct ReusingResolver<R = DefaultResolver> {
    lookup: R,
    reuse_for: Duration,
    last: Mutex<Option<Answer>>,
}

/// A lookup's addresses, for the scheme, host and port looked up (never the credentials an
/// endpoint may carry).
#[derive(Debug)]
struct Answer {
    scheme: String,
    host: String,
    port: Option<u16>,
    addresses: ResolvedSocketAddrs,
    at: Instant,
}

impl Answer {
    fn is_for(&self, uri: &Uri) -> bool {
        Some(self.scheme.as_str()) == uri.scheme_str()
            && Some(self.host.as_str()) == uri.host()
            && self.port == uri.port_u16()
    }
}

impl ReusingResolver {
    /// Looks hosts up as `ureq` does by default.
    pub(super) fn new() -> Self {
        Self::reusing(DefaultResolver::default(), REUSE_FOR)
    }
}

impl<R> ReusingResolver<R> {
    fn reusing(lookup: R, reuse_for: Duration) -> Self {
        Self {
            lookup,
            reuse_for,
            last: Mutex::new(None),
        }
    }

    /// The last lookup's addresses, if it was of `uri`'s host and recent enough.
    fn reusable(&self, uri: &Uri) -> Option<ResolvedSocketAddrs> {
        let last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        let answer = last.as_ref()?;
        (answer.is_for(uri) && answer.at.elapsed() < self.reuse_for)
            .then(|| answer.addresses.clone())
    }
}

impl<R: Resolver> Resolver for ReusingResolver<R> {
    fn resolve(
        &self,
        uri: &Uri,
        config: &Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        if let Some(addresses) = self.reusable(uri) {
            return Ok(addresses);
        }
        // A failed lookup is not kept: the next request looks up again.
        let addresses = self.lookup.resolve(uri, config, timeout)?;
        let answer = Answer {
            scheme: uri.scheme_str().unwrap_or_default().to_owned(),
            host: uri.host().unwrap_or_default().to_owned(),
            port: uri.port_u16(),
            addresses: addresses.clone(),
            at: Instant::now(),
        };
        *self.last.lock().unwrap_or_else(PoisonError::into_inner) = Some(answer);
        Ok(addresses)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::thread;

    use ureq::Agent;
    use ureq::unversioned::transport::DefaultConnector;

    use super::*;

    /// Looks hosts up as `ureq` does, counting the lookups; the host `unreachable.test`
    /// (a name reserved for tests) fails at once, without asking DNS.
    #[derive(Debug, Default)]
    struct Counted {
        lookups: Arc<AtomicUsize>,
        inner: DefaultResolver,
    }

    impl Resolver for Counted {
        fn resolve(
            &self,
            uri: &Uri,
            config: &Config,
            timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.lookups.fetch_add(1, Ordering::SeqCst);
            if uri.host() == Some("unreachable.test") {
                return Err(ureq::Error::HostNotFound);
            }
            self.inner.resolve(uri, config, timeout)
        }
    }

    /// A server on a real socket answering every request `200` on the connection it came
    /// in on; its port.
    fn answering_server() -> u16 {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        thread::spawn(move || {
            for connection in listener.incoming() {
                let Ok(connection) = connection else { return };
                thread::spawn(move || answer_each_request(connection));
            }
        });
        port
    }

    fn answer_each_request(connection: std::net::TcpStream) {
        let mut writer = connection.try_clone().unwrap();
        let mut reader = BufReader::new(connection);
        loop {
            let mut body_length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim_end().to_ascii_lowercase();
                if line.is_empty() {
                    break;
                }
                if let Some(length) = line.strip_prefix("content-length:") {
                    body_length = length.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; body_length];
            reader.read_exact(&mut body).unwrap();
            writer
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
                .unwrap();
        }
    }

    /// Posts `requests` requests to a local server, each under a timeout as the exporter's
    /// are, through an agent whose resolver reuses a lookup for `reuse_for`; the lookups
    /// made (an address is looked up too: `ureq` parses it on a thread of its own).
    fn lookups_for(requests: usize, reuse_for: Duration) -> usize {
        let url = format!("http://127.0.0.1:{}/v1/traces", answering_server());
        let counted = Counted::default();
        let lookups = Arc::clone(&counted.lookups);
        let resolver = ReusingResolver::reusing(counted, reuse_for);
        let agent = Agent::with_parts(Config::default(), DefaultConnector::new(), resolver);
        for _ in 0..requests {
            let response = agent
                .post(&url)
                .config()
                .timeout_global(Some(Duration::from_secs(10)))
                .build()
                .send(&b"spans"[..])
                .unwrap();
            assert_eq!(response.status(), 200);
        }
        lookups.load(Ordering::SeqCst)
    }

    #[test]
    fn the_collector_is_looked_up_once_for_the_requests_of_a_second() {
        assert_eq!(lookups_for(5, REUSE_FOR), 1);
    }

    #[test]
    fn without_reuse_every_request_looks_the_collector_up() {
        // What `ureq` does by default, and what the reuse saves.
        assert_eq!(lookups_for(5, Duration::ZERO), 5);
    }

    #[test]
    fn another_host_is_looked_up_and_a_failed_lookup_is_not_kept() {
        let counted = Counted::default();
        let lookups = Arc::clone(&counted.lookups);
        let resolver = ReusingResolver::reusing(counted, REUSE_FOR);
        let config = Config::default();
        let resolve = |url: &str| {
            let uri: Uri = url.parse().unwrap();
            resolver.resolve(&uri, &config, NextTimeout::default())
        };
        assert_eq!(
            resolve("http://127.0.0.1:4318/v1/traces").unwrap()[0].port(),
            4318
        );
        assert_eq!(
            resolve("http://127.0.0.1:4319/v1/traces").unwrap()[0].port(),
            4319
        );
        assert_eq!(lookups.load(Ordering::SeqCst), 2, "another authority");
        assert!(resolve("http://unreachable.test:4318/").is_err());
        assert!(resolve("http://unreachable.test:4318/").is_err());
        assert_eq!(lookups.load(Ordering::SeqCst), 4, "each failure looked up");
        assert_eq!(resolve("http://127.0.0.1:4319/").unwrap()[0].port(), 4319);
        assert_eq!(
            lookups.load(Ordering::SeqCst),
            4,
            "the answer before the failures still used"
        );
    }
}
