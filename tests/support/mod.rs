//! Helpers shared by the integration tests (each test crate uses what it needs).

#![allow(dead_code, unreachable_pub, unused_imports)]

pub mod child;
pub mod otlp_receiver;
#[cfg(target_os = "linux")]
pub mod scheduling;
