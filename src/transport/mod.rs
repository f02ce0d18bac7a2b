//! Transports to renderers in other processes: a local socket served by tokio.
//!
//! - `frame`: the wire format; `handshake`: the first frames of a connection;
//! - `socket`: what is specific to the OS (Unix domain sockets here);
//! - `runtime`: the tokio runtime the connections run on;
//! - `connection`: one connection: buffered writes, the reader, the core's `Link`;
//! - `outgoing`: bytes queued for a connection; `write_through`: a large message written from
//!   where its bytes are, by the sending thread;
//! - `server`: main side, accepting renderers; `client`: renderer side, connecting to main;
//! - `handoff`: connections offered to the JS thread they serve, to read on its own loop.

pub mod client;
pub mod connection;
pub mod frame;
pub mod handoff;
pub mod handshake;
pub mod outgoing;
pub mod runtime;
pub mod server;
#[cfg(unix)]
#[path = "socket_unix.rs"]
pub mod socket;
#[cfg(unix)]
pub mod write_through;

#[cfg(test)]
mod corpus_tests;
#[cfg(test)]
mod tests;
