//! A message whose large parts are still where the sender's JS keeps them, for the one call that
//! sends it. A connection can then write those parts to its socket straight from there: a
//! 16 MiB Buffer is not first copied into the message (measured: that copy, and the page faults
//! of the fresh memory it went to, were a third of a 16 MiB echo between processes).
//!
//! Whoever makes one promises that the borrowed memory stays valid and unchanged until its
//! [`SpliceGuard`] is dropped (the binding drops it before the call returns to JS). The guard
//! then copies everything into memory of the message's own if the message is still referenced
//! (it was queued somewhere instead of written), so a spliced payload reads the same as any
//! other, on any thread, at any time.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::lock::lock;

/// A part left out of the written bytes: `len` bytes at `ptr`, which go in front of the
/// written byte at `at`.
#[derive(Debug, Clone, Copy)]
pub struct Part {
  pub at: usize,
  pub ptr: *const u8,
  pub len: usize,
}

#[derive(Debug)]
pub struct Spliced {
  written: Vec<u8>,
  parts: Vec<Part>,
  total: usize,
  /// All the bytes in one buffer, once someone needed them so.
  joined: OnceLock<Vec<u8>>,
  /// The parts may still be read where they are (the guard is alive).
  borrowed: Mutex<bool>,
}

// Safety: the parts are only read while `borrowed` is true (checked under its lock), during which
// their owner keeps them valid and unchanged; afterwards only `joined`, which is the message's own.
unsafe impl Send for Spliced {}
unsafe impl Sync for Spliced {}

/// Ends the borrow: see the module comment.
#[derive(Debug)]
pub struct SpliceGuard(Arc<Spliced>);

/// Spliced messages whose parts were copied (joined) so far in this process: a diagnostic, so
/// tests can tell a message written from where it was from one that was copied.
static JOINS: AtomicU64 = AtomicU64::new(0);

pub fn joins() -> u64 {
  JOINS.load(Ordering::Relaxed)
}

/// The longest spliced message: a frame's length is a u32, and its header and channel need room.
pub const MAX_LEN: usize = u32::MAX as usize - (1 << 20);

/// Why a spliced message cannot be made.
#[derive(Debug, PartialEq, Eq)]
pub enum BadSplice {
  /// The parts are out of order or point past the written bytes.
  Parts,
  /// Longer than [`MAX_LEN`] in all.
  TooLarge(usize),
}

/// How the panic of a failed allocation for a copy begins (the export turns it into
/// ERR_IPC_NO_MEMORY).
pub const NO_MEMORY: &str = "no memory to copy";

/// An empty buffer for copying `n` bytes of a message into; an allocation failure is a panic
/// (turned into ERR_IPC_NO_MEMORY at the export), never an abort.
pub fn copy_buffer(n: usize) -> Vec<u8> {
  super::bytes::try_with_capacity(n).unwrap_or_else(|| panic!("{NO_MEMORY} {n} bytes of a message"))
}

impl Spliced {
  /// # Safety
  /// Every part's memory must stay valid and unchanged until the returned guard is dropped.
  pub unsafe fn borrow(
    written: Vec<u8>,
    parts: Vec<Part>,
  ) -> Result<(Arc<Spliced>, SpliceGuard), BadSplice> {
    let mut last = 0;
    let mut total = written.len();
    for p in &parts {
      if p.at < last || p.at > written.len() || (p.ptr.is_null() && p.len > 0) {
        return Err(BadSplice::Parts);
      }
      last = p.at;
      total = total.saturating_add(p.len);
    }
    if total > MAX_LEN {
      return Err(BadSplice::TooLarge(total));
    }
    let spliced = Arc::new(Spliced {
      written,
      parts,
      total,
      joined: OnceLock::new(),
      borrowed: Mutex::new(true),
    });
    let guard = SpliceGuard(spliced.clone());
    Ok((spliced, guard))
  }

  pub fn len(&self) -> usize {
    self.total
  }

  pub fn is_empty(&self) -> bool {
    self.total == 0
  }

  /// All the bytes, contiguous: joined (copied) the first time.
  pub fn bytes(&self) -> &[u8] {
    if let Some(b) = self.joined.get() {
      return b;
    }
    let borrowed = lock(&self.borrowed);
    self.joined.get_or_init(|| {
      assert!(*borrowed, "a spliced message outlived its borrow unjoined");
      // Safety: borrowed (checked), and stays so while the lock is held.
      unsafe { self.join() }
    })
  }

  /// A copy of all the bytes, made once, kept by the caller rather than here.
  pub fn to_vec(&self) -> Vec<u8> {
    if let Some(b) = self.joined.get() {
      return b.clone();
    }
    let borrowed = lock(&self.borrowed);
    if !*borrowed {
      drop(borrowed);
      return self.bytes().to_vec();
    }
    // Safety: borrowed (checked), and stays so while the lock is held.
    unsafe { self.join() }
  }

  /// A new buffer with all the bytes, read where they are (counted in `JOINS`).
  ///
  /// # Safety
  /// Only while borrowed, the lock held.
  unsafe fn join(&self) -> Vec<u8> {
    JOINS.fetch_add(1, Ordering::Relaxed);
    let mut v = copy_buffer(self.total);
    unsafe { self.pieces(|p| v.extend_from_slice(p)) };
    v
  }

  /// All the bytes as a Vec of their own (the last holder's).
  pub fn into_bytes(self) -> Vec<u8> {
    if self.joined.get().is_none() {
      self.bytes();
    }
    self.joined.into_inner().unwrap_or_default()
  }

  /// Calls `f` with the bytes in order, in pieces: where they are while borrowed, joined after.
  /// The borrow cannot end while `f` runs.
  pub fn with_pieces<R>(&self, f: impl FnOnce(&[&[u8]]) -> R) -> R {
    if let Some(b) = self.joined.get() {
      return f(&[b]);
    }
    let borrowed = lock(&self.borrowed);
    if !*borrowed {
      drop(borrowed);
      return f(&[self.bytes()]);
    }
    let mut pieces = Vec::with_capacity(2 * self.parts.len() + 1);
    // Safety: borrowed, and stays so while the lock is held.
    unsafe { self.pieces(|p| pieces.push(p)) };
    f(&pieces)
  }

  /// # Safety
  /// Only while borrowed.
  unsafe fn pieces<'a>(&'a self, mut each: impl FnMut(&'a [u8])) {
    let mut from = 0;
    for p in &self.parts {
      if p.at > from {
        each(&self.written[from..p.at]);
      }
      if p.len > 0 {
        each(unsafe { std::slice::from_raw_parts(p.ptr, p.len) });
      }
      from = p.at;
    }
    if self.written.len() > from {
      each(&self.written[from..]);
    }
  }
}

impl Drop for SpliceGuard {
  fn drop(&mut self) {
    if Arc::strong_count(&self.0) > 1 {
      // Still referenced (queued, not written): it needs bytes of its own from now on.
      self.0.bytes();
    }
    *lock(&self.0.borrowed) = false;
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn part(at: usize, bytes: &[u8]) -> Part {
    Part {
      at,
      ptr: bytes.as_ptr(),
      len: bytes.len(),
    }
  }

  fn collect(s: &Spliced) -> (usize, Vec<u8>) {
    s.with_pieces(|pieces| (pieces.len(), pieces.concat()))
  }

  #[test]
  fn the_parts_go_where_they_were_left_out() {
    let a = vec![1u8; 5];
    let b = vec![2u8; 3];
    // written "xyz", a in front of byte 1, b in front of byte 3 (at the end)
    let (s, guard) =
      unsafe { Spliced::borrow(b"xyz".to_vec(), vec![part(1, &a), part(3, &b)]) }.unwrap();
    let want = [&b"x"[..], &a, b"yz", &b].concat();
    assert_eq!(s.len(), want.len());
    assert_eq!(collect(&s), (4, want.clone()), "read in place, in pieces");
    assert_eq!(s.bytes(), &want[..]);
    drop(guard);
    assert_eq!(collect(&s), (1, want), "joined once read whole");
  }

  #[test]
  fn a_message_still_referenced_when_the_borrow_ends_keeps_its_own_copy() {
    let mut big = vec![7u8; 1000];
    let (s, guard) = unsafe { Spliced::borrow(vec![9], vec![part(0, &big)]) }.unwrap();
    drop(guard);
    big.fill(0); // the owner may change its memory now
    let (n, bytes) = collect(&s);
    assert_eq!(n, 1);
    assert_eq!(bytes.len(), 1001);
    assert!(bytes[..1000].iter().all(|&x| x == 7) && bytes[1000] == 9);
  }

  #[test]
  fn a_message_nobody_holds_is_not_copied_when_the_borrow_ends() {
    let big = vec![7u8; 1000];
    let (s, guard) = unsafe { Spliced::borrow(vec![], vec![part(0, &big)]) }.unwrap();
    let weak = Arc::downgrade(&s);
    assert_eq!(collect(&s).0, 1, "one piece: the part itself");
    drop(s);
    drop(guard);
    assert!(weak.upgrade().is_none());
  }

  #[test]
  fn a_payload_made_owned_is_copied_once_and_leaves_nothing_for_the_borrow_to_copy() {
    use crate::core::Payload;
    let mut big = vec![5u8; 1000];
    let (s, guard) = unsafe { Spliced::borrow(vec![1, 2], vec![part(1, &big)]) }.unwrap();
    let weak = Arc::downgrade(&s);
    let owned = Payload::from(s).owned();
    assert!(owned.spliced().is_none(), "bytes of its own");
    assert_eq!(
      weak.strong_count(),
      1,
      "only the guard holds it: it has nothing to copy"
    );
    drop(guard);
    assert_eq!(weak.strong_count(), 0);
    big.fill(0);
    assert_eq!(owned.len(), 1002);
    assert!(owned[0] == 1 && owned[1..1001].iter().all(|&x| x == 5) && owned[1001] == 2);
  }

  #[test]
  fn parts_out_of_order_or_past_the_end_are_refused() {
    let a = [1u8; 4];
    let bad = |parts| unsafe { Spliced::borrow(vec![0; 3], parts) }.map(|_| ());
    assert_eq!(bad(vec![part(2, &a), part(1, &a)]), Err(BadSplice::Parts));
    assert_eq!(bad(vec![part(4, &a)]), Err(BadSplice::Parts));
    let null = Part {
      at: 0,
      ptr: std::ptr::null(),
      len: 1,
    };
    assert_eq!(bad(vec![null]), Err(BadSplice::Parts));
    // past what a frame can carry: refused before anything is read
    let huge = |len| Part {
      at: 0,
      ptr: a.as_ptr(),
      len,
    };
    assert_eq!(
      bad(vec![huge(MAX_LEN), huge(usize::MAX)]),
      Err(BadSplice::TooLarge(usize::MAX))
    );
    assert_eq!(
      bad(vec![huge(MAX_LEN - 3)]).map_err(|_| ()),
      Ok(()),
      "the limit itself is fine"
    );
    assert_eq!(bad(vec![part(0, &a), part(0, &a), part(3, &a)]), Ok(()));
  }
}
