//! One-way messages for one connection, gathered while the core's lock is held and handed to
//! the connection in one call after it is released: their channel names side by side in one
//! string and their payloads in one buffer, so a burst of sends allocates nothing per message.

use super::envelope::{Kind, RendererId};

#[derive(Debug, Default)]
pub struct LinkBatch {
  /// Each message's kind, renderer, and where its channel name and payload end.
  entries: Vec<(Kind, RendererId, usize, usize)>,
  names: String,
  payloads: Vec<u8>,
}

impl LinkBatch {
  pub fn push(&mut self, kind: Kind, renderer: RendererId, channel: &str, payload: &[u8]) {
    self.names.push_str(channel);
    self.payloads.extend_from_slice(payload);
    self
      .entries
      .push((kind, renderer, self.names.len(), self.payloads.len()));
  }

  pub fn len(&self) -> usize {
    self.entries.len()
  }

  pub fn is_empty(&self) -> bool {
    self.entries.is_empty()
  }

  /// Bytes of payload in all.
  pub fn payload_bytes(&self) -> usize {
    self.payloads.len()
  }

  /// The messages in order: kind, renderer, channel, payload.
  pub fn iter(&self) -> impl Iterator<Item = (Kind, RendererId, &str, &[u8])> + '_ {
    let (mut name, mut payload) = (0, 0);
    self
      .entries
      .iter()
      .map(move |&(kind, renderer, name_end, payload_end)| {
        let item = (
          kind,
          renderer,
          &self.names[name..name_end],
          &self.payloads[payload..payload_end],
        );
        name = name_end;
        payload = payload_end;
        item
      })
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn messages_come_back_in_order_with_their_own_names_and_bytes() {
    let mut b = LinkBatch::default();
    assert!(b.is_empty());
    b.push(Kind::Send, 1, "a", b"xy");
    b.push(Kind::Post, 2, "", b"");
    b.push(Kind::Send, 1, "канал", &[0; 300]);
    assert_eq!(b.len(), 3);
    assert_eq!(b.payload_bytes(), 302);
    let got: Vec<_> = b.iter().collect();
    assert_eq!(got[0], (Kind::Send, 1, "a", &b"xy"[..]));
    assert_eq!(got[1], (Kind::Post, 2, "", &b""[..]));
    assert_eq!(got[2], (Kind::Send, 1, "канал", &[0u8; 300][..]));
  }
}
