// `links = spans` links the span to every valid span context of a slice.
use traced::opentelemetry::trace::SpanContext;
use traced::traced;

#[traced(links = spans)]
fn process(spans: &[SpanContext], size: usize) -> usize {
    spans.len() + size
}

fn main() {
    assert_eq!(process(&[SpanContext::empty_context()], 2), 3);
    assert_eq!(process(&[], 0), 0);
}
