//! Requests waiting for an answer: every `sendSync` and `invoke` from the moment it is sent until
//! it is answered, or until its renderer or its main side goes away.

use rustc_hash::FxHashMap as HashMap;

use super::envelope::{ChannelId, EndpointId, RendererId, RequestId};
use super::waiter::Reply;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Wait {
  /// An in-process `sendSync`: the listeners run inline; the answer is parked here until the
  /// caller takes it. `closed` once dispatch finished: later `returnValue`s are ignored.
  Inline { answer: Option<Reply>, closed: bool },
  /// A `sendSync` from a thread blocked on its renderer's waiter.
  Blocking,
  /// An `invoke`: answered with an `InvokeReply` message to the renderer.
  Invoke,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
  pub renderer: RendererId,
  /// The main side that owes the answer.
  pub hub: EndpointId,
  pub channel: ChannelId,
  /// The id the requester knows this request by (its own id for local renderers; the remote
  /// process's id for renderers behind a connection). Replies carry this one.
  pub their: RequestId,
  pub wait: Wait,
}

#[derive(Debug, Default)]
pub struct PendingTable {
  next: RequestId,
  entries: HashMap<RequestId, Pending>,
}

impl PendingTable {
  pub fn open(&mut self, pending: Pending) -> RequestId {
    self.next += 1;
    self.entries.insert(self.next, pending);
    self.next
  }

  pub fn get(&self, request: RequestId) -> Option<&Pending> {
    self.entries.get(&request)
  }

  pub fn get_mut(&mut self, request: RequestId) -> Option<&mut Pending> {
    self.entries.get_mut(&request)
  }

  pub fn remove(&mut self, request: RequestId) -> Option<Pending> {
    self.entries.remove(&request)
  }

  /// Puts back an entry taken with `remove`, under its old id.
  pub fn reopen(&mut self, request: RequestId, pending: Pending) {
    self.entries.insert(request, pending);
  }

  pub fn count_where(&self, mut pred: impl FnMut(&Pending) -> bool) -> usize {
    self.entries.values().filter(|p| pred(p)).count()
  }

  /// Removes and returns every request matching `pred`, oldest first.
  pub fn drain_where(
    &mut self,
    mut pred: impl FnMut(&Pending) -> bool,
  ) -> Vec<(RequestId, Pending)> {
    let ids: Vec<RequestId> = self
      .entries
      .iter()
      .filter(|(_, p)| pred(p))
      .map(|(id, _)| *id)
      .collect();
    let mut out: Vec<(RequestId, Pending)> = ids
      .into_iter()
      .filter_map(|id| self.entries.remove(&id).map(|p| (id, p)))
      .collect();
    out.sort_by_key(|(id, _)| *id);
    out
  }

  pub fn len(&self) -> usize {
    self.entries.len()
  }

  pub fn is_empty(&self) -> bool {
    self.entries.is_empty()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  fn invoke(renderer: RendererId, hub: EndpointId) -> Pending {
    Pending {
      renderer,
      hub,
      channel: 5,
      their: 0,
      wait: Wait::Invoke,
    }
  }

  #[test]
  fn ids_are_unique_and_increasing() {
    let mut t = PendingTable::default();
    let a = t.open(invoke(1, 1));
    let b = t.open(invoke(1, 1));
    assert!(b > a && a > 0);
    assert_eq!(t.len(), 2);
    t.remove(a);
    let c = t.open(invoke(1, 1));
    assert!(c > b, "ids are never reused");
  }

  #[test]
  fn drain_where_takes_only_the_matching_entries_in_order() {
    let mut t = PendingTable::default();
    let ids: Vec<_> = (0..6).map(|i| t.open(invoke(i % 2, 1))).collect();
    let gone = t.drain_where(|p| p.renderer == 1);
    assert_eq!(
      gone.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
      vec![ids[1], ids[3], ids[5]]
    );
    assert_eq!(t.len(), 3);
    assert!(t.get(ids[0]).is_some());
    assert!(t.get(ids[1]).is_none());
  }
}
