//! A message's bytes. Most messages are a few bytes (a number, a short string): those are kept
//! inside the envelope, so a burst of them allocates nothing per message (measured: a malloc and
//! a free were about a tenth of what main spent on each small message from a renderer process).

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use super::spliced::Spliced;

/// Payloads up to this many bytes are kept inline.
pub const INLINE: usize = 22;

/// The structured clone of a message. Reads as a byte slice.
#[derive(Clone)]
pub struct Payload(Repr);

#[derive(Clone)]
enum Repr {
  Inline {
    len: u8,
    bytes: [u8; INLINE],
  },
  Heap(Vec<u8>),
  /// Large parts still in the sender's memory, for the call that sends it (see spliced.rs).
  Spliced(Arc<Spliced>),
}

impl Payload {
  /// A copy of `bytes`: inline when short, on the heap otherwise.
  pub fn from_slice(bytes: &[u8]) -> Payload {
    if bytes.len() <= INLINE {
      let mut inline = [0u8; INLINE];
      inline[..bytes.len()].copy_from_slice(bytes);
      Payload(Repr::Inline {
        len: bytes.len() as u8,
        bytes: inline,
      })
    } else {
      Payload(Repr::Heap(super::bytes::copy_of(bytes)))
    }
  }

  /// The bytes as a Vec: moved when on the heap, copied when inline.
  pub fn into_vec(self) -> Vec<u8> {
    match self.0 {
      Repr::Inline { len, bytes } => bytes[..len as usize].to_vec(),
      Repr::Heap(v) => v,
      Repr::Spliced(s) => match Arc::try_unwrap(s) {
        Ok(s) => s.into_bytes(),
        Err(s) => s.to_vec(),
      },
    }
  }

  /// The same bytes, held by this payload alone: a spliced one is copied out of the sender's
  /// memory now (once), for a queue that keeps it past the sending call.
  pub fn owned(self) -> Payload {
    match self.0 {
      Repr::Spliced(_) => Payload::from(self.into_vec()),
      repr => Payload(repr),
    }
  }

  /// The length, without joining a spliced payload.
  pub fn len(&self) -> usize {
    match &self.0 {
      Repr::Inline { len, .. } => *len as usize,
      Repr::Heap(v) => v.len(),
      Repr::Spliced(s) => s.len(),
    }
  }

  pub fn is_empty(&self) -> bool {
    self.len() == 0
  }

  /// The parts of a spliced payload, to be written where they are.
  pub fn spliced(&self) -> Option<&Spliced> {
    match &self.0 {
      Repr::Spliced(s) => Some(s),
      _ => None,
    }
  }

  pub fn is_inline(&self) -> bool {
    matches!(self.0, Repr::Inline { .. })
  }
}

impl Default for Payload {
  fn default() -> Self {
    Payload(Repr::Inline {
      len: 0,
      bytes: [0; INLINE],
    })
  }
}

impl Deref for Payload {
  type Target = [u8];

  fn deref(&self) -> &[u8] {
    match &self.0 {
      Repr::Inline { len, bytes } => &bytes[..*len as usize],
      Repr::Heap(v) => v,
      Repr::Spliced(s) => s.bytes(),
    }
  }
}

impl From<Arc<Spliced>> for Payload {
  fn from(s: Arc<Spliced>) -> Self {
    Payload(Repr::Spliced(s))
  }
}

/// Takes the Vec as it is (a large payload is never copied).
impl From<Vec<u8>> for Payload {
  fn from(v: Vec<u8>) -> Self {
    Payload(Repr::Heap(v))
  }
}

impl fmt::Debug for Payload {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    (**self).fmt(f)
  }
}

/// Equal bytes, wherever they are kept.
impl PartialEq for Payload {
  fn eq(&self, other: &Self) -> bool {
    **self == **other
  }
}

impl Eq for Payload {}

impl PartialEq<Vec<u8>> for Payload {
  fn eq(&self, other: &Vec<u8>) -> bool {
    **self == **other
  }
}

impl PartialEq<[u8]> for Payload {
  fn eq(&self, other: &[u8]) -> bool {
    **self == *other
  }
}

impl<const N: usize> PartialEq<[u8; N]> for Payload {
  fn eq(&self, other: &[u8; N]) -> bool {
    **self == other[..]
  }
}

impl<const N: usize> PartialEq<&[u8; N]> for Payload {
  fn eq(&self, other: &&[u8; N]) -> bool {
    **self == other[..]
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn short_payloads_are_inline_longer_ones_on_the_heap_and_all_read_the_same() {
    for n in [0, 1, INLINE - 1, INLINE, INLINE + 1, 1000] {
      let bytes: Vec<u8> = (0..n).map(|i| i as u8 ^ 0x5a).collect();
      let p = Payload::from_slice(&bytes);
      assert_eq!(p.is_inline(), n <= INLINE, "{n} bytes");
      assert_eq!(&*p, &bytes[..]);
      assert_eq!(p, bytes);
      assert_eq!(p.clone().into_vec(), bytes);
      assert_eq!(Payload::from(bytes.clone()), p, "equal wherever kept");
    }
    assert!(Payload::default().is_empty());
  }

  #[test]
  fn a_vec_is_taken_as_it_is() {
    let v = vec![7u8; 1 << 16];
    let at = v.as_ptr();
    let p = Payload::from(v);
    assert_eq!(p.as_ptr(), at);
    let back = p.into_vec();
    assert_eq!(back.as_ptr(), at);
  }
}
