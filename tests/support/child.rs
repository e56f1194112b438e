//! Child processes: a test that needs its own process (real `OTEL_*` variables, a global
//! provider) re-runs its test binary for one `#[ignore]`d child test.

use std::process::Command;

/// A command that re-runs this test binary for the `#[ignore]`d test `name` alone, with
/// every `OTEL_` and `HT_` variable of this process removed (the caller sets its own).
pub fn child_test(name: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("the test binary"));
    command.args([
        "--exact",
        name,
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ]);
    for (key, _) in std::env::vars() {
        if key.starts_with("OTEL_") || key.starts_with("HT_") {
            command.env_remove(key);
        }
    }
    command
}
