//! Arbitrary bytes into the frame decoder, split three ways, with the handshake payloads parsed
//! as JSON. The checks are `check` in `src/transport/corpus_tests.rs`, included here by path so
//! that `cargo test` replays the corpus through exactly the same code.
#![no_main]

// What `corpus_tests` finds as `super::{frame, handshake}`, as it does in the main crate.
use ipc_main::transport::{frame, handshake};

#[path = "../../src/transport/corpus_tests.rs"]
mod corpus_tests;

libfuzzer_sys::fuzz_target!(|data: &[u8]| corpus_tests::check(data));
