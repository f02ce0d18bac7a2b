//! The scratch-buffer convention between the exports and `lib/native.js`: a fixed header of
//! u32 words, then the payload; what does not fit is parked for `takeLarge`.

use std::cell::RefCell;

use crate::core::waiter::Reply;
use crate::core::{Payload, RequestId, Status};

/// Bytes at the start of a scratch buffer that `next` fills with the message header:
/// u32 LE words `[kind | status << 8 | route << 16 | wake << 24, renderer, channel,
/// request low, request high, payload length]`; the payload follows.
pub const HEADER_BYTES: usize = 32;
/// `next`: nothing to take.
pub const NONE: i32 = -1;
/// The payload did not fit in the scratch buffer: `takeLarge` hands it over.
pub const LARGE: i32 = -2;
/// `next` in pump mode: the request being pumped for has been dispatched.
pub const DONE: i32 = -3;
/// A reply that is a status, not a value, comes back as `STATUS_BASE - status`.
pub const STATUS_BASE: i32 = -100;

thread_local! {
  /// A payload too big for the caller's scratch buffer. Taken right after the call that put it
  /// here, on the same JS thread, so one slot per thread is enough.
  pub static LARGE_PAYLOAD: RefCell<Option<Vec<u8>>> = const { RefCell::new(None) };
}

/// Copies a reply's payload after the header space, or parks it for `takeLarge`.
pub fn payload_into(payload: Payload, scratch: &mut [u8]) -> i32 {
  let end = HEADER_BYTES + payload.len();
  if scratch.len() >= end {
    scratch[HEADER_BYTES..end].copy_from_slice(&payload);
    payload.len() as i32
  } else {
    LARGE_PAYLOAD.with(|slot| *slot.borrow_mut() = Some(payload.into_vec()));
    LARGE
  }
}

/// A reply: its value into the scratch buffer, or its status as `STATUS_BASE - status`.
pub fn reply_into(reply: Reply, scratch: &mut [u8]) -> i32 {
  if reply.status != Status::Ok {
    return STATUS_BASE - reply.status as i32;
  }
  payload_into(reply.payload, scratch)
}

#[allow(clippy::too_many_arguments)]
pub fn write_header(
  scratch: &mut [u8],
  kind: u8,
  status: u8,
  route: u8,
  wake: bool,
  renderer: u32,
  channel: u32,
  request: RequestId,
  len: u32,
) {
  let words = [
    kind as u32 | (status as u32) << 8 | (route as u32) << 16 | (wake as u32) << 24,
    renderer,
    channel,
    request as u32,
    (request >> 32) as u32,
    len,
  ];
  for (i, w) in words.iter().enumerate() {
    scratch[i * 4..i * 4 + 4].copy_from_slice(&w.to_le_bytes());
  }
}
