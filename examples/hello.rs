//! The foo → bar → baz nesting of the OpenTelemetry Python getting-started page, in Rust.
//!
//! ```console
//! $ cargo run --example hello
//! ```
//!
//! prints "Hello world from traced!" and then the trace as a tree. With
//! `OTEL_RUST_CONSOLE_FORMAT=json` it prints the three spans as JSON, innermost first, exactly
//! as Python's `ConsoleSpanExporter` lays them out. `OTEL_TRACES_EXPORTER` chooses another
//! exporter.

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
    // The demo prints a tree to the console unless told otherwise.
    let mut config = traced::Config::from_env().with_service_name("hello");
    if std::env::var_os("OTEL_TRACES_EXPORTER").is_none() {
        config = config.with_exporters([traced::ExporterKind::Console]);
    }
    if std::env::var_os("OTEL_RUST_CONSOLE_FORMAT").is_none() {
        config = config.with_console_format(traced::ConsoleFormat::Tree);
    }
    let _otel = config.install();
    foo();
}
