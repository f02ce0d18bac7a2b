//! napi glue that is not itself an export: error mapping, the wake-up signal, the exit probe.
//! `lib.rs` holds the exports; the core never sees napi.

pub mod args;
pub mod cleanup;
pub mod doorbell;
pub mod error;
pub mod payload;
pub mod probe;
pub mod raw;
pub mod ring;
pub mod scratch;
pub mod uv;
pub mod wake;
pub mod watch;
pub mod young_memory;
