//! Bytes waiting to be written to a connection: small frames coalesced into one buffer, a large
//! payload kept as its own buffer (moved in, never copied), all written by vectored writes.

use std::collections::VecDeque;
use std::io::IoSlice;

use super::frame;
use crate::core::link_batch::LinkBatch;
use crate::core::Envelope;

/// Payloads at least this long travel in their own buffer instead of being copied.
pub const OWN_BUFFER: usize = 64 * 1024;
/// Buffers handed to one vectored write at most.
const MAX_SLICES: usize = 64;
/// A written buffer of small frames up to this size is kept for the next ones.
const KEEP_BUFFER: usize = 1 << 20;

#[derive(Debug)]
struct Chunk {
  bytes: Vec<u8>,
  /// Small frames may still be appended (not a payload moved in whole).
  open: bool,
}

#[derive(Debug, Default)]
pub struct Outgoing {
  chunks: VecDeque<Chunk>,
  /// Bytes of the first chunk already written.
  written: usize,
  /// A written buffer of small frames, emptied, for the next `tail`: no allocation per write.
  recycled: Vec<u8>,
}

impl Outgoing {
  pub fn is_empty(&self) -> bool {
    self.chunks.is_empty()
  }

  /// Bytes still to write.
  pub fn len(&self) -> usize {
    self.chunks.iter().map(|c| c.bytes.len()).sum::<usize>() - self.written
  }

  /// The buffer small frames are appended to.
  pub fn tail(&mut self) -> &mut Vec<u8> {
    if !self.chunks.back().is_some_and(|c| c.open) {
      self.chunks.push_back(Chunk {
        bytes: std::mem::take(&mut self.recycled),
        open: true,
      });
    }
    &mut self.chunks.back_mut().expect("just made sure").bytes
  }

  /// Appends a routed message; a large payload is moved, not copied.
  pub fn push_envelope(&mut self, mut env: Envelope, channel: &str) {
    // A payload still in the sender's memory is copied first: should that fail, nothing of the
    // frame has been appended.
    env.payload = env.payload.owned();
    let out = self.tail();
    frame::encode_envelope_head(out, &env, channel);
    if env.payload.len() < OWN_BUFFER {
      out.extend_from_slice(&env.payload);
    } else {
      self.chunks.push_back(Chunk {
        bytes: env.payload.into_vec(),
        open: false,
      });
    }
  }

  /// Appends bytes that are already framed, in a buffer of their own.
  pub fn push_bytes(&mut self, bytes: Vec<u8>) {
    if !bytes.is_empty() {
      self.chunks.push_back(Chunk { bytes, open: false });
    }
  }

  /// Appends one-way messages (small payloads: staged sends), framed in one go.
  pub fn push_batch(&mut self, batch: &LinkBatch) {
    let out = self.tail();
    out.reserve(batch.len() * (frame::PREFIX + frame::HEADER) + batch.payload_bytes());
    for (kind, renderer, channel, payload) in batch.iter() {
      frame::encode(out, kind as u8, 0, renderer, 0, channel, payload);
    }
  }

  /// What to hand to the next vectored write, in order.
  pub fn slices(&self) -> Vec<IoSlice<'_>> {
    self
      .chunks
      .iter()
      .take(MAX_SLICES)
      .enumerate()
      .map(|(i, c)| {
        IoSlice::new(if i == 0 {
          &c.bytes[self.written..]
        } else {
          &c.bytes
        })
      })
      .collect()
  }

  /// `n` bytes were written.
  pub fn advance(&mut self, mut n: usize) {
    while n > 0 {
      let first = self.chunks.front().expect("advanced past the end");
      let left = first.bytes.len() - self.written;
      if n < left {
        self.written += n;
        return;
      }
      n -= left;
      let done = self.chunks.pop_front().expect("checked");
      if done.open && done.bytes.capacity() <= KEEP_BUFFER {
        self.recycled = done.bytes;
        self.recycled.clear();
      }
      self.written = 0;
    }
  }

  /// Puts `later` after what is here.
  pub fn append(&mut self, later: Outgoing) {
    debug_assert_eq!(
      later.written, 0,
      "only a queue nobody wrote from comes later"
    );
    self.chunks.extend(later.chunks);
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::Kind;

  fn flatten(out: &mut Outgoing, step: usize) -> Vec<u8> {
    let mut all = Vec::new();
    while !out.is_empty() {
      let mut budget = step;
      let mut took = 0;
      for s in out.slices() {
        let n = s.len().min(budget);
        all.extend_from_slice(&s[..n]);
        took += n;
        budget -= n;
        if budget == 0 {
          break;
        }
      }
      out.advance(took);
    }
    all
  }

  #[test]
  fn frames_come_out_in_order_however_the_writes_are_cut() {
    let big: Vec<u8> = (0..OWN_BUFFER * 3).map(|i| i as u8).collect();
    let messages = [
      Envelope::new(Kind::Send, 1, 0, b"a".to_vec()),
      Envelope::new(Kind::Invoke, 2, 0, big.clone()).request(9),
      Envelope::new(Kind::Send, 3, 0, b"c".to_vec()),
    ];
    let mut expected = Vec::new();
    for e in &messages {
      frame::encode_envelope(&mut expected, e, "ch");
    }
    for step in [1, 7, 4096, OWN_BUFFER + 5, usize::MAX] {
      let mut out = Outgoing::default();
      out.push_envelope(messages[0].clone(), "ch");
      out.push_envelope(messages[1].clone(), "ch");
      // small bytes after a large payload do not go into its buffer
      out.push_envelope(messages[2].clone(), "ch");
      assert_eq!(out.len(), expected.len());
      assert_eq!(flatten(&mut out, step), expected, "writes of {step}");
    }
  }

  #[test]
  fn a_batch_is_framed_as_its_messages_one_by_one_would_be() {
    let mut batch = LinkBatch::default();
    batch.push(Kind::Send, 4, "a", b"x");
    batch.push(Kind::Post, 4, "канал", &[]);
    batch.push(Kind::Send, 5, "", &[7; 300]);
    let mut expected = Vec::new();
    for (kind, renderer, channel, payload) in batch.iter() {
      let env = Envelope::new(kind, renderer, 0, payload.to_vec());
      frame::encode_envelope(&mut expected, &env, channel);
    }
    let mut out = Outgoing::default();
    out.push_envelope(Envelope::new(Kind::Send, 1, 0, b"first".to_vec()), "z");
    out.push_batch(&batch);
    let mut first = Vec::new();
    frame::encode_envelope(
      &mut first,
      &Envelope::new(Kind::Send, 1, 0, b"first".to_vec()),
      "z",
    );
    first.extend_from_slice(&expected);
    assert_eq!(flatten(&mut out, 13), first);
  }

  #[test]
  fn a_spliced_payload_queued_is_framed_as_its_bytes_would_be() {
    use crate::core::spliced::{Part, Spliced};
    let big = vec![9u8; OWN_BUFFER];
    let part = Part {
      at: 1,
      ptr: big.as_ptr(),
      len: big.len(),
    };
    let (spliced, guard) = unsafe { Spliced::borrow(vec![1, 2], vec![part]) }.unwrap();
    let mut out = Outgoing::default();
    out.push_envelope(Envelope::new(Kind::Send, 1, 0, spliced), "ch");
    drop(guard);
    let whole = [&[1u8][..], &big, &[2]].concat();
    let mut expected = Vec::new();
    frame::encode_envelope(&mut expected, &Envelope::new(Kind::Send, 1, 0, whole), "ch");
    assert_eq!(flatten(&mut out, 4096), expected);
  }

  #[test]
  fn a_large_payload_is_moved_not_copied() {
    let big = vec![7u8; OWN_BUFFER];
    let at = big.as_ptr();
    let mut out = Outgoing::default();
    out.push_envelope(Envelope::new(Kind::Send, 1, 0, big), "ch");
    let slices = out.slices();
    assert_eq!(slices.len(), 2, "header, then the payload's own buffer");
    assert_eq!(slices[1].as_ptr(), at);
  }

  #[test]
  fn a_written_buffer_of_small_frames_serves_the_next_ones() {
    let mut out = Outgoing::default();
    out.tail().extend_from_slice(&[1; 100]);
    let at = out.slices()[0].as_ptr();
    out.advance(100);
    assert!(out.is_empty());
    out.tail().push(2);
    assert_eq!(out.slices()[0].as_ptr(), at, "the same allocation");
    assert_eq!(flatten(&mut out, usize::MAX), [2]);
    // a payload moved in whole goes back to its owner's allocator, not here
    out.push_envelope(Envelope::new(Kind::Send, 1, 0, vec![3; OWN_BUFFER]), "ch");
    let payload_at = out.slices()[1].as_ptr();
    flatten(&mut out, usize::MAX);
    assert_ne!(out.tail().as_ptr(), payload_at);
  }

  #[test]
  fn the_rest_of_a_partial_write_stays_ahead_of_what_came_later() {
    let mut first = Outgoing::default();
    first.tail().extend_from_slice(b"hello ");
    first.advance(2);
    let mut later = Outgoing::default();
    later.tail().extend_from_slice(b"world");
    first.append(later);
    assert_eq!(flatten(&mut first, usize::MAX), b"llo world");
  }
}
