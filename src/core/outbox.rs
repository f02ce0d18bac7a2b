//! The outbox: one-way messages of in-process renderers, staged by JS and handed to the core
//! in one call per batch.
//!
//! A renderer on main's own thread cannot be read before that thread's next drain anyway, so its
//! `send`s are written into one buffer per thread and routed together (one call, one lock)
//! instead of one call each. JS hands the outbox over before anything else reaches the core
//! from that thread, so the core sees every message in the order it was sent.
//!
//! Layout, all `u32` words in native byte order (JS writes them through a `Uint32Array`): `renderer`, `kind`, `channel`, `len`, then `len`
//! payload bytes padded to a multiple of 4.

use super::envelope::{ChannelId, Kind, RendererId};

pub const ENTRY_HEADER: usize = 16;

/// One staged message.
#[derive(Debug, PartialEq, Eq)]
pub struct Staged<'a> {
  pub renderer: RendererId,
  pub kind: Kind,
  pub channel: ChannelId,
  pub payload: &'a [u8],
}

/// Why a staged buffer could not be read to its end.
#[derive(Debug, PartialEq, Eq)]
pub enum OutboxError {
  /// An entry's header or payload runs past the end of the buffer.
  Truncated { at: usize },
  /// An entry's kind is not a one-way message (`send` or `postMessage`).
  BadKind { at: usize, kind: u32 },
}

/// The staged messages of `bytes`, in order; stops at the first malformed entry.
pub struct Entries<'a> {
  bytes: &'a [u8],
  at: usize,
  failed: bool,
}

pub fn entries(bytes: &[u8]) -> Entries<'_> {
  Entries {
    bytes,
    at: 0,
    failed: false,
  }
}

fn word(bytes: &[u8], at: usize) -> u32 {
  u32::from_ne_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

impl<'a> Iterator for Entries<'a> {
  type Item = Result<Staged<'a>, OutboxError>;

  fn next(&mut self) -> Option<Self::Item> {
    if self.failed || self.at >= self.bytes.len() {
      return None;
    }
    let at = self.at;
    let fail = |this: &mut Self, e| {
      this.failed = true;
      Some(Err(e))
    };
    if self.bytes.len() - at < ENTRY_HEADER {
      return fail(self, OutboxError::Truncated { at });
    }
    let kind_word = word(self.bytes, at + 4);
    let kind = match Kind::from_u8(kind_word as u8) {
      Some(k @ (Kind::Send | Kind::Post)) if kind_word <= 0xff => k,
      _ => {
        return fail(
          self,
          OutboxError::BadKind {
            at,
            kind: kind_word,
          },
        )
      }
    };
    let len = word(self.bytes, at + 12) as usize;
    let start = at + ENTRY_HEADER;
    let padded = len.checked_add(3).map(|n| n & !3);
    let end = match padded.and_then(|p| start.checked_add(p)) {
      Some(end) if end <= self.bytes.len() => end,
      _ => return fail(self, OutboxError::Truncated { at }),
    };
    self.at = end;
    Some(Ok(Staged {
      renderer: word(self.bytes, at),
      kind,
      channel: word(self.bytes, at + 8),
      payload: &self.bytes[start..start + len],
    }))
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn stage(out: &mut Vec<u8>, renderer: u32, kind: u32, channel: u32, payload: &[u8]) {
    for w in [renderer, kind, channel, payload.len() as u32] {
      out.extend_from_slice(&w.to_ne_bytes());
    }
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(4), 0xee);
  }

  #[test]
  fn reads_entries_in_order_with_padding() {
    let mut out = Vec::new();
    stage(&mut out, 7, 1, 3, b"abcde");
    stage(&mut out, 8, 2, 4, b"");
    stage(&mut out, 7, 1, 3, b"wxyz");
    let got: Vec<_> = entries(&out).collect::<Result<_, _>>().unwrap();
    assert_eq!(
      got,
      vec![
        Staged {
          renderer: 7,
          kind: Kind::Send,
          channel: 3,
          payload: b"abcde"
        },
        Staged {
          renderer: 8,
          kind: Kind::Post,
          channel: 4,
          payload: b""
        },
        Staged {
          renderer: 7,
          kind: Kind::Send,
          channel: 3,
          payload: b"wxyz"
        },
      ]
    );
  }

  #[test]
  fn an_empty_outbox_has_no_entries() {
    assert_eq!(entries(&[]).count(), 0);
  }

  #[test]
  fn a_truncated_entry_ends_the_batch_after_the_good_ones() {
    let mut out = Vec::new();
    stage(&mut out, 1, 1, 1, b"ok");
    let good = out.len();
    stage(&mut out, 1, 1, 1, b"too long");
    out.truncate(out.len() - 4);
    let got: Vec<_> = entries(&out).collect();
    assert_eq!(got.len(), 2);
    assert!(got[0].is_ok());
    assert_eq!(got[1], Err(OutboxError::Truncated { at: good }));

    // A header cut short, and a length that would overflow.
    assert_eq!(
      entries(&out[..good + 5]).nth(1),
      Some(Err(OutboxError::Truncated { at: good }))
    );
    let mut huge = Vec::new();
    for w in [1u32, 1, 1, u32::MAX] {
      huge.extend_from_slice(&w.to_ne_bytes());
    }
    assert_eq!(
      entries(&huge).next(),
      Some(Err(OutboxError::Truncated { at: 0 }))
    );
  }

  #[test]
  fn only_one_way_kinds_are_staged() {
    for kind in [0u32, 3, 4, 5, 6, 0x101] {
      let mut out = Vec::new();
      stage(&mut out, 1, kind, 1, b"x");
      assert_eq!(
        entries(&out).next(),
        Some(Err(OutboxError::BadKind { at: 0, kind })),
        "kind {kind}"
      );
      assert_eq!(entries(&out).count(), 1, "nothing after a bad entry");
    }
  }
}
