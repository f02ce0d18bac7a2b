//! Lets V8 weigh the large payloads this addon hands to JS the way it weighs its own buffers.
//!
//! V8 runs a young-generation collection (a scavenge, well under a millisecond here) when the
//! backing stores of young ArrayBuffers reach twice its semi-space size, but it checks only when
//! it allocates a backing store itself. A payload read off a socket or taken from another thread
//! becomes an external ArrayBuffer that V8 never allocated, so that check never ran: dropped
//! payloads were freed only by a full collection, once 64 MiB of them had piled up. Measured on
//! the 16 MiB echo between processes: a full collection per four echoes in each process (3 to
//! 14 ms of pauses and background marking each); with this in place, none in 40 echoes in main
//! and 1 to 4 in the renderer.
//!
//! Allocating a one-byte ArrayBuffer just before handing a large payload over runs V8's check at
//! the moment it would have run had V8 allocated the payload itself. The payload is not in the
//! young generation yet when that collection runs, so it is not aged by it. The same goes for
//! memory lent to the encoder (binding/payload.rs), which stands in for `Buffer.allocUnsafeSlow`.
//!
//! `IPC_MAIN_YOUNG_CHECK=0` in the environment turns the check off, to measure what it saves
//! (bench/young-check.js, and the tests).

use std::cell::Cell;
use std::ptr;
use std::sync::LazyLock;

use napi::sys;

/// Payload bytes handed over between two checks: V8's own threshold is tens of MiB, so checking
/// per MiB is as prompt as checking per payload, at a fraction of the calls for small ones.
const CHECK_EVERY: usize = 1 << 20;

/// Bytes handed over since V8 last checked (per JS thread: each has its own heap).
#[derive(Debug, Default)]
pub struct Pace {
  since: usize,
}

impl Pace {
  /// Counts a payload of `len` bytes about to be handed over; true when V8 should check first.
  pub fn check_before(&mut self, len: usize) -> bool {
    self.since = self.since.saturating_add(len);
    if self.since < CHECK_EVERY {
      return false;
    }
    self.since = 0;
    true
  }
}

static ENABLED: LazyLock<bool> =
  LazyLock::new(|| std::env::var_os("IPC_MAIN_YOUNG_CHECK").is_none_or(|v| v != "0"));

thread_local! {
  static PACE: Cell<Pace> = Cell::new(Pace::default());
}

/// Call before wrapping `len` bytes of the addon's memory in an ArrayBuffer for JS.
///
/// # Safety
/// `env` must be the running callback's (a handle scope is open).
pub unsafe fn before_handing_over(env: sys::napi_env, len: usize) {
  if !*ENABLED {
    return;
  }
  let check = PACE.with(|cell| {
    let mut pace = cell.take();
    let check = pace.check_before(len);
    cell.set(pace);
    check
  });
  if check {
    // Its allocation is the check. A failure only means no early collection, as before.
    let mut data = ptr::null_mut();
    let mut value = ptr::null_mut();
    sys::napi_create_arraybuffer(env, 1, &mut data, &mut value);
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_large_payload_is_checked_before_every_time() {
    let mut pace = Pace::default();
    for _ in 0..3 {
      assert!(pace.check_before(16 << 20));
    }
  }

  #[test]
  fn small_payloads_are_checked_once_per_mib() {
    let mut pace = Pace::default();
    let checks: Vec<bool> = (0..32).map(|_| pace.check_before(64 << 10)).collect();
    let at: Vec<usize> = checks
      .iter()
      .enumerate()
      .filter(|(_, c)| **c)
      .map(|(i, _)| i)
      .collect();
    assert_eq!(at, vec![15, 31]);
  }

  #[test]
  fn the_count_does_not_overflow() {
    let mut pace = Pace {
      since: usize::MAX - 1,
    };
    assert!(pace.check_before(usize::MAX));
    assert!(!pace.check_before(1));
  }
}
