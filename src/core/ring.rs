//! A worker renderer's send ring: one-way messages written by the worker's JS thread straight
//! into memory the core owns, and taken from there by whichever thread holds the core's lock
//! next (main's drain, or the worker's own next call into the core).
//!
//! A `send` from a worker then costs no call into the addon and no lock: the worker writes the
//! entry and publishes it by moving `tail`. Main finds it when it next looks at its mailbox; only
//! when main has gone idle (the `idle` word says so) does the worker's JS call in to wake it,
//! once per batch. Every other call a worker renderer makes into the core takes its ring first,
//! so its messages stay in the order it sent them.
//!
//! Layout (the JS side, lib/ring.js, writes it through typed arrays): three `u32` control words
//! on cache lines of their own (`tail` at byte 0, written by the producer; `head` at 64, by the
//! consumer; `idle` at 128: 1 while main is idle, [`CLOSED`] once nobody reads the ring), then
//! `cap` bytes of entries from byte [`CONTROL`]. Positions are
//! byte counters that wrap at 2^32; an entry sits at `pos % cap`. Entry: `kind`, `channel`,
//! `len` (u32 each, native order), a spare word, the payload, padded to 16 bytes. An entry never
//! wraps: the producer fills the end of the buffer with a [`PAD`] entry and starts over at 0.

use std::alloc::{self, Layout};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use super::envelope::{ChannelId, Kind};

pub const CONTROL: usize = 192;
const TAIL: usize = 0;
const HEAD: usize = 64;
const IDLE: usize = 128;
pub const ENTRY_HEADER: usize = 16;
/// The kind of the entry that fills the end of the buffer before a wrap.
pub const PAD: u32 = 0xff;
/// `idle` once nobody will read the ring again (its renderer or main side is gone): the writer
/// sends through the core instead, which says why that cannot be done.
pub const CLOSED: u32 = 2;

/// One message taken from the ring.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
  pub kind: Kind,
  pub channel: ChannelId,
  pub payload: &'a [u8],
}

/// The ring's content is not what the producer protocol writes: everything in it was dropped.
#[derive(Debug, PartialEq, Eq)]
pub struct Malformed {
  pub at: u32,
}

pub struct Ring {
  base: NonNull<u8>,
  cap: usize,
}

// Safety: the control words are atomics; the entry bytes between `head` and `tail` are written
// only before `tail` moves past them (Release/SeqCst) and read only after (Acquire), and only
// by the one consumer at a time that the core's lock makes.
unsafe impl Send for Ring {}
unsafe impl Sync for Ring {}

impl Ring {
  /// A ring of `cap` bytes of entries: a power of two, at least 4 KiB.
  pub fn new(cap: usize) -> Ring {
    assert!(cap.is_power_of_two() && (4096..=1 << 30).contains(&cap));
    let layout = Self::layout(cap);
    // Safety: the layout has a non-zero size.
    let base = unsafe { alloc::alloc_zeroed(layout) };
    let Some(base) = NonNull::new(base) else {
      alloc::handle_alloc_error(layout)
    };
    let ring = Ring { base, cap };
    // Main starts idle: the first entry asks for a wake-up.
    ring.word(IDLE).store(1, Ordering::SeqCst);
    ring
  }

  fn layout(cap: usize) -> Layout {
    Layout::from_size_align(CONTROL + cap, 64).expect("a small power of two")
  }

  /// The whole block (control words, then entries), for the producer's typed arrays.
  pub fn memory(&self) -> (*mut u8, usize) {
    (self.base.as_ptr(), CONTROL + self.cap)
  }

  pub fn capacity(&self) -> usize {
    self.cap
  }

  fn word(&self, at: usize) -> &AtomicU32 {
    // Safety: `at` is one of the aligned control offsets inside the block, which lives as long
    // as `self`.
    unsafe { &*self.base.as_ptr().add(at).cast::<AtomicU32>() }
  }

  fn read_u32(&self, pos: usize) -> u32 {
    let mut b = [0u8; 4];
    // Safety: callers pass offsets of entry headers inside the entry area.
    unsafe {
      std::ptr::copy_nonoverlapping(self.base.as_ptr().add(CONTROL + pos), b.as_mut_ptr(), 4)
    };
    u32::from_ne_bytes(b)
  }

  pub fn is_empty(&self) -> bool {
    self.word(TAIL).load(Ordering::SeqCst) == self.word(HEAD).load(Ordering::Relaxed)
  }

  /// Main is going idle: from now on the producer wakes it. True if entries came meanwhile
  /// (the caller takes them instead of going idle).
  pub fn set_idle(&self) -> bool {
    // (A closed ring stays closed.)
    let _ = self
      .word(IDLE)
      .compare_exchange(0, 1, Ordering::SeqCst, Ordering::SeqCst);
    !self.is_empty()
  }

  /// Nobody reads this ring any more.
  pub fn close(&self) {
    self.word(IDLE).store(CLOSED, Ordering::SeqCst);
  }

  pub fn is_closed(&self) -> bool {
    self.word(IDLE).load(Ordering::SeqCst) == CLOSED
  }

  /// How many published entries wait (counted, not taken; for diagnostics).
  pub fn waiting(&self) -> usize {
    self.walk(|_| true).1
  }

  /// Takes every published entry, in order. The caller must be the only consumer (the core's
  /// lock). On a malformed entry, what is left is dropped.
  pub fn consume(&self, mut each: impl FnMut(Entry<'_>)) -> Result<usize, Malformed> {
    self.consume_while(|e| {
      each(e);
      true
    })
  }

  /// Takes published entries in order while `each` accepts them (an entry it refuses stays for
  /// later), as `consume`.
  pub fn consume_while(&self, each: impl FnMut(Entry<'_>) -> bool) -> Result<usize, Malformed> {
    let (head, taken, malformed) = self.walk(each);
    // Dropped if malformed: the producer's next entries still find room.
    let end = match malformed {
      None => head,
      Some(_) => self.word(TAIL).load(Ordering::Acquire),
    };
    self.word(HEAD).store(end, Ordering::Release);
    match malformed {
      None => Ok(taken),
      Some(e) => Err(e),
    }
  }

  /// Reads the published entries from `head` on, without moving it, while `each` accepts them:
  /// where reading stopped (past the last entry accepted), how many were accepted, and the
  /// malformed entry that stopped it, if one did.
  fn walk(&self, mut each: impl FnMut(Entry<'_>) -> bool) -> (u32, usize, Option<Malformed>) {
    let tail = self.word(TAIL).load(Ordering::Acquire);
    let mut head = self.word(HEAD).load(Ordering::Relaxed);
    let mask = self.cap as u32 - 1;
    let mut taken = 0;
    let malformed = loop {
      let left = tail.wrapping_sub(head);
      if left == 0 {
        break None;
      }
      let off = (head & mask) as usize;
      if left < ENTRY_HEADER as u32 || !off.is_multiple_of(ENTRY_HEADER) {
        break Some(Malformed { at: head });
      }
      let kind = self.read_u32(off);
      if kind == PAD {
        let rest = (self.cap - off) as u32;
        if rest > left {
          break Some(Malformed { at: head });
        }
        head = head.wrapping_add(rest);
        continue;
      }
      let len = self.read_u32(off + 8) as usize;
      let total = (ENTRY_HEADER + len).next_multiple_of(ENTRY_HEADER);
      let kind = match Kind::from_u8(kind as u8) {
        Some(k @ (Kind::Send | Kind::Post)) if kind <= 0xff => k,
        _ => break Some(Malformed { at: head }),
      };
      if off + total > self.cap || total as u32 > left {
        break Some(Malformed { at: head });
      }
      // Safety: the entry lies inside the entry area, between head and tail: published, and
      // not written again before `head` moves past it.
      let payload = unsafe {
        std::slice::from_raw_parts(self.base.as_ptr().add(CONTROL + off + ENTRY_HEADER), len)
      };
      let accepted = each(Entry {
        kind,
        channel: self.read_u32(off + 4),
        payload,
      });
      if !accepted {
        break None;
      }
      taken += 1;
      head = head.wrapping_add(total as u32);
    };
    (head, taken, malformed)
  }

  /// The producer's side, as lib/ring.js does it (tests; benchmarks of the core alone).
  /// False if there is no room. `Some(true)` means: wake the consumer.
  #[cfg(test)]
  pub fn write(&self, kind: u32, channel: u32, payload: &[u8]) -> Option<bool> {
    self.publish(kind, channel, payload)?;
    Some(self.claim_wake())
  }

  /// The writer's second step: whether it is the one to wake the consumer.
  #[cfg(test)]
  pub fn claim_wake(&self) -> bool {
    self.word(IDLE).load(Ordering::SeqCst) == 1
      && self
        .word(IDLE)
        .compare_exchange(1, 0, Ordering::SeqCst, Ordering::SeqCst)
        .is_ok()
  }

  /// The writer's first step: the entry, then `tail`. None if there is no room.
  #[cfg(test)]
  pub fn publish(&self, kind: u32, channel: u32, payload: &[u8]) -> Option<()> {
    if self.is_closed() {
      return None;
    }
    let total = (ENTRY_HEADER + payload.len()).next_multiple_of(ENTRY_HEADER);
    let mut tail = self.word(TAIL).load(Ordering::Relaxed);
    let head = self.word(HEAD).load(Ordering::Acquire);
    let off = (tail as usize) & (self.cap - 1);
    let to_end = self.cap - off;
    let need = if total > to_end {
      total + to_end
    } else {
      total
    };
    if tail.wrapping_sub(head) as usize + need > self.cap {
      return None;
    }
    let put = |at: usize, w: u32| unsafe {
      std::ptr::copy_nonoverlapping(
        w.to_ne_bytes().as_ptr(),
        self.base.as_ptr().add(CONTROL + at),
        4,
      )
    };
    let mut off = off;
    if total > to_end {
      put(off, PAD);
      tail = tail.wrapping_add(to_end as u32);
      off = 0;
    }
    put(off, kind);
    put(off + 4, channel);
    put(off + 8, payload.len() as u32);
    unsafe {
      std::ptr::copy_nonoverlapping(
        payload.as_ptr(),
        self.base.as_ptr().add(CONTROL + off + ENTRY_HEADER),
        payload.len(),
      )
    };
    self
      .word(TAIL)
      .store(tail.wrapping_add(total as u32), Ordering::SeqCst);
    Some(())
  }
}

impl std::fmt::Debug for Ring {
  fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
    f.debug_struct("Ring")
      .field("cap", &self.cap)
      .field("tail", &self.word(TAIL).load(Ordering::Relaxed))
      .field("head", &self.word(HEAD).load(Ordering::Relaxed))
      .finish()
  }
}

impl Drop for Ring {
  fn drop(&mut self) {
    // Safety: allocated in `new` with this layout.
    unsafe { alloc::dealloc(self.base.as_ptr(), Self::layout(self.cap)) }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Arc;

  fn take(r: &Ring) -> Vec<(Kind, u32, Vec<u8>)> {
    let mut got = Vec::new();
    r.consume(|e| got.push((e.kind, e.channel, e.payload.to_vec())))
      .unwrap();
    got
  }

  #[test]
  fn entries_come_out_in_order_across_wraps() {
    let r = Ring::new(4096);
    let mut expected = Vec::new();
    for i in 0..2000u32 {
      let payload = vec![i as u8; (i as usize * 7) % 300];
      if r.write(1, i, &payload).is_none() {
        assert_eq!(take(&r), expected);
        expected.clear();
        r.write(1, i, &payload).expect("room after taking");
      }
      expected.push((Kind::Send, i, payload));
    }
    assert_eq!(take(&r), expected);
    assert!(r.is_empty());
  }

  #[test]
  fn waiting_entries_are_counted_across_a_wrap() {
    let r = Ring::new(4096);
    r.write(1, 0, &[0; 4000]).unwrap();
    take(&r);
    assert_eq!(r.waiting(), 0);
    // Two entries, the second after the padded end of the buffer.
    r.write(1, 0, &[1; 40]).unwrap();
    r.write(1, 0, &[2; 200]).unwrap();
    assert_eq!(r.waiting(), 2);
    assert_eq!(take(&r).len(), 2);
    assert_eq!(r.waiting(), 0);
  }

  #[test]
  fn an_entry_refused_stays_for_the_next_look() {
    let r = Ring::new(4096);
    for i in 0..5u32 {
      r.write(1, i, &[i as u8]).unwrap();
    }
    let mut got = Vec::new();
    let n = r
      .consume_while(|e| {
        if got.len() == 2 {
          return false;
        }
        got.push(e.channel);
        true
      })
      .unwrap();
    assert_eq!((n, got), (2, vec![0, 1]));
    assert_eq!(
      take(&r).iter().map(|e| e.1).collect::<Vec<_>>(),
      vec![2, 3, 4]
    );
  }

  #[test]
  fn the_first_entry_after_idle_asks_for_a_wake_up_once() {
    let r = Ring::new(4096);
    assert_eq!(r.write(1, 0, b"a"), Some(true), "main starts idle");
    assert_eq!(r.write(1, 0, b"b"), Some(false));
    take(&r);
    assert!(!r.set_idle(), "nothing came meanwhile");
    assert_eq!(r.write(2, 0, b"c"), Some(true));
    assert!(r.set_idle(), "an entry is waiting: do not sleep on it");
    take(&r);
    r.close();
    assert!(!r.set_idle() && r.is_closed(), "closed stays closed");
    assert_eq!(r.write(1, 0, b"d"), None, "a closed ring takes nothing");
  }

  #[test]
  fn a_full_ring_refuses_and_an_entry_never_wraps() {
    let r = Ring::new(4096);
    let big = vec![9u8; 4096 - ENTRY_HEADER];
    assert_eq!(r.write(1, 0, &big), Some(true), "exactly the whole ring");
    assert_eq!(r.write(1, 0, b""), None);
    assert_eq!(take(&r).len(), 1);
    // Now at position 4096 (offset 0) again; put the tail near the end.
    r.write(1, 0, &vec![0; 4000]).unwrap();
    take(&r);
    // 96 bytes left before the end: a 200-byte entry pads them and starts at 0.
    r.write(1, 5, &[1; 200]).unwrap();
    assert_eq!(take(&r), vec![(Kind::Send, 5, vec![1; 200])]);
  }

  #[test]
  fn garbage_is_dropped_and_the_ring_goes_on() {
    let r = Ring::new(4096);
    r.write(9, 0, b"not a one-way kind").unwrap();
    let mut n = 0;
    assert_eq!(r.consume(|_| n += 1), Err(Malformed { at: 0 }));
    assert_eq!(n, 0);
    assert!(r.is_empty());
    r.write(1, 1, b"fine").unwrap();
    assert_eq!(take(&r), vec![(Kind::Send, 1, b"fine".to_vec())]);
    // A length that runs past what was published.
    let off = r.word(TAIL).load(Ordering::Relaxed) as usize & 4095;
    r.write(1, 0, b"x").unwrap();
    unsafe {
      std::ptr::copy_nonoverlapping(
        5000u32.to_ne_bytes().as_ptr(),
        r.base.as_ptr().add(CONTROL + off + 8),
        4,
      )
    };
    assert_eq!(r.waiting(), 0, "counting stops at a malformed entry");
    assert!(r.consume(|_| {}).is_err());
    assert!(r.is_empty());
  }

  #[test]
  fn a_producer_and_a_consumer_on_two_threads_lose_nothing() {
    let r = Arc::new(Ring::new(4096));
    let n = 200_000u32;
    let producer = {
      let r = r.clone();
      std::thread::spawn(move || {
        for i in 0..n {
          let payload = i.to_ne_bytes();
          while r.write(1, i, &payload[..(i % 5) as usize]).is_none() {
            std::hint::spin_loop();
          }
        }
      })
    };
    let mut next = 0u32;
    while next < n {
      r.consume(|e| {
        assert_eq!(e.channel, next);
        assert_eq!(e.payload, &next.to_ne_bytes()[..(next % 5) as usize]);
        next += 1;
      })
      .unwrap();
    }
    producer.join().unwrap();
    assert!(r.is_empty());
  }
}
