//! The foo → bar → baz nesting of the OpenTelemetry Python getting-started page, in Rust.
//!
//! ```console
//! $ cargo run --example hello
//! ```
//!
//! prints "Hello world from traced!" and then the three spans as JSON, innermost first,
//! exactly as Python's `ConsoleSpanExporter` lays them out. Set `OTEL_TRACES_EXPORTER` to
//! choose another exporter.

use traced::traced;

#[traced]
fn foo() {
    bar();
}

#[traced]
fn bar() {
    baz("world");
}

#[traced]
fn baz(name: &str) {
    println!("Hello {name} from traced!");
}

fn main() {
    // The demo prints to the console unless told otherwise.
    let exporter_chosen = std::env::var_os("OTEL_TRACES_EXPORTER").is_some();
    let config = traced::Config::from_env();
    let config = if exporter_chosen {
        config
    } else {
        config.with_exporters([traced::ExporterKind::Console])
    };
    let _otel = config.with_service_name("hello").install();
    foo();
}
