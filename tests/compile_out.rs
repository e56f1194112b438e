//! The `enable` feature: a crate depending on `traced` with `default-features = false`
//! compiles `#[traced]` out entirely, and the same crate with `enable` is instrumented.
//! Builds tests/compile_out/ (its own workspace, so features do not unify with ours) in both
//! states and runs it.

use std::path::Path;
use std::process::Command;

fn run_compile_out_crate(features: &[&str]) -> String {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/compile_out/Cargo.toml");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("compile-out");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut command = Command::new(cargo);
    command
        .args(["run", "--quiet", "--manifest-path"])
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target);
    for feature in features {
        command.args(["--features", feature]);
    }
    let output = command.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "the crate builds and runs:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8 output")
}

#[test]
fn instrumentation_compiles_out_without_enable_and_is_there_with_it() {
    assert_eq!(
        run_compile_out_crate(&[]).trim(),
        "spans=0",
        "without `enable` no span exists"
    );
    assert_eq!(
        run_compile_out_crate(&["enable"]).trim(),
        "spans=3",
        "with `enable`: work, handle, reload"
    );
}
