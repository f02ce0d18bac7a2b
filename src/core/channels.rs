//! Channel names, interned: a message carries a small number instead of a string, and JS keeps
//! a cache from name to number, so the hot path never converts a string across napi.

use rustc_hash::FxHashMap as HashMap;

use super::envelope::ChannelId;

/// Names the router itself needs: the `WebContents` events that see every channel.
pub const IPC_MESSAGE: ChannelId = 1;
pub const IPC_MESSAGE_SYNC: ChannelId = 2;

#[derive(Debug)]
pub struct ChannelTable {
  ids: HashMap<String, ChannelId>,
  names: Vec<String>,
}

impl Default for ChannelTable {
  fn default() -> Self {
    let mut table = ChannelTable {
      ids: HashMap::default(),
      // id 0 is never handed out, so 0 can mean "no channel" on the wire and in JS.
      names: vec![String::new()],
    };
    for fixed in ["ipc-message", "ipc-message-sync"] {
      table.intern(fixed);
    }
    table
  }
}

impl ChannelTable {
  /// Like Electron, any string is a channel, whatever its length: names from other processes
  /// are bounded by the maximum frame size of their connection.
  pub fn intern(&mut self, name: &str) -> ChannelId {
    if let Some(&id) = self.ids.get(name) {
      return id;
    }
    let id = self.names.len() as ChannelId;
    self.names.push(name.to_owned());
    self.ids.insert(name.to_owned(), id);
    id
  }

  pub fn name(&self, id: ChannelId) -> Option<&str> {
    match id {
      0 => None,
      _ => self.names.get(id as usize).map(String::as_str),
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn the_same_name_gets_the_same_id() {
    let mut t = ChannelTable::default();
    let a = t.intern("ping");
    let b = t.intern("pong");
    assert_ne!(a, b);
    assert_eq!(t.intern("ping"), a);
    assert_eq!(t.name(a), Some("ping"));
    assert_eq!(t.name(b), Some("pong"));
  }

  #[test]
  fn the_webcontents_events_have_fixed_ids() {
    let mut t = ChannelTable::default();
    assert_eq!(t.intern("ipc-message"), IPC_MESSAGE);
    assert_eq!(t.intern("ipc-message-sync"), IPC_MESSAGE_SYNC);
  }

  #[test]
  fn zero_and_unknown_ids_have_no_name() {
    let t = ChannelTable::default();
    assert_eq!(t.name(0), None);
    assert_eq!(t.name(999), None);
  }

  #[test]
  fn empty_and_unicode_names_are_channels_too() {
    let mut t = ChannelTable::default();
    let e = t.intern("");
    let u = t.intern("канал-😀");
    assert_ne!(e, 0);
    assert_eq!(t.name(e), Some(""));
    assert_eq!(t.name(u), Some("канал-😀"));
  }

  #[test]
  fn long_names_are_channels_too() {
    let mut t = ChannelTable::default();
    let long = "x".repeat(1 << 20);
    let id = t.intern(&long);
    assert_eq!(t.name(id), Some(long.as_str()));
  }
}
