//! The one message type every path uses, whichever transport carried it.

use super::payload::Payload;

/// A JS thread's end of the core: its mailbox, and the main side (hub) it hosts.
pub type EndpointId = u32;
/// A `WebContents` id: unique in the process, never reused.
pub type RendererId = u32;
/// An interned channel name.
pub type ChannelId = u32;
/// A `sendSync` or `invoke` awaiting its answer. 64 bits so ids never wrap in practice.
pub type RequestId = u64;

/// What a message is. The numbers cross to JS and onto the wire, so they are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Kind {
  /// `ipcRenderer.send`: renderer to main.
  Send = 1,
  /// `ipcRenderer.postMessage`: renderer to main, no `ipc-message` event, no `reply`.
  Post = 2,
  /// `ipcRenderer.sendSync`: renderer to main, the renderer waits for the answer.
  Sync = 3,
  /// `ipcRenderer.invoke`: renderer to main, answered by an `InvokeReply`.
  Invoke = 4,
  /// `webContents.send` / `event.reply`: main to renderer.
  Message = 5,
  /// The settled result of an `invoke`: main to renderer. `status` says how it settled.
  InvokeReply = 6,
  /// The answer to a `sendSync`, for renderers that read it from a connection.
  SyncReply = 7,
  /// Control, main side: a renderer process connected (payload: JSON `{"pid": n}`).
  Connected = 8,
  /// Control: a connection ended (main side: a renderer's; renderer side: the one to main).
  /// The payload is JSON: `{"exitCode": n}` when the peer said goodbye, `{}` otherwise.
  Gone = 9,
  /// Control, main side: a connection was refused or broken; the payload is JSON
  /// `{"code": ..., "message": ..., "pid": ...}`.
  Diagnostic = 10,
}

impl Kind {
  pub fn from_u8(v: u8) -> Option<Kind> {
    Some(match v {
      1 => Kind::Send,
      2 => Kind::Post,
      3 => Kind::Sync,
      4 => Kind::Invoke,
      5 => Kind::Message,
      6 => Kind::InvokeReply,
      7 => Kind::SyncReply,
      8 => Kind::Connected,
      9 => Kind::Gone,
      10 => Kind::Diagnostic,
      _ => return None,
    })
  }

  /// Messages a renderer sends to its main side; the rest travel the other way.
  pub fn is_main_bound(self) -> bool {
    matches!(self, Kind::Send | Kind::Post | Kind::Sync | Kind::Invoke)
  }

  /// Messages whose dispatch needs no decision from the router at that moment, so they can be
  /// handed to JS in a batch behind another message. A sendSync or invoke cannot: whether
  /// anyone can answer it is decided when it is dispatched.
  pub fn batches(self) -> bool {
    !matches!(self, Kind::Sync | Kind::Invoke)
  }

  /// What a renderer may send over a connection.
  pub fn from_renderer(self) -> bool {
    self.is_main_bound()
  }

  /// What main may send to a renderer over a connection.
  pub fn to_renderer(self) -> bool {
    matches!(self, Kind::Message | Kind::InvokeReply | Kind::SyncReply)
  }
}

/// How a reply settled. Fixed numbers: they cross to JS and onto the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Status {
  /// A value: the payload is its structured clone.
  Ok = 0,
  /// The invoke handler threw or rejected: the payload is `String(error)` in UTF-8.
  HandlerError = 1,
  /// No handler for the invoked channel: the payload is Electron's error text.
  NoHandler = 2,
  /// The main side will never answer (the event was collected): Electron's "reply was never sent".
  NeverSent = 3,
  /// `sendSync` on a channel nobody listens to; answered at once instead of hanging as Electron does.
  NoListener = 4,
  /// An in-process `sendSync` whose listeners returned without setting `returnValue`.
  NotAnswered = 5,
  /// The renderer was destroyed while the request was pending.
  ContextReleased = 6,
  /// The main side went away while the request was pending.
  Disconnected = 7,
}

impl Status {
  pub fn from_u8(v: u8) -> Option<Status> {
    Some(match v {
      0 => Status::Ok,
      1 => Status::HandlerError,
      2 => Status::NoHandler,
      3 => Status::NeverSent,
      4 => Status::NoListener,
      5 => Status::NotAnswered,
      6 => Status::ContextReleased,
      7 => Status::Disconnected,
      _ => return None,
    })
  }
}

/// Where a main-bound message goes, decided by the router when the message is taken from the
/// mailbox (that is, in order, after every earlier message was dispatched).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Route(pub u8);

impl Route {
  /// Emit `ipc-message` / `ipc-message-sync` on the sender's `WebContents`.
  pub const CONTENTS_EVENT: u8 = 1;
  /// Emit the channel on the sender's `webContents.ipc`.
  pub const CONTENTS_IPC: u8 = 2;
  /// Emit the channel on `ipcMain`.
  pub const MAIN: u8 = 4;
  /// Invoke: the `webContents.ipc` handler answers.
  pub const HANDLER_CONTENTS: u8 = 8;
  /// Invoke: the `ipcMain` handler answers.
  pub const HANDLER_MAIN: u8 = 16;
  /// Nobody could take it: the router already answered (sync: no listener, invoke: no handler).
  pub const UNANSWERED: u8 = 32;

  /// A send or postMessage taken after the first message of a batch: routed when it is
  /// dispatched, by Electron's whole chain (an emitter without listeners ignores it), because a
  /// listener added by an earlier message of the batch must still see it.
  pub fn chain(kind: Kind) -> Route {
    match kind {
      Kind::Send => Route(Self::CONTENTS_EVENT | Self::CONTENTS_IPC | Self::MAIN),
      Kind::Post => Route(Self::CONTENTS_IPC | Self::MAIN),
      _ => Route(0),
    }
  }

  pub fn has(self, bit: u8) -> bool {
    self.0 & bit != 0
  }
}

/// One message. `renderer` is the sender for main-bound kinds and the recipient otherwise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
  pub kind: Kind,
  pub status: Status,
  pub renderer: RendererId,
  pub request: RequestId,
  pub channel: ChannelId,
  pub payload: Payload,
}

impl Envelope {
  pub fn new(
    kind: Kind,
    renderer: RendererId,
    channel: ChannelId,
    payload: impl Into<Payload>,
  ) -> Self {
    Envelope {
      kind,
      status: Status::Ok,
      renderer,
      request: 0,
      channel,
      payload: payload.into(),
    }
  }

  pub fn request(mut self, request: RequestId) -> Self {
    self.request = request;
    self
  }

  pub fn status(mut self, status: Status) -> Self {
    self.status = status;
    self
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn kinds_and_statuses_round_trip_through_their_numbers() {
    for v in 0..=255u8 {
      if let Some(k) = Kind::from_u8(v) {
        assert_eq!(k as u8, v);
      }
      if let Some(s) = Status::from_u8(v) {
        assert_eq!(s as u8, v);
      }
    }
    assert_eq!(Kind::from_u8(0), None);
    assert_eq!(Kind::from_u8(11), None);
    assert_eq!(Status::from_u8(8), None);
  }

  #[test]
  fn only_renderer_messages_are_main_bound() {
    assert!(Kind::Send.is_main_bound());
    assert!(Kind::Post.is_main_bound());
    assert!(Kind::Sync.is_main_bound());
    assert!(Kind::Invoke.is_main_bound());
    assert!(!Kind::Message.is_main_bound());
    assert!(!Kind::InvokeReply.is_main_bound());
    assert!(!Kind::SyncReply.is_main_bound());
    for control in [Kind::Connected, Kind::Gone, Kind::Diagnostic] {
      assert!(!control.is_main_bound());
      assert!(
        !control.from_renderer() && !control.to_renderer(),
        "never accepted from the wire"
      );
    }
  }
}
