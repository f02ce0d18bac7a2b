//! Writing a large message from the calling thread, straight from where its bytes are (the
//! sender's JS memory, see core/spliced.rs), instead of copying it into a buffer for the writer
//! task: while the reader keeps reading, the socket takes it all; what it does not take within a
//! bounded wait is copied, and the writer task sends that.

use std::io::{self, IoSlice, Write};
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use crate::core::spliced::copy_buffer;

/// Buffers handed to one vectored write at most.
const MAX_SLICES: usize = 64;
/// A wait for room this long without any: the reader is not reading now, copy the rest.
/// Before the reader has made room even once (it may be busy, or hung: the socket only took
/// what its buffer holds) that is soon; once it has been reading, long enough to outlast its
/// usual garbage collection. Measured before binding/young_memory.rs made most of those young
/// collections (not remeasured since): V8 ran a full one after every ~64 MiB of received
/// payloads, pausing 1–12 ms here, and with 2 ms there a third of the 16 MiB echoes between
/// processes gave up halfway, copied 8 MiB and left it to the writer task, which took another
/// 2–15 ms to send it (C4 median 15.0 → 14.0 ms in alternating runs).
const STALL: Duration = Duration::from_millis(2);
const STALL_READING: Duration = Duration::from_millis(10);
/// Never keep the calling thread longer than this, however slowly the reader reads.
const PATIENCE: Duration = Duration::from_millis(100);

/// How long a write waits for room (see the constants above).
#[derive(Clone, Copy, Debug)]
struct Patience {
  stall: Duration,
  stall_reading: Duration,
  total: Duration,
}

impl Patience {
  const DEFAULT: Patience = Patience {
    stall: STALL,
    stall_reading: STALL_READING,
    total: PATIENCE,
  };

  /// How long to wait for room now, `elapsed` into a write (None: give up): short until the
  /// reader has made room once, longer after, never past `total` in all.
  fn stall_for(&self, reading: bool, elapsed: Duration) -> Option<Duration> {
    let left = self.total.saturating_sub(elapsed);
    if left.is_zero() {
      return None;
    }
    Some(
      if reading {
        self.stall_reading
      } else {
        self.stall
      }
      .min(left),
    )
  }
}

/// Where a write stopped, over a list of byte slices.
pub struct Cursor<'a> {
  pieces: &'a [&'a [u8]],
  index: usize,
  offset: usize,
}

impl<'a> Cursor<'a> {
  pub fn new(pieces: &'a [&'a [u8]]) -> Cursor<'a> {
    let mut c = Cursor {
      pieces,
      index: 0,
      offset: 0,
    };
    c.skip_empty();
    c
  }

  fn skip_empty(&mut self) {
    while self.index < self.pieces.len() && self.offset == self.pieces[self.index].len() {
      self.index += 1;
      self.offset = 0;
    }
  }

  pub fn is_empty(&self) -> bool {
    self.index == self.pieces.len()
  }

  /// What to hand to the next vectored write.
  pub fn slices(&self) -> Vec<IoSlice<'a>> {
    let mut out = Vec::with_capacity((self.pieces.len() - self.index).min(MAX_SLICES));
    for (i, p) in self.pieces[self.index..]
      .iter()
      .enumerate()
      .take(MAX_SLICES)
    {
      let p: &'a [u8] = p;
      out.push(IoSlice::new(if i == 0 { &p[self.offset..] } else { p }));
    }
    out
  }

  /// `n` bytes were written.
  pub fn advance(&mut self, mut n: usize) {
    while n > 0 && !self.is_empty() {
      let left = self.pieces[self.index].len() - self.offset;
      let step = left.min(n);
      self.offset += step;
      n -= step;
      self.skip_empty();
    }
  }

  /// A copy of what was not written.
  pub fn rest(&self) -> Vec<u8> {
    let len = self.pieces[self.index.min(self.pieces.len())..]
      .iter()
      .map(|p| p.len())
      .sum::<usize>()
      - self.offset;
    let mut v = copy_buffer(len);
    for (i, p) in self.pieces[self.index..].iter().enumerate() {
      v.extend_from_slice(if i == 0 { &p[self.offset..] } else { p });
    }
    v
  }
}

/// Writes `pieces` to `sock` (non-blocking), waiting for room while the reader makes some;
/// returns a copy of what it did not write (empty: all written). A broken socket stops it too:
/// the rest is returned, and the writer task finds the socket broken.
pub fn write_through<S>(sock: &S, pieces: &[&[u8]]) -> Vec<u8>
where
  for<'s> &'s S: Write,
  S: AsRawFd,
{
  write_through_within(sock, pieces, Patience::DEFAULT)
}

/// `write_through`, waiting for room as `patience` says.
fn write_through_within<S>(sock: &S, pieces: &[&[u8]], patience: Patience) -> Vec<u8>
where
  for<'s> &'s S: Write,
  S: AsRawFd,
{
  let started = Instant::now();
  let mut cursor = Cursor::new(pieces);
  let mut sock_ref = sock;
  // The reader has made room at least once during this write.
  let mut reading = false;
  while !cursor.is_empty() {
    match sock_ref.write_vectored(&cursor.slices()) {
      Ok(0) => break,
      Ok(n) => cursor.advance(n),
      Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
      Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
        match patience.stall_for(reading, started.elapsed()) {
          Some(stall) if wait_for_room(sock.as_raw_fd(), stall) => reading = true,
          _ => break,
        }
      }
      Err(_) => break,
    }
  }
  if cursor.is_empty() {
    Vec::new()
  } else {
    cursor.rest()
  }
}

/// Waits up to `timeout` for the socket to take more; false if it did not.
fn wait_for_room(fd: i32, timeout: Duration) -> bool {
  let mut p = libc::pollfd {
    fd,
    events: libc::POLLOUT,
    revents: 0,
  };
  let ms = timeout.as_micros().div_ceil(1000) as libc::c_int;
  let n = unsafe { libc::poll(&mut p, 1, ms) };
  n > 0
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::io::Read;
  use std::os::unix::net::UnixStream;

  #[test]
  fn a_reader_that_has_made_room_is_waited_for_longer_but_never_past_patience() {
    let ms = Duration::from_millis;
    let stall_for = |reading, elapsed| Patience::DEFAULT.stall_for(reading, elapsed);
    assert_eq!(stall_for(false, ms(0)), Some(STALL));
    assert_eq!(stall_for(true, ms(0)), Some(STALL_READING));
    assert!(STALL_READING > STALL);
    assert_eq!(stall_for(true, PATIENCE - ms(3)), Some(ms(3)));
    assert_eq!(
      stall_for(false, PATIENCE - Duration::from_micros(500)),
      Some(Duration::from_micros(500))
    );
    assert_eq!(stall_for(true, PATIENCE), None);
    assert_eq!(stall_for(false, PATIENCE + ms(1)), None);
  }

  #[test]
  fn a_cursor_hands_out_what_is_left_however_writes_are_cut() {
    let a: Vec<u8> = (0..10).collect();
    let b: Vec<u8> = (10..13).collect();
    let pieces: [&[u8]; 4] = [&a, &[], &b, &[13]];
    let all: Vec<u8> = (0..14).collect();
    for step in 1..15 {
      let mut c = Cursor::new(&pieces);
      let mut got = Vec::new();
      while !c.is_empty() {
        assert_eq!(c.rest(), all[got.len()..], "rest after {} bytes", got.len());
        let mut budget = step;
        let mut took = 0;
        for s in c.slices() {
          let n = s.len().min(budget);
          got.extend_from_slice(&s[..n]);
          took += n;
          budget -= n;
        }
        c.advance(took);
      }
      assert_eq!(got, all, "writes of {step}");
      assert!(c.rest().is_empty());
    }
    assert!(Cursor::new(&[&[], &[]]).is_empty());
  }

  fn pair() -> (UnixStream, UnixStream) {
    let (a, b) = UnixStream::pair().unwrap();
    a.set_nonblocking(true).unwrap();
    (a, b)
  }

  #[test]
  fn while_the_reader_reads_everything_is_written_from_where_it_is() {
    let (a, mut b) = pair();
    let big: Vec<u8> = (0..8 << 20).map(|i| (i * 7) as u8).collect();
    let reader = std::thread::spawn(move || {
      let mut got = Vec::new();
      b.read_to_end(&mut got).unwrap();
      got
    });
    // Waits long enough that a reader thread still starting, or descheduled on a loaded
    // machine, is waited for: what is tested is where the bytes are written from, not the
    // give-up policy.
    let patient = Patience {
      stall: Duration::from_secs(10),
      stall_reading: Duration::from_secs(10),
      total: Duration::from_secs(30),
    };
    let rest = write_through_within(&a, &[b"head", &big, b"tail"], patient);
    assert!(rest.is_empty(), "{} bytes left", rest.len());
    drop(a);
    let got = reader.join().unwrap();
    assert_eq!(got.len(), big.len() + 8);
    assert!(got[..4] == *b"head" && got[4..4 + big.len()] == big[..] && got.ends_with(b"tail"));
  }

  #[test]
  fn when_nobody_reads_the_rest_is_copied_after_a_short_wait() {
    let (a, mut b) = pair();
    let big: Vec<u8> = (0..8 << 20).map(|i| (i * 13) as u8).collect();
    let started = Instant::now();
    let rest = write_through(&a, &[b"head", &big]);
    assert!(started.elapsed() < PATIENCE * 5, "bounded");
    assert!(!rest.is_empty() && rest.len() < big.len());
    // what was written and the copy of the rest are the message, in order
    let written = big.len() + 4 - rest.len();
    let mut got = vec![0u8; written];
    b.read_exact(&mut got).unwrap();
    got.extend_from_slice(&rest);
    assert!(got[..4] == *b"head" && got[4..] == big[..]);
  }

  #[test]
  fn a_broken_socket_stops_the_write_with_the_rest_copied() {
    let (a, b) = pair();
    drop(b);
    let rest = write_through(&a, &[b"abc", b"def"]);
    assert_eq!(rest, b"abcdef");
  }
}
