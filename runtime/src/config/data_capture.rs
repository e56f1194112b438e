//! What the HTTP and gRPC integrations record of requests and responses (Hypertrace's
//! `HT_DATA_CAPTURE_*` and the `data_capture` section of `HT_CONFIG_FILE`).

/// `HT_DATA_CAPTURE_BODY_MAX_SIZE_BYTES`' default: 128 KiB.
pub(crate) const BODY_MAX_SIZE_BYTES_DEFAULT: usize = 131_072;

/// Whether to capture one thing on the request and on the response side.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Capture {
    /// Capture it on requests.
    pub(crate) request: bool,
    /// Capture it on responses.
    pub(crate) response: bool,
}

impl Capture {
    /// The same choice for both sides.
    pub(crate) const fn both(enabled: bool) -> Self {
        Self {
            request: enabled,
            response: enabled,
        }
    }
}

/// The data-capture choices for the HTTP and gRPC integrations.
///
/// The default captures nothing (OpenTelemetry's behaviour: headers and bodies can carry
/// personal data). When the Hypertrace configuration is in use (an `HT_*` variable or
/// `HT_CONFIG_FILE` is set), [`DataCapture::hypertrace`] is the starting point instead:
/// everything captured, as the Hypertrace agents do, each `HT_DATA_CAPTURE_*` turning one
/// part off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DataCapture {
    /// HTTP request/response headers.
    pub(crate) http_headers: Capture,
    /// HTTP request/response bodies.
    pub(crate) http_body: Capture,
    /// gRPC request/response metadata.
    pub(crate) rpc_metadata: Capture,
    /// gRPC request/response messages.
    pub(crate) rpc_body: Capture,
    /// The longest body recorded, in bytes; longer ones are truncated.
    pub(crate) body_max_size_bytes: usize,
}

impl Default for DataCapture {
    fn default() -> Self {
        Self::all(false)
    }
}

impl DataCapture {
    /// The Hypertrace agents' defaults: everything captured, bodies up to 128 KiB.
    pub(crate) const fn hypertrace() -> Self {
        Self::all(true)
    }

    const fn all(enabled: bool) -> Self {
        Self {
            http_headers: Capture::both(enabled),
            http_body: Capture::both(enabled),
            rpc_metadata: Capture::both(enabled),
            rpc_body: Capture::both(enabled),
            body_max_size_bytes: BODY_MAX_SIZE_BYTES_DEFAULT,
        }
    }
}
