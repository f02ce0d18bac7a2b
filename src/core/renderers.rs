//! The renderer registry: every `WebContents` of the process, where its renderer's JS runs, and
//! what main sent it before that renderer was connected.

use rustc_hash::FxHashMap as HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::envelope::{EndpointId, Envelope, RendererId};
use super::link_batch::LinkBatch;
use super::payload::Payload;
use super::ring::Ring;
pub use super::waiter::Park;
use super::waiter::Waiter;

/// Where a renderer's JS runs. Fixed numbers: they cross to JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RendererKind {
  /// On the main side's own thread (`webContents.create()`, the default `ipcRenderer`).
  InProcess = 1,
  /// In a worker thread of this process (`webContents.worker`).
  Worker = 2,
  /// In another process, over a connection (`webContents.fork`, `ipcMain.listen`).
  Process = 3,
}

impl RendererKind {
  pub fn from_u8(v: u8) -> Option<Self> {
    Some(match v {
      1 => RendererKind::InProcess,
      2 => RendererKind::Worker,
      3 => RendererKind::Process,
      _ => return None,
    })
  }
}

/// A connection to another process: to a renderer (main side), or to main (renderer side).
pub trait Link: Send + Sync + std::fmt::Debug {
  /// Queues the envelope (whose channel is `channel`) for writing. False once closed.
  fn send(&self, envelope: Envelope, channel: &str) -> bool;
  /// Queues one-way messages, in order, as `send` would one by one.
  fn send_batch(&self, batch: &LinkBatch) -> bool {
    let mut open = true;
    for (kind, renderer, channel, payload) in batch.iter() {
      open &= self.send(
        Envelope::new(kind, renderer, 0, Payload::from_slice(payload)),
        channel,
      );
    }
    open
  }
  /// Closes the connection.
  fn close(&self);
  /// Reads and delivers whatever has arrived, now, on the calling thread (a thread blocked in
  /// sendSync polls for its answer). Does nothing if another thread is reading.
  fn poll(&self) {}
  /// Blocks the calling thread (a sendSync waiting for its answer) until input arrives, at
  /// most `timeout`, where the calling thread is this link's reader; `poll` then reads it.
  fn park(&self, _timeout: Duration) -> Park {
    Park::Unsupported
  }
}

/// A renderer hosted here whose main side is in another process.
#[derive(Debug, Clone)]
pub struct Uplink {
  pub link: Arc<dyn Link>,
  /// The id main knows this renderer by.
  pub remote: RendererId,
}

/// Where messages for a renderer go.
#[derive(Debug, Clone)]
pub enum Side {
  /// Not connected yet: messages wait in the outbox.
  Connecting,
  /// Its JS runs on the thread of this endpoint.
  Endpoint(EndpointId),
  /// It lives in another process, behind this connection.
  Remote(Arc<dyn Link>),
  /// Its connection ended; it is about to be destroyed. Messages to it are dropped.
  Closed,
}

#[derive(Debug)]
pub struct Renderer {
  pub id: RendererId,
  /// The main side this renderer talks to.
  pub hub: EndpointId,
  pub kind: RendererKind,
  pub side: Side,
  /// Messages main sent before the renderer connected, delivered in order on connection.
  pub outbox: Vec<Envelope>,
  /// Where this renderer's thread blocks in `sendSync` (workers, processes).
  pub waiter: Arc<Waiter>,
  /// Set when its main side is in another process (this is that renderer's own process).
  pub uplink: Option<Uplink>,
  /// Where a worker renderer's JS writes its one-way messages (core/ring.rs), once it has one.
  pub ring: Option<Arc<Ring>>,
}

#[derive(Debug, Default)]
pub struct Renderers {
  last: RendererId,
  map: HashMap<RendererId, Renderer>,
}

impl Renderers {
  pub fn create(&mut self, hub: EndpointId, kind: RendererKind) -> RendererId {
    self.last += 1;
    let id = self.last;
    let side = match kind {
      RendererKind::InProcess => Side::Endpoint(hub),
      RendererKind::Worker | RendererKind::Process => Side::Connecting,
    };
    self.map.insert(
      id,
      Renderer {
        id,
        hub,
        kind,
        side,
        outbox: Vec::new(),
        waiter: Arc::default(),
        uplink: None,
        ring: None,
      },
    );
    id
  }

  /// A renderer whose JS runs on `host` and whose main side is behind `uplink`.
  pub fn create_uplinked(&mut self, host: EndpointId, uplink: Uplink) -> RendererId {
    let id = self.create(0, RendererKind::Process);
    let r = self.map.get_mut(&id).expect("just created");
    r.side = Side::Endpoint(host);
    r.uplink = Some(uplink);
    id
  }

  pub fn get(&self, id: RendererId) -> Option<&Renderer> {
    self.map.get(&id)
  }

  pub fn get_mut(&mut self, id: RendererId) -> Option<&mut Renderer> {
    self.map.get_mut(&id)
  }

  pub fn remove(&mut self, id: RendererId) -> Option<Renderer> {
    self.map.remove(&id)
  }

  /// Ids are never reused, so an unknown id at or below the last one handed out was destroyed.
  pub fn was_destroyed(&self, id: RendererId) -> bool {
    id != 0 && id <= self.last && !self.map.contains_key(&id)
  }

  /// Live renderers of one main side, in creation order.
  pub fn of_hub(&self, hub: EndpointId) -> Vec<RendererId> {
    let mut ids: Vec<RendererId> = self
      .map
      .values()
      .filter(|r| r.hub == hub)
      .map(|r| r.id)
      .collect();
    ids.sort_unstable();
    ids
  }

  pub fn ids_where(&self, mut pred: impl FnMut(&Renderer) -> bool) -> Vec<RendererId> {
    let mut ids: Vec<RendererId> = self
      .map
      .values()
      .filter(|r| pred(r))
      .map(|r| r.id)
      .collect();
    ids.sort_unstable();
    ids
  }

  pub fn len(&self) -> usize {
    self.map.len()
  }

  pub fn is_empty(&self) -> bool {
    self.map.is_empty()
  }
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn in_process_renderers_are_connected_to_their_hub_at_once() {
    let mut r = Renderers::default();
    let a = r.create(3, RendererKind::InProcess);
    assert!(matches!(r.get(a).unwrap().side, Side::Endpoint(3)));
    let b = r.create(3, RendererKind::Worker);
    assert!(matches!(r.get(b).unwrap().side, Side::Connecting));
  }

  #[test]
  fn ids_are_never_reused_and_removal_means_destroyed() {
    let mut r = Renderers::default();
    let a = r.create(1, RendererKind::InProcess);
    let b = r.create(2, RendererKind::InProcess);
    assert!(!r.was_destroyed(a));
    r.remove(a);
    assert!(r.was_destroyed(a));
    assert!(!r.was_destroyed(b + 1), "never created is not destroyed");
    assert!(!r.was_destroyed(0));
    let c = r.create(1, RendererKind::InProcess);
    assert!(c > b);
    assert_eq!(r.of_hub(1), vec![c]);
    assert_eq!(r.of_hub(2), vec![b]);
  }
}
