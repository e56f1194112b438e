//! The data capture of the installed pipeline: what `HT_DATA_CAPTURE_*` (or the
//! `data_capture` section of `HT_CONFIG_FILE`) said when [`crate::init`] ran, kept
//! process-wide so that integrations built from the environment follow it at request time,
//! whether they were built before or after `init()`.

use std::sync::RwLock;

#[cfg(feature = "http-server")]
pub(crate) use super::data_capture::BODY_MAX_SIZE_BYTES_DEFAULT;
pub(crate) use super::data_capture::DataCapture;

/// `None` until a pipeline is installed: nothing is captured.
static INSTALLED: RwLock<Option<DataCapture>> = RwLock::new(None);

/// Stores the data capture of the pipeline being installed (the last install wins).
pub(crate) fn set(capture: DataCapture) {
    // A poisoned lock only means another thread panicked mid-write of a `Copy` value.
    *INSTALLED
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(capture);
}

/// The installed data capture; the default (nothing captured) before any install.
#[cfg_attr(
    not(feature = "http-server"),
    allow(dead_code, reason = "read by the HTTP server integration")
)]
pub(crate) fn get() -> DataCapture {
    INSTALLED
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .unwrap_or_default()
}
