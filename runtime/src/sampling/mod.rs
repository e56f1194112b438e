//! Sampling `#[traced]` spans before anything is built for them, and the ids they get.

pub(crate) mod handoff;
pub(crate) mod ids;
