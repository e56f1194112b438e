//! What the benchmarks with a harness of their own read from their command line and
//! environment.

/// Whether `cargo bench` runs the benchmark (it passes `--bench`); under `cargo test
/// --benches` it does not, and the benchmark only checks, briefly, that everything works.
pub fn benching() -> bool {
    std::env::args().any(|arg| arg == "--bench")
}

/// The number in the environment variable `name`, else `default` (with a warning when the
/// variable is set to something else).
pub fn env_number(name: &str, default: f64) -> f64 {
    match std::env::var(name) {
        Ok(value) => value.trim().parse().unwrap_or_else(|_| {
            eprintln!("{name}={value:?} is not a number; using {default}");
            default
        }),
        Err(_) => default,
    }
}
