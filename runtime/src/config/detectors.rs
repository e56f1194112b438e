//! Resource detection: what the process can say about where it runs, as the `host`, `os` and
//! `process` resource attributes. Standard library only; anything that cannot be read is
//! simply left out.

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute::{
    HOST_ARCH, HOST_NAME, OS_TYPE, PROCESS_EXECUTABLE_NAME, PROCESS_EXECUTABLE_PATH, PROCESS_PID,
    PROCESS_RUNTIME_NAME,
};

/// The detected attributes, lowest in precedence: `OTEL_RESOURCE_ATTRIBUTES` and the service
/// name override any of them.
pub(crate) fn detected_attributes() -> Vec<KeyValue> {
    let mut attributes = vec![
        KeyValue::new(HOST_ARCH, host_arch()),
        KeyValue::new(OS_TYPE, os_type()),
        KeyValue::new(PROCESS_PID, i64::from(std::process::id())),
        KeyValue::new(PROCESS_RUNTIME_NAME, "rustc"),
    ];
    if let Some(name) = host_name() {
        attributes.push(KeyValue::new(HOST_NAME, name));
    }
    if let Ok(path) = std::env::current_exe() {
        if let Some(name) = path.file_name().and_then(|name| name.to_str()) {
            attributes.push(KeyValue::new(PROCESS_EXECUTABLE_NAME, name.to_owned()));
        }
        if let Some(path) = path.to_str() {
            attributes.push(KeyValue::new(PROCESS_EXECUTABLE_PATH, path.to_owned()));
        }
    }
    attributes
}

/// The semantic conventions' names for the architectures Rust targets.
fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "x86",
        "arm" => "arm32",
        "powerpc" => "ppc32",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        other => other,
    }
}

/// The semantic conventions' names for the operating systems Rust targets.
fn os_type() -> &'static str {
    match std::env::consts::OS {
        "macos" | "ios" => "darwin",
        "illumos" | "solaris" => "solaris",
        other => other,
    }
}

fn host_name() -> Option<String> {
    let from_kernel = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    from_kernel
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_process_describes_itself() {
        let attributes = detected_attributes();
        let get = |key: &str| {
            attributes
                .iter()
                .find(|kv| kv.key.as_str() == key)
                .map(|kv| kv.value.clone())
        };
        assert_eq!(
            get(PROCESS_PID),
            Some(opentelemetry::Value::I64(i64::from(std::process::id())))
        );
        assert_eq!(
            get(OS_TYPE).map(|v| v.to_string()),
            Some(os_type().to_owned())
        );
        assert!(get(PROCESS_EXECUTABLE_NAME).is_some());
        #[cfg(target_os = "linux")]
        assert!(
            get(HOST_NAME).is_some(),
            "Linux always has /proc/sys/kernel/hostname"
        );
    }
}
