//! [`TracedBody`]: an HTTP body passed through unchanged, frame by frame, that keeps a copy
//! of at most a fixed number of its first bytes for the span and tells the span when the
//! body is over.
//!
//! Nothing is buffered beyond the limit and nothing is delayed: each frame is handed on as
//! soon as the inner body yields it, so a streamed body stays streamed.

use std::fmt;
use std::io::IoSlice;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::{Context, KeyValue};
use pin_project_lite::pin_project;

use crate::span::may_record;

/// The most slices read from one data frame without consuming it (a `Bytes` frame has one;
/// a chained buffer has a few); the copy stops early on a frame with more.
const MAX_SLICES: usize = 16;

pin_project! {
    /// An HTTP body from [`TraceLayer`](super::TraceLayer): the request body its inner
    /// service receives, and the response body it returns. Frames, size hint and end of
    /// stream are those of the wrapped body; only a bounded copy of the data is kept aside
    /// when body capture is on, and the server span ends when the response body is over
    /// (its last frame read, or the body dropped).
    ///
    /// # Example
    ///
    /// A handler or service behind the layer sees it only as its body type:
    ///
    /// ```
    /// use http_body::Body as _;
    /// use traced::http::TracedBody;
    ///
    /// fn declared_length<B: http_body::Body>(request: &http::Request<TracedBody<B>>) -> Option<u64> {
    ///     request.body().size_hint().exact()
    /// }
    /// # let _ = declared_length::<String>;
    /// ```
    pub struct TracedBody<B> {
        #[pin]
        inner: B,
        tap: Option<Tap>,
    }

    impl<B> PinnedDrop for TracedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(tap) = this.project().tap.take() {
                tap.finish();
            }
        }
    }
}

impl<B> TracedBody<B> {
    /// `inner`, untouched and unobserved.
    pub(crate) fn plain(inner: B) -> Self {
        Self { inner, tap: None }
    }

    /// `inner`, with `tap` told what goes through it.
    pub(crate) fn tapped(inner: B, tap: Tap) -> Self {
        Self {
            inner,
            tap: Some(tap),
        }
    }
}

impl<B> fmt::Debug for TracedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedBody")
            .field("traced", &self.tap.is_some())
            .finish_non_exhaustive()
    }
}

impl<B: Body> Body for TracedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let polled = this.inner.as_mut().poll_frame(cx);
        let Some(tap) = this.tap.as_mut() else {
            return polled;
        };
        let over = match &polled {
            Poll::Pending => false,
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    tap.copy(data);
                }
                // Ending here, before the caller writes the last frame, makes the span over
                // by the time the peer has the whole body.
                this.inner.is_end_stream()
            }
            Poll::Ready(Some(Err(_)) | None) => true,
        };
        if over {
            if let Some(tap) = this.tap.take() {
                tap.finish();
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// What a [`TracedBody`] does for the span: copy data aside, and at the end record it and
/// (for a response) end the span.
pub(crate) struct Tap {
    cx: Context,
    copy: Option<BodyCopy>,
    end_span: bool,
}

impl Tap {
    /// A tap on the body of the span of `cx`: `copy` keeps the data for an attribute;
    /// `end_span` ends the span when the body is over.
    pub(crate) fn new(cx: Context, copy: Option<BodyCopy>, end_span: bool) -> Self {
        Self { cx, copy, end_span }
    }

    fn copy<D: Buf>(&mut self, data: &D) {
        if let Some(copy) = &mut self.copy {
            copy.extend(data);
        }
    }

    /// Records the copy (when there is one) and ends the span (when asked).
    fn finish(self) {
        let span = self.cx.span();
        if let Some(copy) = self.copy {
            if may_record(&span) && !copy.bytes.is_empty() {
                span.set_attribute(KeyValue::new(copy.key, copy.into_text()));
            }
        }
        if self.end_span {
            span.end();
        }
    }
}

/// The first bytes of a body, kept for the attribute `key`.
pub(crate) struct BodyCopy {
    key: &'static str,
    bytes: Vec<u8>,
    limit: usize,
    /// The body had more than was kept.
    truncated: bool,
}

impl BodyCopy {
    /// A copy of at most `limit` bytes, for the attribute `key`.
    pub(crate) fn new(key: &'static str, limit: usize) -> Self {
        Self {
            key,
            bytes: Vec::new(),
            limit,
            truncated: false,
        }
    }

    /// Copies what fits of `data` without consuming it.
    fn extend<D: Buf>(&mut self, data: &D) {
        let room = self.limit.saturating_sub(self.bytes.len());
        let wanted = room.min(data.remaining());
        if data.remaining() > room {
            self.truncated = true;
        }
        if wanted == 0 {
            return;
        }
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        let filled = data.chunks_vectored(&mut slices);
        let mut left = wanted;
        self.bytes.reserve(wanted);
        for slice in &slices[..filled] {
            let take = left.min(slice.len());
            self.bytes.extend_from_slice(&slice[..take]);
            left -= take;
            if left == 0 {
                return;
            }
        }
        // The frame had more slices than were read: stop here rather than leave a hole.
        self.truncated = true;
        self.limit = self.bytes.len();
    }

    /// The copy as text: a character cut by the limit is dropped whole, other invalid
    /// UTF-8 becomes U+FFFD.
    fn into_text(self) -> String {
        let bytes = if self.truncated {
            without_cut_character(&self.bytes)
        } else {
            &self.bytes
        };
        String::from_utf8_lossy(bytes).into_owned()
    }
}

/// `bytes` without a UTF-8 sequence that was cut off at its end.
fn without_cut_character(bytes: &[u8]) -> &[u8] {
    // A sequence is at most 4 bytes: its lead byte is among the last 4.
    for back in 1..=bytes.len().min(4) {
        let index = bytes.len() - back;
        let byte = bytes[index];
        if byte & 0b1100_0000 == 0b1000_0000 {
            continue; // a continuation byte: keep looking for the lead
        }
        let length = match byte {
            0x00..=0x7F => 1,
            0xC0..=0xDF => 2,
            0xE0..=0xEF => 3,
            0xF0..=0xF7 => 4,
            _ => 1, // not a lead byte: invalid, left to the lossy conversion
        };
        return if back < length {
            &bytes[..index]
        } else {
            bytes
        };
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(limit: usize, frames: &[&[u8]]) -> String {
        let mut copy = BodyCopy::new("k", limit);
        for frame in frames {
            copy.extend(&bytes::Bytes::copy_from_slice(frame));
        }
        copy.into_text()
    }

    #[test]
    fn copies_at_most_the_limit_across_frames() {
        assert_eq!(text(5, &[b"ab", b"cdef", b"gh"]), "abcde");
        assert_eq!(text(100, &[b"ab", b"cd"]), "abcd");
        assert_eq!(text(0, &[b"ab"]), "");
    }

    #[test]
    fn a_cut_character_is_dropped_whole() {
        // "é" is two bytes, "€" three, "𝄞" four.
        assert_eq!(text(2, &["aé".as_bytes()]), "a");
        assert_eq!(text(3, &["aé".as_bytes()]), "aé");
        assert_eq!(text(3, &["a€".as_bytes()]), "a");
        assert_eq!(text(4, &["a€b".as_bytes()]), "a€");
        assert_eq!(text(4, &["a𝄞".as_bytes()]), "a");
        assert_eq!(text(5, &["a𝄞".as_bytes()]), "a𝄞");
        // Not cut by the limit: invalid bytes are replaced, not dropped.
        assert_eq!(text(10, &[b"a\xC3"]), "a\u{FFFD}");
    }

    #[test]
    fn chained_buffers_are_read_without_consuming() {
        let mut copy = BodyCopy::new("k", 5);
        let chain = bytes::Bytes::from_static(b"abc").chain(bytes::Bytes::from_static(b"def"));
        copy.extend(&chain);
        assert_eq!(chain.remaining(), 6);
        assert_eq!(copy.into_text(), "abcde");
    }
}
