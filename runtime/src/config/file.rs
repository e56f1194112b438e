//! `OTEL_CONFIG_FILE`: the OpenTelemetry declarative configuration (YAML, `file_format`
//! `0.x` and `1.x`), with `${VAR}` substitution. When the file is set and readable, the
//! other `OTEL_*` variables are not read, as the specification says.
//!
//! Read: `file_format`, `disabled`, `log_level`, `resource.attributes` (a list of
//! `name`/`value`/`type`) and `resource.attributes_list`, `attribute_limits`,
//! `propagator.composite` and `composite_list`, and `tracer_provider`: `processors`
//! (`batch` or `simple`, with an `otlp_http`, `otlp_grpc`, `otlp` (0.x) or `console`
//! exporter), `limits` and `sampler`. Everything else is ignored.

use std::path::PathBuf;
use std::time::Duration;

use opentelemetry::{Array, KeyValue, StringValue, Value as AttributeValue};
use opentelemetry_sdk::trace::{ParentBasedSampler, Sampler};
use serde_json::Value;

use super::batch::{
    BatchSettings, OTEL_BSP_EXPORT_TIMEOUT_DEFAULT, OTEL_BSP_MAX_CONCURRENT_EXPORTS_DEFAULT,
    OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT, OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
    OTEL_BSP_SCHEDULE_DELAY_DEFAULT, clamp_batch_size,
};
use super::data_capture::DataCapture;
use super::exporter::ExporterKind;
use super::file_values::{FileValues, kind, load_file};
use super::limits::{COUNT_LIMIT_DEFAULT, LimitValues, Limits};
use super::log_level::{OTEL_LOG_LEVEL_DEFAULT, parse_log_level};
use super::otlp::{OtlpCompression, OtlpProtocol, OtlpSettings};
use super::otlp_env::{
    OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT, add_missing_headers, check_header, client_pair,
    default_endpoint, expected_endpoint, parse_compression, parse_endpoint, parse_headers,
    parse_protocol,
};
use super::resource::{merge_attributes, parse_resource_attributes, with_service_name};
use super::sampler::{SamplerSetting, default_sampler};
use super::settings::{ProcessorSettings, Settings, propagator_names};
use super::source::{Describe, Reader, split_list};

/// `OTEL_CONFIG_FILE`: the path of a declarative configuration file.
pub(crate) const OTEL_CONFIG_FILE: &str = "OTEL_CONFIG_FILE";

/// The value at `key` of a mapping.
fn at<'v>(value: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    value?.as_object()?.get(key)
}

/// Reads the file at `path` into settings; `None` (with a warning) when the file cannot be
/// read or parsed, so that the environment variables are used instead.
pub(crate) fn settings_from_file(
    reader: &mut Reader<'_>,
    path: &str,
    data_capture: DataCapture,
) -> Option<Settings> {
    let root = load_file(
        reader,
        OTEL_CONFIG_FILE,
        path,
        true,
        "using the OTEL_* environment variables instead",
    )?;
    let root = Some(&root);
    let mut file = FileValues::new(reader, OTEL_CONFIG_FILE, path);
    check_format(&mut file, at(root, "file_format"));

    let disabled = file
        .bool(at(root, "disabled"), "disabled", "false")
        .unwrap_or(false);
    let log_level = file
        .string(at(root, "log_level"), "log_level", "info")
        .and_then(|name| {
            let level = parse_log_level(&name);
            if level.is_none() {
                file.warn(
                    "log_level",
                    &format!("{name:?} is not one of error, warn, info, debug, none; using info"),
                );
            }
            level
        })
        .unwrap_or(OTEL_LOG_LEVEL_DEFAULT);

    let resource = resource(&mut file, at(root, "resource"));
    let propagators = propagators(&mut file, at(root, "propagator"));
    let tracer_provider = at(root, "tracer_provider");
    let limits = limits(
        &mut file,
        at(root, "attribute_limits"),
        at(tracer_provider, "limits"),
    );
    let sampler = match at(tracer_provider, "sampler") {
        None | Some(Value::Null) => default_sampler(),
        Some(value) => sampler(
            &mut file,
            value,
            "tracer_provider.sampler",
            SamplerDefault::ParentBasedAlwaysOn,
        ),
    };
    let (processors, otlp) = processors(&mut file, at(tracer_provider, "processors"));
    let batch = processors
        .iter()
        .find_map(|processor| processor.batch)
        .unwrap_or_default();

    Some(Settings {
        disabled,
        resource,
        processors,
        otlp: otlp.unwrap_or_default(),
        batch,
        propagators,
        sampler,
        limits,
        log_level,
        data_capture,
        console_format: super::console::ConsoleFormat::default(),
    })
}

fn check_format(file: &mut FileValues<'_, '_>, value: Option<&Value>) {
    if value.is_none_or(Value::is_null) {
        file.warn("file_format", "is missing; reading the file as 1.0");
        return;
    }
    let Some(format) = file.string(value, "file_format", "1.0") else {
        return;
    };
    let major = format.split(['.', '-']).next().unwrap_or_default();
    if major != "0" && major != "1" {
        file.warn(
            "file_format",
            &format!("{format:?} is not a supported version (0.x, 1.x); reading the file as 1.0"),
        );
    }
}

fn resource(file: &mut FileValues<'_, '_>, resource: Option<&Value>) -> Vec<KeyValue> {
    let mut listed = Vec::new();
    if let Some(text) = file.string(
        at(resource, "attributes_list"),
        "resource.attributes_list",
        "no attributes",
    ) {
        match parse_resource_attributes(&text) {
            Ok(attributes) => listed = attributes,
            Err(error) => file.warn(
                "resource.attributes_list",
                &format!(
                    "{text:?} is not a list of key=value pairs ({}); it is ignored",
                    error.describe()
                ),
            ),
        }
    }
    let mut attributes = Vec::new();
    match at(resource, "attributes") {
        // A mapping of name to value, as some early examples write it.
        Some(Value::Object(map)) => {
            for (name, value) in map {
                let at_path = format!("resource.attributes.{name}");
                if let Some(value) = attribute_value(file, value, None, &at_path) {
                    attributes.push(KeyValue::new(name.clone(), value));
                }
            }
        }
        other => {
            for (index, entry) in file.list(other, "resource.attributes").iter().enumerate() {
                let at_path = format!("resource.attributes[{index}]");
                let name = file.string(at(Some(entry), "name"), &at_path, "nothing");
                let Some(name) = name.filter(|name| !name.is_empty()) else {
                    file.warn(&at_path, "has no name; it is skipped");
                    continue;
                };
                let value_type = file.string(
                    at(Some(entry), "type"),
                    &format!("{at_path}.type"),
                    "string",
                );
                let Some(value) = at(Some(entry), "value").filter(|value| !value.is_null()) else {
                    file.warn(&at_path, "has no value; it is skipped");
                    continue;
                };
                if let Some(value) = attribute_value(file, value, value_type.as_deref(), &at_path) {
                    attributes.push(KeyValue::new(name, value));
                }
            }
        }
    }
    with_service_name(merge_attributes(listed, attributes), None)
}

/// A typed attribute value; `value_type` `None` infers it from the YAML value.
fn attribute_value(
    file: &mut FileValues<'_, '_>,
    value: &Value,
    value_type: Option<&str>,
    at_path: &str,
) -> Option<AttributeValue> {
    let converted = match value_type.unwrap_or_else(|| inferred_type(value)) {
        "string" => scalar_text(value).map(AttributeValue::from),
        "bool" => value.as_bool().map(AttributeValue::Bool),
        "int" => value.as_i64().map(AttributeValue::I64),
        "double" => value.as_f64().map(AttributeValue::F64),
        "string_array" => array(value, scalar_text).map(|items| {
            AttributeValue::Array(Array::String(
                items.into_iter().map(StringValue::from).collect(),
            ))
        }),
        "bool_array" => {
            array(value, Value::as_bool).map(|items| AttributeValue::Array(Array::Bool(items)))
        }
        "int_array" => {
            array(value, Value::as_i64).map(|items| AttributeValue::Array(Array::I64(items)))
        }
        "double_array" => {
            array(value, Value::as_f64).map(|items| AttributeValue::Array(Array::F64(items)))
        }
        unknown => {
            file.warn(
                &format!("{at_path}.type"),
                &format!(
                    "{unknown:?} is not one of string, bool, int, double, string_array, \
                     bool_array, int_array, double_array; the attribute is skipped"
                ),
            );
            return None;
        }
    };
    if converted.is_none() {
        file.warn(
            &format!("{at_path}.value"),
            &format!(
                "{} does not match the type {}; the attribute is skipped",
                kind(value),
                value_type.unwrap_or("string")
            ),
        );
    }
    converted
}

fn inferred_type(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "bool",
        Value::Number(number) if number.is_i64() => "int",
        Value::Number(_) => "double",
        Value::Array(items) => match items.first() {
            Some(Value::Bool(_)) => "bool_array",
            Some(Value::Number(number)) if number.is_i64() => "int_array",
            Some(Value::Number(_)) => "double_array",
            _ => "string_array",
        },
        _ => "string",
    }
}

fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

fn array<T>(value: &Value, item: impl Fn(&Value) -> Option<T>) -> Option<Vec<T>> {
    value.as_array()?.iter().map(item).collect()
}

fn propagators(file: &mut FileValues<'_, '_>, propagator: Option<&Value>) -> Vec<String> {
    let mut names = Vec::new();
    for (index, entry) in file
        .list(at(propagator, "composite"), "propagator.composite")
        .iter()
        .enumerate()
    {
        match entry {
            Value::String(name) => names.push(name.clone()),
            Value::Object(map) if map.len() == 1 => names.extend(map.keys().cloned()),
            other => file.warn(
                &format!("propagator.composite[{index}]"),
                &format!("{} is not a propagator name; it is skipped", kind(other)),
            ),
        }
    }
    if let Some(list) = file.string(
        at(propagator, "composite_list"),
        "propagator.composite_list",
        "no propagator",
    ) {
        names.extend(split_list(&list).map(str::to_owned));
    }
    propagator_names(names.iter().map(String::as_str))
}

fn limits(file: &mut FileValues<'_, '_>, general: Option<&Value>, span: Option<&Value>) -> Limits {
    let default_count = COUNT_LIMIT_DEFAULT.describe();
    let count =
        |file: &mut FileValues<'_, '_>, section: Option<&Value>, prefix: &str, key: &str| {
            file.count::<u32>(
                at(section, key),
                &format!("{prefix}.{key}"),
                false,
                &default_count,
            )
        };
    let attribute_count = count(file, general, "attribute_limits", "attribute_count_limit");
    let span_attribute_count = count(
        file,
        span,
        "tracer_provider.limits",
        "attribute_count_limit",
    );
    let span_event_count = count(file, span, "tracer_provider.limits", "event_count_limit");
    let span_link_count = count(file, span, "tracer_provider.limits", "link_count_limit");
    let event_attribute_count = count(
        file,
        span,
        "tracer_provider.limits",
        "event_attribute_count_limit",
    );
    let link_attribute_count = count(
        file,
        span,
        "tracer_provider.limits",
        "link_attribute_count_limit",
    );
    Limits::resolve(LimitValues {
        attribute_value_length: file.count(
            at(general, "attribute_value_length_limit"),
            "attribute_limits.attribute_value_length_limit",
            false,
            "no limit",
        ),
        attribute_count,
        span_attribute_value_length: file.count(
            at(span, "attribute_value_length_limit"),
            "tracer_provider.limits.attribute_value_length_limit",
            false,
            "the general limit",
        ),
        span_attribute_count,
        span_event_count,
        span_link_count,
        event_attribute_count,
        link_attribute_count,
    })
}

/// What a sampler falls back to where it is invalid.
#[derive(Clone, Copy)]
enum SamplerDefault {
    AlwaysOn,
    AlwaysOff,
    ParentBasedAlwaysOn,
}

impl SamplerDefault {
    fn sampler(self) -> SamplerSetting {
        match self {
            Self::AlwaysOn => SamplerSetting::sdk(Sampler::AlwaysOn),
            Self::AlwaysOff => SamplerSetting::sdk(Sampler::AlwaysOff),
            Self::ParentBasedAlwaysOn => default_sampler(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::AlwaysOn => "always_on",
            Self::AlwaysOff => "always_off",
            Self::ParentBasedAlwaysOn => "parent_based with an always_on root",
        }
    }
}

fn sampler(
    file: &mut FileValues<'_, '_>,
    value: &Value,
    at_path: &str,
    default: SamplerDefault,
) -> SamplerSetting {
    let single = value
        .as_object()
        .filter(|map| map.len() == 1)
        .and_then(|map| map.iter().next());
    let Some((name, config)) = single else {
        file.warn(
            at_path,
            &format!(
                "{} is not a mapping with one sampler; using {}",
                kind(value),
                default.name()
            ),
        );
        return default.sampler();
    };
    let config = Some(config);
    let nested = |key: &str| format!("{at_path}.{name}.{key}");
    match name.as_str() {
        "always_on" => SamplerSetting::sdk(Sampler::AlwaysOn),
        "always_off" => SamplerSetting::sdk(Sampler::AlwaysOff),
        "trace_id_ratio_based" => {
            let ratio = file
                .ratio(at(config, "ratio"), &nested("ratio"), "1.0")
                .unwrap_or(1.0);
            SamplerSetting::sdk(Sampler::TraceIdRatioBased(ratio))
        }
        "parent_based" => {
            let branch =
                |file: &mut FileValues<'_, '_>, key: &str, default: SamplerDefault| match at(
                    config, key,
                ) {
                    None | Some(Value::Null) => None,
                    Some(value) => Some(sampler(file, value, &nested(key), default)),
                };
            let root = branch(file, "root", SamplerDefault::AlwaysOn)
                .unwrap_or_else(|| SamplerSetting::sdk(Sampler::AlwaysOn));
            let mut other_branch = |key: &str, default: SamplerDefault| {
                branch(file, key, default).map(|setting| setting.sampler)
            };
            let remote_sampled = other_branch("remote_parent_sampled", SamplerDefault::AlwaysOn);
            let remote_not_sampled =
                other_branch("remote_parent_not_sampled", SamplerDefault::AlwaysOff);
            let local_sampled = other_branch("local_parent_sampled", SamplerDefault::AlwaysOn);
            let local_not_sampled =
                other_branch("local_parent_not_sampled", SamplerDefault::AlwaysOff);
            if remote_sampled.is_none()
                && remote_not_sampled.is_none()
                && local_sampled.is_none()
                && local_not_sampled.is_none()
            {
                return SamplerSetting::parent_based(root);
            }
            let mut parent_based = ParentBasedSampler::new(root.sampler);
            if let Some(sampler) = remote_sampled {
                parent_based = parent_based.with_remote_parent_sampled(sampler);
            }
            if let Some(sampler) = remote_not_sampled {
                parent_based = parent_based.with_remote_parent_not_sampled(sampler);
            }
            if let Some(sampler) = local_sampled {
                parent_based = parent_based.with_local_parent_sampled(sampler);
            }
            if let Some(sampler) = local_not_sampled {
                parent_based = parent_based.with_local_parent_not_sampled(sampler);
            }
            SamplerSetting::any(parent_based)
        }
        other => {
            file.warn(
                at_path,
                &format!(
                    "the sampler {other:?} is not available in traced (known: always_on, \
                     always_off, trace_id_ratio_based, parent_based); using {}",
                    default.name()
                ),
            );
            default.sampler()
        }
    }
}

fn processors(
    file: &mut FileValues<'_, '_>,
    value: Option<&Value>,
) -> (Vec<ProcessorSettings>, Option<OtlpSettings>) {
    let mut processors = Vec::new();
    let mut otlp: Option<OtlpSettings> = None;
    for (index, entry) in file
        .list(value, "tracer_provider.processors")
        .iter()
        .enumerate()
    {
        let at_path = format!("tracer_provider.processors[{index}]");
        let single = entry
            .as_object()
            .filter(|map| map.len() == 1)
            .and_then(|map| map.iter().next());
        let (batch, config) = match single {
            Some((name, config)) if name == "batch" => (
                Some(batch(file, config, &format!("{at_path}.batch"))),
                config,
            ),
            Some((name, config)) if name == "simple" => (None, config),
            _ => {
                file.warn(
                    &at_path,
                    "is not a mapping with one `batch` or `simple` processor; it is skipped",
                );
                continue;
            }
        };
        let kind_path = format!(
            "{at_path}.{}.exporter",
            if batch.is_some() { "batch" } else { "simple" }
        );
        let exporter = at(Some(config), "exporter")
            .and_then(Value::as_object)
            .filter(|map| map.len() == 1)
            .and_then(|map| map.iter().next());
        let Some((name, exporter_config)) = exporter else {
            file.warn(
                &kind_path,
                "is not a mapping with one exporter; the processor is skipped",
            );
            continue;
        };
        let exporter_path = format!("{kind_path}.{name}");
        let kind = match name.as_str() {
            "console" => ExporterKind::Console,
            "otlp_http" | "otlp_grpc" | "otlp" => {
                if otlp.is_some() {
                    file.warn(
                        &exporter_path,
                        "traced has one OTLP exporter: only the first in the file is used; \
                         this processor is skipped",
                    );
                    continue;
                }
                otlp = Some(otlp_exporter(file, name, exporter_config, &exporter_path));
                ExporterKind::Otlp
            }
            other => {
                file.warn(
                    &kind_path,
                    &format!(
                        "the exporter {other:?} is not available in traced (known: otlp_http, \
                         otlp_grpc, console); the processor is skipped"
                    ),
                );
                continue;
            }
        };
        processors.push(ProcessorSettings {
            exporter: kind,
            batch,
        });
    }
    (processors, otlp)
}

fn batch(file: &mut FileValues<'_, '_>, config: &Value, at_path: &str) -> BatchSettings {
    let config = Some(config);
    let millis = |file: &mut FileValues<'_, '_>, key: &str, default: Duration| {
        file.count::<u64>(
            at(config, key),
            &format!("{at_path}.{key}"),
            false,
            &default.describe(),
        )
        .map_or(default, Duration::from_millis)
    };
    let schedule_delay = millis(file, "schedule_delay", OTEL_BSP_SCHEDULE_DELAY_DEFAULT);
    let export_timeout = millis(file, "export_timeout", OTEL_BSP_EXPORT_TIMEOUT_DEFAULT);
    let max_queue_size = file
        .count(
            at(config, "max_queue_size"),
            &format!("{at_path}.max_queue_size"),
            true,
            &OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT.describe(),
        )
        .unwrap_or(OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT);
    let batch_size = file
        .count(
            at(config, "max_export_batch_size"),
            &format!("{at_path}.max_export_batch_size"),
            true,
            &OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT.describe(),
        )
        .unwrap_or(OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT);
    let max_export_batch_size = clamp_batch_size(max_queue_size, batch_size, |message| {
        file.warn(&format!("{at_path}.max_export_batch_size"), &message);
    });
    BatchSettings {
        schedule_delay,
        export_timeout,
        max_queue_size,
        max_export_batch_size,
        // The configuration schema has no such setting: one export at a time.
        max_concurrent_exports: OTEL_BSP_MAX_CONCURRENT_EXPORTS_DEFAULT,
    }
}

fn otlp_exporter(
    file: &mut FileValues<'_, '_>,
    name: &str,
    config: &Value,
    at_path: &str,
) -> OtlpSettings {
    let config = Some(config);
    let path = |key: &str| format!("{at_path}.{key}");
    let protocol = match name {
        "otlp_grpc" => OtlpProtocol::Grpc,
        "otlp_http" => match file.string(at(config, "encoding"), &path("encoding"), "protobuf") {
            Some(encoding) if encoding.eq_ignore_ascii_case("json") => OtlpProtocol::HttpJson,
            Some(encoding) if !encoding.eq_ignore_ascii_case("protobuf") => {
                file.warn(
                    &path("encoding"),
                    &format!("{encoding:?} is not one of protobuf, json; using protobuf"),
                );
                OtlpProtocol::HttpProtobuf
            }
            _ => OtlpProtocol::HttpProtobuf,
        },
        _ => file
            .string(at(config, "protocol"), &path("protocol"), "http/protobuf")
            .and_then(|protocol| {
                let parsed = parse_protocol(&protocol);
                if parsed.is_none() {
                    file.warn(
                        &path("protocol"),
                        &format!(
                            "{protocol:?} is not one of grpc, http/protobuf, http/json; \
                             using http/protobuf"
                        ),
                    );
                }
                parsed
            })
            .unwrap_or(OtlpProtocol::HttpProtobuf),
    };

    // TLS settings: under `tls` (1.0), or on the exporter itself (0.x).
    let tls = at(config, "tls").or(config);
    let tls_path = |key: &str| {
        if at(config, "tls").is_some() {
            path(&format!("tls.{key}"))
        } else {
            path(key)
        }
    };
    let insecure = file
        .bool(at(tls, "insecure"), &tls_path("insecure"), "false")
        .unwrap_or(false);
    let default = default_endpoint(protocol);
    let endpoint = file
        .string(at(config, "endpoint"), &path("endpoint"), &default)
        .and_then(|endpoint| {
            let parsed = parse_endpoint(&endpoint, protocol, insecure);
            if parsed.is_none() {
                file.warn(
                    &path("endpoint"),
                    &format!(
                        "{endpoint:?} is not {}; using {default}",
                        expected_endpoint(protocol)
                    ),
                );
            }
            parsed
        })
        .unwrap_or_else(|| default.clone());

    let tls_file = |file: &mut FileValues<'_, '_>, keys: [&str; 3], instead: &str| {
        let (key, value) = keys
            .into_iter()
            .find_map(|key| at(tls, key).map(|value| (key, value)))?;
        let text = file.string(Some(value), &tls_path(key), instead)?;
        let candidate = PathBuf::from(&text);
        if candidate.is_file() {
            Some((candidate, tls_path(key)))
        } else {
            file.warn(
                &tls_path(key),
                &format!("{text:?} is not a readable file; using {instead}"),
            );
            None
        }
    };
    let certificate = tls_file(
        file,
        ["certificate_file", "ca_file", "certificate"],
        "the system's trusted roots",
    )
    .map(|(path, _)| path);
    let client_key = tls_file(
        file,
        ["client_key_file", "key_file", "client_key"],
        "no client authentication",
    );
    let client_certificate = tls_file(
        file,
        ["client_certificate_file", "cert_file", "client_certificate"],
        "no client authentication",
    );
    let (client_key, client_certificate) =
        client_pair(client_key, client_certificate, |at_key, missing| {
            file.warn(
                at_key,
                &format!("is set without {missing}; using no client authentication"),
            );
        });

    let mut headers = Vec::new();
    for (index, entry) in file
        .list(at(config, "headers"), &path("headers"))
        .iter()
        .enumerate()
    {
        let entry_path = format!("{}[{index}]", path("headers"));
        let name = at(Some(entry), "name").and_then(Value::as_str);
        let value = at(Some(entry), "value").and_then(scalar_text);
        match (name, value) {
            (Some(name), Some(value)) => match check_header(index + 1, name.to_owned(), value) {
                Ok(header) => headers.push(header),
                Err(_) => file.warn(
                    &entry_path,
                    "is not a valid header (name or value); it is skipped \
                         (the value is not shown)",
                ),
            },
            (Some(_), None) if at(Some(entry), "value").is_none_or(Value::is_null) => {}
            _ => file.warn(
                &entry_path,
                "needs a string `name` and a scalar `value`; it is skipped",
            ),
        }
    }
    if let Some(list) = file.string(
        at(config, "headers_list"),
        &path("headers_list"),
        "no headers",
    ) {
        let (listed, problems) = parse_headers(&list);
        if !problems.is_empty() {
            file.warn(
                &path("headers_list"),
                &format!(
                    "{}; those entries are skipped (values are not shown)",
                    problems.join(", ")
                ),
            );
        }
        add_missing_headers(&mut headers, listed);
    }

    let compression = file
        .string(at(config, "compression"), &path("compression"), "none")
        .and_then(|compression| {
            let parsed = parse_compression(&compression);
            if parsed.is_none() {
                file.warn(
                    &path("compression"),
                    &format!("{compression:?} is not one of gzip, none; using none"),
                );
            }
            parsed
        })
        .unwrap_or(OtlpCompression::None);
    let timeout = file
        .count::<u64>(
            at(config, "timeout"),
            &path("timeout"),
            false,
            &OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT.describe(),
        )
        .map_or(OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT, Duration::from_millis);

    OtlpSettings {
        endpoint,
        protocol,
        headers,
        timeout,
        compression,
        certificate,
        client_key,
        client_certificate,
        insecure,
    }
}
