//! Transports to renderers in other processes: a local socket served by tokio.

pub mod frame;
