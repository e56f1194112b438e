//! The ids `#[traced]` spans get: sampling happens before anything is built for them
//! ([`crate::span`]), so the ids are drawn here rather than by the SDK.

pub(crate) mod ids;
