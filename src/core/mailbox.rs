//! A JS thread's inbox: the ordered queue of messages it has to dispatch, and whether a wake-up
//! is already on its way. One wake-up per batch: only the push that finds the mailbox idle asks
//! for one, and the mailbox goes idle again only when a drain finds it empty.

use std::collections::VecDeque;

use super::envelope::Envelope;

#[derive(Debug, Default)]
pub struct Mailbox {
  /// Messages for the main side hosted here (`ipcMain` and `webContents.ipc`).
  to_main: VecDeque<(u64, Envelope)>,
  /// Messages for renderers whose JS runs on this thread.
  to_renderers: VecDeque<(u64, Envelope)>,
  /// Arrival order across both queues.
  seq: u64,
  /// A drain is scheduled or running.
  scheduled: bool,
}

impl Mailbox {
  /// Queues a message. Returns true when the thread must be woken (the mailbox was idle).
  pub fn push(&mut self, envelope: Envelope) -> bool {
    self.seq += 1;
    let entry = (self.seq, envelope);
    if entry.1.kind.is_main_bound() {
      self.to_main.push_back(entry);
    } else {
      self.to_renderers.push_back(entry);
    }
    !std::mem::replace(&mut self.scheduled, true)
  }

  /// Takes the oldest message. On an empty mailbox, goes idle: the next push will wake.
  pub fn pop(&mut self) -> Option<Envelope> {
    let take_main = match (self.to_main.front(), self.to_renderers.front()) {
      (Some((a, _)), Some((b, _))) => a < b,
      (Some(_), None) => true,
      (None, Some(_)) => false,
      (None, None) => {
        self.scheduled = false;
        return None;
      }
    };
    let queue = if take_main {
      &mut self.to_main
    } else {
      &mut self.to_renderers
    };
    queue.pop_front().map(|(_, e)| e)
  }

  /// The message `pop` would take next.
  pub fn peek(&self) -> Option<&Envelope> {
    match (self.to_main.front(), self.to_renderers.front()) {
      (Some((a, m)), Some((b, r))) => Some(if a < b { m } else { r }),
      (Some((_, m)), None) => Some(m),
      (None, Some((_, r))) => Some(r),
      (None, None) => None,
    }
  }

  /// Takes the oldest main-bound message, leaving renderer-bound ones queued: an in-process
  /// `sendSync` delivers what came before it to main, while its own renderer stays "blocked".
  pub fn pop_main(&mut self) -> Option<Envelope> {
    self.to_main.pop_front().map(|(_, e)| e)
  }

  /// Drops queued messages the predicate rejects (e.g. messages to a destroyed renderer).
  pub fn retain(&mut self, mut keep: impl FnMut(&Envelope) -> bool) {
    self.to_main.retain(|(_, e)| keep(e));
    self.to_renderers.retain(|(_, e)| keep(e));
  }

  /// Nobody could be woken for the push that just scheduled the mailbox: back to idle, so the
  /// next push (or whoever installs a waker) asks for a drain.
  pub fn unschedule(&mut self) {
    self.scheduled = false;
  }

  /// Marks a mailbox with messages scheduled (again); true if a drain is now owed.
  pub fn reschedule(&mut self) -> bool {
    if self.is_empty() {
      return false;
    }
    self.scheduled = true;
    true
  }

  /// A drain is scheduled or running: the thread will look at this mailbox again by itself.
  pub fn is_scheduled(&self) -> bool {
    self.scheduled
  }

  pub fn is_empty(&self) -> bool {
    self.to_main.is_empty() && self.to_renderers.is_empty()
  }

  pub fn len(&self) -> usize {
    self.to_main.len() + self.to_renderers.len()
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use crate::core::envelope::Kind;

  fn msg(kind: Kind, n: u32) -> Envelope {
    Envelope::new(kind, n, 1, vec![n as u8])
  }

  #[test]
  fn only_the_first_push_of_a_batch_wakes() {
    let mut m = Mailbox::default();
    assert!(m.push(msg(Kind::Send, 1)));
    assert!(!m.push(msg(Kind::Send, 2)));
    assert!(!m.push(msg(Kind::Message, 3)));
    assert_eq!(m.pop().unwrap().renderer, 1);
    // still scheduled while not empty: no new wake
    assert!(!m.push(msg(Kind::Send, 4)));
    while m.pop().is_some() {}
    // drained to empty: idle, so the next push wakes again
    assert!(m.push(msg(Kind::Send, 5)));
  }

  #[test]
  fn pop_keeps_arrival_order_across_directions() {
    let mut m = Mailbox::default();
    let kinds = [
      Kind::Send,
      Kind::Message,
      Kind::Sync,
      Kind::InvokeReply,
      Kind::Invoke,
    ];
    for (i, k) in kinds.iter().enumerate() {
      m.push(msg(*k, i as u32));
    }
    let order: Vec<u32> = std::iter::from_fn(|| m.pop()).map(|e| e.renderer).collect();
    assert_eq!(order, vec![0, 1, 2, 3, 4]);
  }

  #[test]
  fn pop_main_skips_renderer_bound_messages_without_losing_them() {
    let mut m = Mailbox::default();
    m.push(msg(Kind::Message, 1));
    m.push(msg(Kind::Send, 2));
    m.push(msg(Kind::Message, 3));
    m.push(msg(Kind::Sync, 4));
    assert_eq!(m.pop_main().unwrap().renderer, 2);
    assert_eq!(m.pop_main().unwrap().renderer, 4);
    assert!(m.pop_main().is_none());
    assert_eq!(m.len(), 2);
    // pop_main on an exhausted main queue must not make the mailbox idle
    assert!(!m.push(msg(Kind::Send, 5)));
    let order: Vec<u32> = std::iter::from_fn(|| m.pop()).map(|e| e.renderer).collect();
    assert_eq!(order, vec![1, 3, 5]);
  }

  #[test]
  fn peek_shows_what_pop_takes() {
    let mut m = Mailbox::default();
    assert!(m.peek().is_none());
    m.push(msg(Kind::Message, 1));
    m.push(msg(Kind::Send, 2));
    while let Some(seen) = m.peek().map(|e| e.renderer) {
      assert_eq!(m.pop().unwrap().renderer, seen);
    }
  }

  #[test]
  fn retain_drops_only_rejected_messages() {
    let mut m = Mailbox::default();
    for i in 0..6 {
      m.push(msg(
        if i % 2 == 0 {
          Kind::Send
        } else {
          Kind::Message
        },
        i,
      ));
    }
    m.retain(|e| e.renderer % 3 != 0);
    let order: Vec<u32> = std::iter::from_fn(|| m.pop()).map(|e| e.renderer).collect();
    assert_eq!(order, vec![1, 2, 4, 5]);
    assert!(m.is_empty());
  }
}
