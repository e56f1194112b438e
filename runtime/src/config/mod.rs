//! Configuration from the standard `OTEL_*` environment variables, `OTEL_CONFIG_FILE`, and
//! the Hypertrace `HT_*` variables: one constant per variable, with its default beside it,
//! and the parsing of each value. [`Settings`] is the resolved whole.
//!
//! | file | concern |
//! |------|---------|
//! | `settings.rs` | [`Settings`]: the sources in order of precedence |
//! | `source.rs` | reading through an injectable lookup, collecting warnings |
//! | `resource.rs` | `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES` |
//! | `key_values.rs` | the percent-decoded `key=value,...` lists |
//! | `exporter.rs` | `OTEL_TRACES_EXPORTER` |
//! | `sampler.rs` | `OTEL_TRACES_SAMPLER[_ARG]` |
//! | `batch.rs` | `OTEL_BSP_*` |
//! | `limits.rs` | attribute, event and link limits |
//! | `otlp.rs`, `otlp_env.rs` | `OtlpSettings` and `OTEL_EXPORTER_OTLP_[TRACES_]*` |
//! | `log_level.rs` | `OTEL_LOG_LEVEL` |
//! | `file.rs`, `file_values.rs`, `yaml.rs`, `substitution.rs` | `OTEL_CONFIG_FILE` |
//! | `hypertrace.rs`, `data_capture.rs` | `HT_*`, `HT_CONFIG_FILE`, `HT_DATA_CAPTURE_*` |

mod console;
mod detectors;
mod exporter;
mod otlp;

mod batch;
#[allow(dead_code, reason = "consumed by the HTTP and gRPC integrations")]
mod data_capture;
mod file;
mod file_values;
mod hypertrace;
pub(crate) mod installed_capture;
mod key_values;
mod limits;
mod log_level;
mod otlp_env;
mod resource;
mod sampler;
mod settings;
mod source;
mod substitution;
mod yaml;

#[cfg(test)]
mod tests;

pub(crate) use batch::{BatchSettings, MAX_CONCURRENT_EXPORTS_LIMIT};
pub use console::ConsoleFormat;
pub use exporter::ExporterKind;
pub use otlp::{OtlpCompression, OtlpProtocol, OtlpSettings};
pub(crate) use sampler::SamplerSetting;
#[cfg(any(feature = "testing", test))]
pub(crate) use sampler::default_sampler;
pub(crate) use settings::{ProcessorSettings, Settings};
