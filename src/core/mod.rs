//! The routing core: every piece of state `ipc-main` has lives here, behind one lock.
//!
//! Nothing in this module knows about JavaScript or napi. The binding in `lib.rs` turns JS calls
//! into calls on [`router::Core`], and JS only ever sees channels, ids and payload bytes.

pub mod anticipation;
pub mod bytes;
pub mod channels;
pub mod envelope;
pub mod error;
pub mod link_batch;
pub mod lock;
pub mod mailbox;
pub mod outbox;
pub mod payload;
pub mod pending;
pub mod registry;
pub mod renderers;
pub mod ring;
pub mod router;
pub mod spliced;
pub mod waiter;

pub use envelope::{ChannelId, EndpointId, Envelope, Kind, RendererId, RequestId, Route, Status};
pub use error::CoreError;
pub use payload::Payload;
pub use router::Core;
