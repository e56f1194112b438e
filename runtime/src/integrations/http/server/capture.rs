//! Body capture (and Hypertrace's capture of all headers): what the code asked for, the
//! installed data capture for what it left open, and the plan of one request.

use http::HeaderMap;
use http::header::CONTENT_TYPE;

use super::super::body::BodyCopy;
use super::super::media_types::MediaTypes;
use crate::config::installed_capture::{self, BODY_MAX_SIZE_BYTES_DEFAULT};

/// The attribute of a captured request body (Hypertrace's name).
pub(crate) const HTTP_REQUEST_BODY: &str = "http.request.body";
/// The attribute of a captured response body (Hypertrace's name).
pub(crate) const HTTP_RESPONSE_BODY: &str = "http.response.body";

/// The capture choices of a layer; `None` leaves one to the installed data capture (when
/// the layer follows it) or to the default (off, 128 KiB).
#[derive(Clone, Debug, Default)]
pub(crate) struct CaptureOptions {
    pub(crate) request_body: Option<bool>,
    pub(crate) response_body: Option<bool>,
    pub(crate) body_max_size_bytes: Option<usize>,
    pub(crate) content_types: MediaTypes,
    /// Whether the installed data capture (`HT_DATA_CAPTURE_*` through `traced::init()`)
    /// decides what the code left open: layers from `TraceLayer::from_env()`.
    pub(crate) follow_installed: bool,
}

/// What one request captures, decided when it arrives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) request_body: bool,
    pub(crate) response_body: bool,
    pub(crate) body_max_size_bytes: usize,
    /// Hypertrace's header capture: every request header (sanitised).
    pub(crate) all_request_headers: bool,
    /// Hypertrace's header capture: every response header (sanitised).
    pub(crate) all_response_headers: bool,
}

impl CaptureOptions {
    /// The plan for a request arriving now: read at request time, so a layer built before
    /// `traced::init()` follows what `init()` installed.
    pub(crate) fn plan(&self) -> Plan {
        let installed = self.follow_installed.then(installed_capture::get);
        let or_installed =
            |code: Option<bool>, pick: fn(&installed_capture::DataCapture) -> bool| {
                code.or(installed.as_ref().map(pick)).unwrap_or(false)
            };
        Plan {
            request_body: or_installed(self.request_body, |c| c.http_body.request),
            response_body: or_installed(self.response_body, |c| c.http_body.response),
            body_max_size_bytes: self
                .body_max_size_bytes
                .or(installed.map(|c| c.body_max_size_bytes))
                .unwrap_or(BODY_MAX_SIZE_BYTES_DEFAULT),
            all_request_headers: installed.is_some_and(|c| c.http_headers.request),
            all_response_headers: installed.is_some_and(|c| c.http_headers.response),
        }
    }

    /// A copy for the body of a message with `headers`, when `wanted` and its content type
    /// is allowed.
    pub(crate) fn copy(
        &self,
        wanted: bool,
        plan: &Plan,
        headers: &HeaderMap,
        key: &'static str,
    ) -> Option<BodyCopy> {
        if !wanted || plan.body_max_size_bytes == 0 {
            return None;
        }
        let content_type = headers.get(CONTENT_TYPE)?.to_str().ok()?;
        self.content_types
            .matches(content_type)
            .then(|| BodyCopy::new(key, plan.body_max_size_bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_by_default_and_code_decides() {
        let options = CaptureOptions::default();
        assert_eq!(
            options.plan(),
            Plan {
                body_max_size_bytes: BODY_MAX_SIZE_BYTES_DEFAULT,
                ..Plan::default()
            }
        );
        let options = CaptureOptions {
            request_body: Some(true),
            body_max_size_bytes: Some(10),
            ..CaptureOptions::default()
        };
        let plan = options.plan();
        assert!(plan.request_body && !plan.response_body);
        assert_eq!(plan.body_max_size_bytes, 10);
    }

    #[test]
    fn only_allowed_content_types_are_copied() {
        let options = CaptureOptions::default();
        let plan = Plan {
            request_body: true,
            body_max_size_bytes: 8,
            ..Plan::default()
        };
        let mut headers = HeaderMap::new();
        assert!(options.copy(true, &plan, &headers, "k").is_none());
        headers.insert(
            CONTENT_TYPE,
            http::HeaderValue::from_static("application/json; charset=utf-8"),
        );
        assert!(options.copy(true, &plan, &headers, "k").is_some());
        assert!(options.copy(false, &plan, &headers, "k").is_none());
        headers.insert(CONTENT_TYPE, http::HeaderValue::from_static("image/png"));
        assert!(options.copy(true, &plan, &headers, "k").is_none());
    }
}
