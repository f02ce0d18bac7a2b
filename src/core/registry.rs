//! Who listens where: which channels have listeners on `ipcMain`, on each `webContents.ipc` and
//! as `WebContents` events, and which have an invoke handler. JS keeps it current as listeners
//! and handlers come and go; the router reads it to route each message when it is dispatched.

use rustc_hash::FxHashSet as HashSet;

use super::envelope::{ChannelId, EndpointId, RendererId};

/// An emitter that can receive a renderer's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
  /// `ipcMain` of the main side hosted by this endpoint.
  Main(EndpointId),
  /// `webContents.ipc` of one renderer.
  ContentsIpc(RendererId),
  /// The `WebContents` itself (its `ipc-message` and `ipc-message-sync` events).
  ContentsEvents(RendererId),
}

impl Scope {
  fn renderer(self) -> Option<RendererId> {
    match self {
      Scope::Main(_) => None,
      Scope::ContentsIpc(r) | Scope::ContentsEvents(r) => Some(r),
    }
  }

  fn endpoint(self) -> Option<EndpointId> {
    match self {
      Scope::Main(e) => Some(e),
      _ => None,
    }
  }
}

#[derive(Debug, Default)]
pub struct Registry {
  listening: HashSet<(Scope, ChannelId)>,
  handlers: HashSet<(Scope, ChannelId)>,
}

impl Registry {
  pub fn set_listening(&mut self, scope: Scope, channel: ChannelId, on: bool) {
    if on {
      self.listening.insert((scope, channel));
    } else {
      self.listening.remove(&(scope, channel));
    }
  }

  pub fn listening(&self, scope: Scope, channel: ChannelId) -> bool {
    self.listening.contains(&(scope, channel))
  }

  pub fn set_handler(&mut self, scope: Scope, channel: ChannelId, on: bool) {
    if on {
      self.handlers.insert((scope, channel));
    } else {
      self.handlers.remove(&(scope, channel));
    }
  }

  pub fn has_handler(&self, scope: Scope, channel: ChannelId) -> bool {
    self.handlers.contains(&(scope, channel))
  }

  /// Drops every entry of one scope (e.g. `removeAllListeners()` with no channel).
  pub fn clear_scope(&mut self, scope: Scope, handlers_too: bool) {
    self.listening.retain(|(s, _)| *s != scope);
    if handlers_too {
      self.handlers.retain(|(s, _)| *s != scope);
    }
  }

  /// Forgets everything about a renderer that is gone.
  pub fn forget_renderer(&mut self, renderer: RendererId) {
    self
      .listening
      .retain(|(s, _)| s.renderer() != Some(renderer));
    self
      .handlers
      .retain(|(s, _)| s.renderer() != Some(renderer));
  }

  /// Forgets everything about a main side that is gone.
  pub fn forget_endpoint(&mut self, endpoint: EndpointId) {
    self
      .listening
      .retain(|(s, _)| s.endpoint() != Some(endpoint));
    self
      .handlers
      .retain(|(s, _)| s.endpoint() != Some(endpoint));
  }

  #[cfg(test)]
  fn entries(&self) -> usize {
    self.listening.len() + self.handlers.len()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn listening_follows_the_last_report() {
    let mut r = Registry::default();
    let s = Scope::Main(1);
    assert!(!r.listening(s, 10));
    r.set_listening(s, 10, true);
    r.set_listening(s, 10, true);
    assert!(r.listening(s, 10));
    r.set_listening(s, 10, false);
    assert!(!r.listening(s, 10));
  }

  #[test]
  fn scopes_are_independent() {
    let mut r = Registry::default();
    r.set_listening(Scope::ContentsIpc(7), 10, true);
    assert!(!r.listening(Scope::Main(1), 10));
    assert!(!r.listening(Scope::ContentsEvents(7), 10));
    assert!(!r.listening(Scope::ContentsIpc(8), 10));
    r.set_handler(Scope::Main(1), 10, true);
    assert!(r.has_handler(Scope::Main(1), 10));
    assert!(!r.has_handler(Scope::ContentsIpc(7), 10));
  }

  #[test]
  fn clearing_a_scope_keeps_its_handlers_unless_asked() {
    let mut r = Registry::default();
    r.set_listening(Scope::Main(1), 10, true);
    r.set_listening(Scope::Main(1), 11, true);
    r.set_listening(Scope::Main(2), 10, true);
    r.set_handler(Scope::Main(1), 12, true);
    r.clear_scope(Scope::Main(1), false);
    assert!(!r.listening(Scope::Main(1), 10));
    assert!(!r.listening(Scope::Main(1), 11));
    assert!(r.listening(Scope::Main(2), 10));
    assert!(r.has_handler(Scope::Main(1), 12));
    r.clear_scope(Scope::Main(1), true);
    assert!(!r.has_handler(Scope::Main(1), 12));
  }

  #[test]
  fn forgetting_a_renderer_or_endpoint_removes_all_of_it() {
    let mut r = Registry::default();
    r.set_listening(Scope::ContentsIpc(7), 10, true);
    r.set_listening(Scope::ContentsEvents(7), 1, true);
    r.set_handler(Scope::ContentsIpc(7), 10, true);
    r.set_listening(Scope::Main(1), 10, true);
    r.set_handler(Scope::Main(1), 10, true);
    r.forget_renderer(7);
    assert_eq!(r.entries(), 2);
    r.forget_endpoint(1);
    assert_eq!(r.entries(), 0);
  }
}
