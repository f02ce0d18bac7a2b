//! Large payloads serialized straight into memory the addon owns. The JS encoder grows into an
//! ArrayBuffer made here (`alloc`) once a message outgrows its scratch; the call that sends the
//! message takes that memory back (`take`), detaching the ArrayBuffer, instead of copying it.
//!
//! Measured on this project's 2-core VM: a fresh 16 MiB `Buffer` costs ~9 ms before it holds
//! anything (4096 page faults: V8 frees backing stores only when it collects them, so each one
//! is new memory), and copying one into the message ~3 ms more. Memory from here is backed by
//! huge pages where the system offers them (core/bytes.rs), and that copy goes away.

use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr;
use std::sync::{LazyLock, Mutex, MutexGuard};

use napi::sys;

use super::raw::Fail;
use super::young_memory;
use crate::core::bytes;
use crate::core::lock::lock;
use crate::core::Payload;

/// Buffers lent to JS and neither taken back nor collected yet, by id. The id (not the address,
/// which a later buffer may reuse) is what an ArrayBuffer's finalizer names.
#[derive(Default)]
struct Lent {
  next: u64,
  by_id: HashMap<u64, Vec<u8>>,
  by_address: HashMap<usize, u64>,
}

impl Lent {
  fn take(&mut self, address: usize) -> Option<(u64, Vec<u8>)> {
    let id = self.by_address.remove(&address)?;
    self.by_id.remove(&id).map(|v| (id, v))
  }

  fn lend(&mut self, id: u64, memory: Vec<u8>) {
    self.by_address.insert(memory.as_ptr() as usize, id);
    self.by_id.insert(id, memory);
  }

  /// Drops what ArrayBuffer `id` held, if it was not taken back; returns its size.
  fn collected(&mut self, id: u64) -> usize {
    match self.by_id.remove(&id) {
      Some(v) => {
        self.by_address.remove(&(v.as_ptr() as usize));
        v.capacity()
      }
      None => 0,
    }
  }
}

static LENT: LazyLock<Mutex<Lent>> = LazyLock::new(Default::default);

fn lent() -> MutexGuard<'static, Lent> {
  lock(&LENT)
}

/// How many buffers JS holds from `alloc` (tests: none may leak).
pub fn outstanding() -> usize {
  lent().by_id.len()
}

/// A new ArrayBuffer of `size` bytes backed by memory of ours. Its contents are unspecified
/// until JS writes them, as with `Buffer.allocUnsafe`.
///
/// # Safety
/// `env` must be the running callback's.
pub unsafe fn alloc(env: sys::napi_env, size: usize) -> Result<sys::napi_value, Fail> {
  let Some(mut memory) = bytes::try_with_capacity(size.max(1)) else {
    return Err(("ERR_IPC_NO_MEMORY", format!("no memory for {size} bytes")));
  };
  // The Vec stays empty: Rust never reads bytes JS has not written (see `take`).
  let data = memory.as_mut_ptr();
  let id = {
    let mut lent = lent();
    lent.next += 1;
    let id = lent.next;
    lent.lend(id, memory);
    id
  };
  // As for a payload received (young_memory.rs): the encoder drops the smaller buffers it grew
  // out of, and V8 would have checked before allocating any of them itself.
  young_memory::before_handing_over(env, size);
  let mut out = ptr::null_mut();
  let status = sys::napi_create_external_arraybuffer(
    env,
    data.cast(),
    size,
    Some(finalize),
    id as usize as *mut c_void,
    &mut out,
  );
  if status != sys::Status::napi_ok {
    // A runtime that allows no external buffers (such as Electron's sandbox): JS stops asking.
    lent().collected(id);
    return Err((
      "ERR_IPC_NO_EXTERNAL_MEMORY",
      format!("cannot lend a buffer of {size} bytes"),
    ));
  }
  // V8 counts an external ArrayBuffer's bytes itself when it decides to collect (an unsent one
  // is freed only by collection), and stops when it is detached. Reporting them again with
  // napi_adjust_external_memory counted each large message twice: measured, one full collection
  // per 16 MiB echo between processes instead of one per two, and the echo 17% slower (30%
  // pinned).
  Ok(out)
}

unsafe extern "C" fn finalize(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
  lent().collected(hint as usize as u64);
}

/// The bytes of Uint8Array `view` (`data`, `len`, at `offset` in `array_buffer`) as an owned
/// payload: the memory itself when the view is on a buffer from `alloc` (its ArrayBuffer is
/// detached: JS sees it empty from now on), otherwise a copy.
///
/// # Safety
/// `env` must be the running callback's, and the other arguments what `napi_get_typedarray_info`
/// said of one view.
pub unsafe fn take(
  env: sys::napi_env,
  array_buffer: sys::napi_value,
  data: *const u8,
  len: usize,
  offset: usize,
) -> Payload {
  // The encoder's views start at 0; any other view is copied (the bytes before it were never
  // written, so the memory cannot become a Vec that claims them).
  if len >= TAKE_FROM && offset == 0 {
    let base = data as usize;
    let taken = lent().take(base);
    if let Some((id, mut memory)) = taken {
      if sys::napi_detach_arraybuffer(env, array_buffer) == sys::Status::napi_ok {
        // Safety: JS wrote the view's bytes (they are the message, from offset 0), and nothing
        // else will: the ArrayBuffer no longer reaches this memory.
        memory.set_len(len);
        // The encoder grows by doubling: a message queued for long should not hold twice its
        // size (shrinking a large block remaps it; nothing is copied).
        if memory.capacity() - len > len / 4 {
          memory.shrink_to_fit();
        }
        return memory.into();
      }
      // Not detachable after all: it stays lent, and is copied like any buffer.
      lent().lend(id, memory);
    }
  }
  Payload::from_slice(std::slice::from_raw_parts(data, len))
}

/// Smaller views are copied: the encoder only grows into lent memory past its scratch size.
const TAKE_FROM: usize = 64 * 1024;

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn a_stale_finalizer_never_frees_a_buffer_lent_later_at_the_same_address() {
    let mut lent = Lent::default();
    let memory = Vec::with_capacity(100);
    let address = memory.as_ptr() as usize;
    lent.lend(1, memory);
    // sent: taken back by address, then its old ArrayBuffer is finalized late
    let (id, memory) = lent.take(address).unwrap();
    assert_eq!(id, 1);
    lent.lend(2, memory);
    assert_eq!(lent.collected(1), 0, "a stale id frees nothing");
    assert_eq!(lent.by_id.len(), 1, "the buffer lent again is still lent");
    assert!(lent.collected(2) >= 100);
    assert!(lent.by_id.is_empty() && lent.by_address.is_empty());
    assert!(lent.take(address).is_none());
  }
}
