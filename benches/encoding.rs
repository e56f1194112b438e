//! How fast finished `#[traced]` spans become OTLP request bodies: a batch of 512 real spans
//! (three argument attributes and the `code.*` attributes `#[traced]` adds) encoded as the
//! `http/protobuf` and `grpc` exporters do (`OtlpExporter::encode_protobuf`, protobuf written
//! straight from the spans), the same gzip-compressed (at the level the `http/protobuf`
//! exporter uses, 2, and at zlib's default, 6, which other SDKs use), as the `http/json`
//! exporter does (`OtlpExporter::encode_json`, JSON written straight from the spans), and the
//! way both did before and most exporters do: grouped into opentelemetry-proto's
//! `ExportTraceServiceRequest` message, then encoded by prost or serde_json. See `README.md`.
//!
//! The message-building steps are the runtime's private ones, repeated here with the same
//! crates (opentelemetry-proto's `group_spans_by_resource_and_scope`, prost, serde_json,
//! flate2's gzip).

use std::hint::black_box;
use std::io::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::transform::common::tonic::ResourceAttributesWithSchema;
use opentelemetry_proto::transform::trace::tonic::group_spans_by_resource_and_scope;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SimpleSpanProcessor, SpanData, SpanExporter};
use prost::Message as _;

/// The batch size the batch processor exports by default (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
const BATCH: usize = 512;

/// The gzip level of the `http/protobuf` exporter (`runtime/src/pipeline/otlp/encoding.rs`).
const EXPORTER_GZIP_LEVEL: u32 = 2;

/// zlib's default gzip level, which other SDKs use.
const DEFAULT_GZIP_LEVEL: u32 = 6;

#[traced::traced]
#[inline(never)]
fn work(id: u64, name: &str, flag: bool) -> u64 {
    black_box(id) ^ black_box(name.len() as u64) ^ u64::from(black_box(flag))
}

/// Keeps every span it is handed.
#[derive(Debug, Clone, Default)]
struct Keep(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Keep {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(batch);
        Ok(())
    }
}

/// [`BATCH`] spans of `work`, as the pipeline hands them to an exporter.
fn real_spans() -> Vec<SpanData> {
    let keep = Keep::default();
    let provider = SdkTracerProvider::builder()
        .with_span_processor(SimpleSpanProcessor::new(keep.clone()))
        .build();
    traced::set_tracer_provider(provider.clone());
    for id in 0..BATCH as u64 {
        black_box(work(id, "ada", id % 2 == 0));
    }
    traced::disable();
    if let Err(err) = provider.shutdown() {
        eprintln!("provider shutdown failed: {err}");
    }
    std::mem::take(&mut *keep.0.lock().unwrap_or_else(PoisonError::into_inner))
}

fn request(
    batch: Vec<SpanData>,
    resource: &ResourceAttributesWithSchema,
) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: group_spans_by_resource_and_scope(batch, resource),
    }
}

fn gzip(body: &[u8], level: u32) -> Vec<u8> {
    let level = flate2::Compression::new(level);
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 4), level);
    match encoder.write_all(body).and_then(|()| encoder.finish()) {
        Ok(compressed) => compressed,
        Err(err) => panic!("gzip into memory failed: {err}"),
    }
}

fn encoding(c: &mut Criterion) {
    let spans = real_spans();
    assert_eq!(spans.len(), BATCH, "the pipeline lost spans");
    let service = Resource::builder_empty().with_service_name("bench").build();
    let resource = ResourceAttributesWithSchema::from(&service);
    let mut exporter = match traced::OtlpExporter::new(&traced::OtlpSettings::default()) {
        Ok(exporter) => exporter,
        Err(err) => panic!("the default OTLP exporter cannot be built: {err}"),
    };
    exporter.set_resource(&service);
    let body = exporter.encode_protobuf(&spans);
    assert_eq!(
        body,
        request(spans.clone(), &resource).encode_to_vec(),
        "the exporter's protobuf differs from prost's"
    );
    let json = exporter.encode_json(&spans);
    let read_back: ExportTraceServiceRequest = match serde_json::from_slice(&json) {
        Ok(read_back) => read_back,
        Err(err) => panic!("the exporter's JSON does not read back: {err}"),
    };
    assert_eq!(
        read_back,
        request(spans.clone(), &resource),
        "the exporter's JSON reads back as another message than opentelemetry-proto's"
    );
    println!(
        "One batch of {BATCH} spans: {} bytes of protobuf ({} per span), {} gzipped at \
         level {EXPORTER_GZIP_LEVEL}, {} at level {DEFAULT_GZIP_LEVEL}; {} bytes of JSON ({} \
         per span), {} gzipped at level {EXPORTER_GZIP_LEVEL}",
        body.len(),
        body.len() / BATCH,
        gzip(&body, EXPORTER_GZIP_LEVEL).len(),
        gzip(&body, DEFAULT_GZIP_LEVEL).len(),
        json.len(),
        json.len() / BATCH,
        gzip(&json, EXPORTER_GZIP_LEVEL).len(),
    );

    let mut group = c.benchmark_group("otlp_encoding");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("protobuf", |b| b.iter(|| exporter.encode_protobuf(&spans)));
    group.bench_function("protobuf_gzip", |b| {
        b.iter(|| gzip(&exporter.encode_protobuf(&spans), EXPORTER_GZIP_LEVEL));
    });
    group.bench_function("protobuf_gzip_level_6", |b| {
        b.iter(|| gzip(&exporter.encode_protobuf(&spans), DEFAULT_GZIP_LEVEL));
    });
    // The batch is cloned outside the timing: building the message consumes it.
    group.bench_function("protobuf_via_messages", |b| {
        b.iter_batched(
            || spans.clone(),
            |batch| request(batch, &resource).encode_to_vec(),
            BatchSize::LargeInput,
        );
    });
    group.bench_function("json", |b| b.iter(|| exporter.encode_json(&spans)));
    group.bench_function("json_gzip", |b| {
        b.iter(|| gzip(&exporter.encode_json(&spans), EXPORTER_GZIP_LEVEL));
    });
    group.bench_function("json_via_messages", |b| {
        b.iter_batched(
            || spans.clone(),
            |batch| serde_json::to_vec(&request(batch, &resource)).map(|body| body.len()),
            BatchSize::LargeInput,
        );
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = encoding
}
criterion_main!(benches);
