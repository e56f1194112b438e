//! Carrying the OpenTelemetry context: through futures (attached on every poll), into spawned
//! tasks and threads, and in from remote parents.

mod carrier;
mod instrumented;
mod parent;
mod spawn;
pub mod thread;

#[cfg(feature = "http-server")]
pub(crate) use carrier::headers::HeaderExtractor;
#[cfg(feature = "reqwest")]
pub(crate) use carrier::headers::HeaderInjector;
pub use carrier::{Carrier, ViaExtractor, ViaExtractorRef, ViaHeaderMap, ViaHeaderMapRef};
pub use instrumented::Instrumented;
pub use parent::{
    IntoLink, IntoParentContext, LinkArg, LinkSource, ViaLinkIterator, ViaLinkSource,
    current_context, no_links, parent_context, root_context,
};
pub use spawn::FutureExt;
#[cfg(feature = "tokio")]
pub use spawn::{spawn, spawn_blocking};
