//! The router: one lock around all state, and the operations the binding calls.
//!
//! Renderer-side operations push into the main side's mailbox; main-side operations push into the
//! mailbox of the thread where the renderer runs (or onto its connection). Routing decisions for a
//! renderer's message are taken in [`Core::pop`], when the message is dispatched, so listeners
//! added by an earlier message of the same renderer are seen by the later ones.
//! Wake-ups are collected under the lock and performed after it is released.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::channels::{ChannelTable, IPC_MESSAGE, IPC_MESSAGE_SYNC};
use super::envelope::{
  ChannelId, EndpointId, Envelope, Kind, RendererId, RequestId, Route, Status,
};
use super::error::CoreError;
use super::link_batch::LinkBatch;
use super::mailbox::Mailbox;
use super::outbox::{self, OutboxError, Staged};
use super::payload::Payload;
use super::pending::{Pending, PendingTable, Wait};
use super::registry::{Registry, Scope};
use super::renderers::{Link, Renderer, RendererKind, Renderers, Side, Uplink};
use super::ring::Ring;
use super::waiter::{Park, Reply, SpinPolicy};

pub mod remote;

/// Where a renderer's messages to main go.
enum Target {
  /// A main side in this process: its endpoint's mailbox.
  Hub(EndpointId),
  /// A main side in another process: the connection to it.
  Uplink(Uplink),
}

/// Bytes of entries in a worker renderer's send ring.
pub const RING_BYTES: usize = 256 * 1024;

/// What [`Core::send_staged`] did with an outbox.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Staging {
  /// Whether the caller must schedule a drain of its own mailbox.
  pub wake: bool,
  pub routed: usize,
  /// Messages of renderers that were gone.
  pub dropped: usize,
  /// Where reading stopped, if the outbox did not end cleanly.
  pub malformed: Option<OutboxError>,
}

impl Staging {
  fn count(&mut self, routed: bool) {
    *if routed {
      &mut self.routed
    } else {
      &mut self.dropped
    } += 1;
  }
}

/// What [`Core::send_staged_direct`] did with an outbox.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct StagedDirect {
  /// Messages the sink took, in order (they come before anything in the mailbox).
  pub taken: usize,
  /// The others: routed the usual way (refused by the sink, or for another main side), or
  /// dropped (their renderer was gone).
  pub rest: Staging,
}

/// Wakes the JS thread of an endpoint so it drains its mailbox. Called from any thread.
pub trait Wake: Send + Sync {
  fn wake(&self);
}

struct Endpoint {
  mailbox: Mailbox,
  waker: Option<Arc<dyn Wake>>,
  /// Set when the renderer hosted here can no longer talk to its main side, and why.
  cut_off: HashMap<RendererId, CoreError>,
  /// The send rings of this main side's worker renderers: taken before the mailbox is read.
  rings: Vec<(RendererId, Arc<Ring>)>,
}

#[derive(Default)]
struct State {
  last_endpoint: EndpointId,
  endpoints: HashMap<EndpointId, Endpoint>,
  renderers: Renderers,
  pending: PendingTable,
  channels: ChannelTable,
  registry: Registry,
}

/// A message handed to JS for dispatch, with the router's decision for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
  pub envelope: Envelope,
  pub route: Route,
}

/// Work owed once the lock is released: wake-ups, and envelopes for connections (a write must
/// not hold up every other thread). `local`: the caller's own endpoint needs a drain, which its
/// JS schedules itself (it is on that thread).
#[derive(Default)]
struct Wakes {
  local: bool,
  remote: Vec<Arc<dyn Wake>>,
  /// What goes to connections, in order.
  sends: Vec<LinkSend>,
}

enum LinkSend {
  One(Arc<dyn Link>, Envelope, String),
  /// Consecutive one-way messages for one connection (a renderer process's staged sends).
  Batch(Arc<dyn Link>, LinkBatch),
}

impl Wakes {
  /// Adds a one-way message for `link` to the batch at the end, or starts one.
  fn send_one_way(
    &mut self,
    link: &Arc<dyn Link>,
    kind: Kind,
    renderer: RendererId,
    channel: &str,
    payload: &[u8],
  ) {
    if !matches!(self.sends.last(), Some(LinkSend::Batch(l, _)) if Arc::ptr_eq(l, link)) {
      self
        .sends
        .push(LinkSend::Batch(link.clone(), LinkBatch::default()));
    }
    if let Some(LinkSend::Batch(_, batch)) = self.sends.last_mut() {
      batch.push(kind, renderer, channel, payload);
    }
  }

  fn run(self) -> bool {
    for send in self.sends {
      match send {
        LinkSend::One(link, envelope, channel) => {
          link.send(envelope, &channel);
        }
        LinkSend::Batch(link, batch) => {
          link.send_batch(&batch);
        }
      }
    }
    for w in self.remote {
      w.wake();
    }
    self.local
  }
}

pub struct Core {
  state: Mutex<State>,
  policy: Mutex<SpinPolicy>,
  /// The process is exiting: blocking waits end at once instead of starting.
  closing: AtomicBool,
  /// Some thread installed the process exit hook (it must run once per process).
  exit_hook: AtomicBool,
}

impl Default for Core {
  fn default() -> Self {
    Core {
      state: Mutex::new(State::default()),
      policy: Mutex::new(SpinPolicy::default()),
      closing: AtomicBool::new(false),
      exit_hook: AtomicBool::new(false),
    }
  }
}

/// The process-wide core shared by every thread that loads the addon.
pub fn global() -> &'static Core {
  static CORE: OnceLock<Core> = OnceLock::new();
  CORE.get_or_init(Core::default)
}

impl State {
  /// Queues `envelope` in `target`'s mailbox and notes the wake-up it needs.
  fn push(
    &mut self,
    caller: EndpointId,
    target: EndpointId,
    envelope: Envelope,
    wakes: &mut Wakes,
  ) -> bool {
    let Some(ep) = self.endpoints.get_mut(&target) else {
      return false;
    };
    if ep.mailbox.push(envelope) {
      if target == caller {
        wakes.local = true;
      } else if let Some(w) = &ep.waker {
        wakes.remote.push(w.clone());
      } else {
        // Nobody to wake: stay idle, or every later push would think a drain is on its way.
        ep.mailbox.unschedule();
      }
    }
    true
  }

  /// Sends a renderer-bound envelope wherever that renderer is. False if it is gone.
  fn deliver_to_renderer(
    &mut self,
    caller: EndpointId,
    envelope: Envelope,
    wakes: &mut Wakes,
  ) -> bool {
    let Some(r) = self.renderers.get_mut(envelope.renderer) else {
      return false;
    };
    match &r.side {
      Side::Connecting => {
        r.outbox.push(envelope);
        true
      }
      Side::Remote(link) => {
        let link = link.clone();
        self.send_link(link, envelope, wakes);
        true
      }
      Side::Closed => true,
      Side::Endpoint(e) => {
        let e = *e;
        self.push(caller, e, envelope, wakes)
      }
    }
  }

  /// Queues an envelope for a connection, written once the lock is released.
  fn send_link(&self, link: Arc<dyn Link>, envelope: Envelope, wakes: &mut Wakes) {
    let channel = self
      .channels
      .name(envelope.channel)
      .unwrap_or_default()
      .to_owned();
    wakes.sends.push(LinkSend::One(link, envelope, channel));
  }

  /// Checks that `caller` hosts renderer `id` and returns where its messages go.
  fn renderer_side(&self, caller: EndpointId, id: RendererId) -> Result<Target, CoreError> {
    let ep = self
      .endpoints
      .get(&caller)
      .ok_or(CoreError::UnknownEndpoint)?;
    if let Some(err) = ep.cut_off.get(&id) {
      return Err(err.clone());
    }
    match self.renderers.get(id) {
      Some(r) => match (&r.side, &r.uplink) {
        (Side::Endpoint(e), Some(up)) if *e == caller => Ok(Target::Uplink(up.clone())),
        (Side::Endpoint(e), None) if *e == caller => Ok(Target::Hub(r.hub)),
        _ => Err(CoreError::UnknownRenderer(id)),
      },
      None if self.renderers.was_destroyed(id) => Err(CoreError::ContextReleased),
      None => Err(CoreError::UnknownRenderer(id)),
    }
  }

  /// Moves what worker renderer `id` (hosted by `caller`) wrote into its ring to its main
  /// side's mailbox, before anything else of that renderer reaches the core.
  fn take_own_ring(&mut self, caller: EndpointId, id: RendererId, wakes: &mut Wakes) {
    let Some(r) = self.renderers.get(id) else {
      return;
    };
    if let Some(ring) = r.ring.clone() {
      let hub = r.hub;
      self.take_ring(caller, hub, id, &ring, wakes);
    }
  }

  /// Moves the rings of main side `hub`'s worker renderers into its mailbox (read from `caller`).
  fn take_rings(&mut self, caller: EndpointId, hub: EndpointId, wakes: &mut Wakes) {
    let mut i = 0;
    loop {
      // Every pop looks: a ring is held (cloned) only when it has something to take.
      let Some(next) = self
        .endpoints
        .get(&hub)
        .and_then(|ep| ep.rings.get(i))
        .map(|(id, ring)| (!ring.is_empty()).then(|| (*id, ring.clone())))
      else {
        return;
      };
      if let Some((id, ring)) = next {
        self.take_ring(caller, hub, id, &ring, wakes);
      }
      i += 1;
    }
  }

  fn take_ring(
    &mut self,
    caller: EndpointId,
    hub: EndpointId,
    id: RendererId,
    ring: &Ring,
    wakes: &mut Wakes,
  ) {
    // A malformed ring can only come from a bug of the JS writer: what it held is dropped.
    let _ = ring.consume(|e| {
      let env = Envelope::new(e.kind, id, e.channel, Payload::from_slice(e.payload));
      self.push(caller, hub, env, wakes);
    });
  }

  /// `hub`'s mailbox was found empty: its rings' writers wake it from now on. True if one of
  /// them wrote meanwhile (taken into the mailbox: the caller reads on).
  fn rings_idle(&mut self, hub: EndpointId, wakes: &mut Wakes) -> bool {
    let Some(ep) = self.endpoints.get(&hub) else {
      return false;
    };
    let mut late = false;
    for (_, ring) in &ep.rings {
      late |= ring.set_idle();
    }
    if late {
      self.take_rings(hub, hub, wakes);
    }
    late
  }

  /// Drops the ring of renderer `r`, gone, from its main side.
  fn forget_ring(&mut self, r: &Renderer) {
    if let Some(ring) = &r.ring {
      ring.close();
      if let Some(ep) = self.endpoints.get_mut(&r.hub) {
        ep.rings.retain(|(id, _)| *id != r.id);
      }
    }
  }

  /// Sends a renderer's message to its main side: a local mailbox, or a connection.
  fn send_to_main(
    &mut self,
    caller: EndpointId,
    target: &Target,
    envelope: Envelope,
    wakes: &mut Wakes,
  ) -> bool {
    match target {
      Target::Hub(hub) => self.push(caller, *hub, envelope, wakes),
      Target::Uplink(up) => {
        let mut envelope = envelope;
        envelope.renderer = up.remote;
        self.send_link(up.link.clone(), envelope, wakes);
        true
      }
    }
  }

  /// Routes an outbox's messages in order: those for `caller`'s own main side to `sink` until it
  /// refuses one, every other one (and all after a refusal) as an envelope of its own. Returns
  /// how many the sink took; stops at a malformed entry (recorded in `out`).
  fn route_staged(
    &mut self,
    caller: EndpointId,
    staged: &[u8],
    mut sink: impl FnMut(&Staged<'_>) -> bool,
    out: &mut Staging,
    wakes: &mut Wakes,
  ) -> usize {
    let mut taken = 0;
    let mut open = true;
    // A burst comes from one renderer: its lookup is done once.
    let mut last: Option<(RendererId, Result<Target, CoreError>)> = None;
    for entry in outbox::entries(staged) {
      let m = match entry {
        Ok(m) => m,
        Err(e) => {
          out.malformed = Some(e);
          break;
        }
      };
      if last.as_ref().map(|(id, _)| *id) != Some(m.renderer) {
        last = Some((m.renderer, self.renderer_side(caller, m.renderer)));
      }
      let Some((_, Ok(target))) = &last else {
        out.dropped += 1;
        continue;
      };
      if open && matches!(target, Target::Hub(hub) if *hub == caller) {
        if sink(&m) {
          taken += 1;
          continue;
        }
        open = false;
      }
      let routed = match target {
        // Straight into the connection's batch: no envelope, no name of its own.
        Target::Uplink(up) => {
          let name = self.channels.name(m.channel).unwrap_or_default();
          wakes.send_one_way(&up.link, m.kind, up.remote, name, m.payload);
          true
        }
        Target::Hub(_) => self.send_staged_to_main(caller, target, &m, wakes),
      };
      out.count(routed);
    }
    taken
  }

  /// A staged message, as an envelope of its own. False if its main side is gone.
  fn send_staged_to_main(
    &mut self,
    caller: EndpointId,
    target: &Target,
    m: &Staged<'_>,
    wakes: &mut Wakes,
  ) -> bool {
    let env = Envelope::new(
      m.kind,
      m.renderer,
      m.channel,
      Payload::from_slice(m.payload),
    );
    self.send_to_main(caller, target, env, wakes)
  }

  /// Renderer `id`, which must still be waiting for its connection.
  fn connecting(&mut self, id: RendererId) -> Result<&mut Renderer, CoreError> {
    let r = self
      .renderers
      .get_mut(id)
      .ok_or(CoreError::UnknownRenderer(id))?;
    if !matches!(r.side, Side::Connecting) {
      return Err(CoreError::AlreadyConnected(id));
    }
    Ok(r)
  }

  /// Opens a request of renderer `id` (hosted by `caller`) and sends its message to main.
  #[allow(clippy::too_many_arguments)]
  fn open_request(
    &mut self,
    caller: EndpointId,
    id: RendererId,
    channel: ChannelId,
    payload: impl Into<Payload>,
    kind: Kind,
    wait: Wait,
    wakes: &mut Wakes,
  ) -> Result<RequestId, CoreError> {
    let target = self.renderer_side(caller, id)?;
    self.take_own_ring(caller, id, wakes);
    // A request to a main in another process is owed by no local main side (hub 0).
    let hub = match &target {
      Target::Hub(hub) => *hub,
      Target::Uplink(_) => 0,
    };
    let request = self.pending.open(Pending {
      renderer: id,
      hub,
      channel,
      their: 0,
      wait,
    });
    self.pending.get_mut(request).expect("just opened").their = request;
    let env = Envelope::new(kind, id, channel, payload).request(request);
    if !self.send_to_main(caller, &target, env, wakes) {
      self.pending.remove(request);
      return Err(CoreError::Disconnected);
    }
    Ok(request)
  }

  /// Checks that `caller` is the main side of renderer `id`.
  fn check_hub(&self, caller: EndpointId, id: RendererId) -> Result<(), CoreError> {
    match self.renderers.get(id) {
      Some(r) if r.hub == caller => Ok(()),
      Some(_) => Err(CoreError::UnknownRenderer(id)),
      None if self.renderers.was_destroyed(id) => Err(CoreError::ObjectDestroyed),
      None => Err(CoreError::UnknownRenderer(id)),
    }
  }

  /// Answers a `sendSync` owed by main side `hub`. Only the first answer counts.
  fn answer_sync(
    &mut self,
    hub: EndpointId,
    request: RequestId,
    reply: Reply,
    wakes: &mut Wakes,
  ) -> bool {
    let Some(p) = self.pending.get_mut(request) else {
      return false;
    };
    if p.hub != hub {
      return false;
    }
    match &mut p.wait {
      Wait::Inline { answer, closed } => {
        if *closed || answer.is_some() {
          return false;
        }
        *answer = Some(reply);
        true
      }
      Wait::Blocking => {
        let p = self.pending.remove(request).expect("present");
        let Some(r) = self.renderers.get(p.renderer) else {
          return false;
        };
        match &r.side {
          Side::Remote(link) => {
            let env = Envelope::new(Kind::SyncReply, p.renderer, p.channel, reply.payload)
              .status(reply.status)
              .request(p.their);
            let link = link.clone();
            self.send_link(link, env, wakes);
            true
          }
          Side::Closed => false,
          _ => r.waiter.complete(request, Ok(reply)),
        }
      }
      Wait::Invoke => false,
    }
  }

  /// Settles an `invoke` and sends the outcome to its renderer.
  fn settle_invoke(
    &mut self,
    caller: EndpointId,
    request: RequestId,
    status: Status,
    payload: impl Into<Payload>,
    wakes: &mut Wakes,
  ) -> bool {
    match self.pending.get(request) {
      Some(Pending {
        wait: Wait::Invoke,
        hub,
        ..
      }) if *hub == caller => {}
      _ => return false,
    }
    let p = self.pending.remove(request).expect("present");
    let env = Envelope::new(Kind::InvokeReply, p.renderer, p.channel, payload)
      .status(status)
      .request(p.their);
    self.deliver_to_renderer(caller, env, wakes)
  }

  /// Fails every request of `renderer` (or of every renderer of `hub`) with `status`.
  fn fail_pending(
    &mut self,
    caller: EndpointId,
    pred: impl FnMut(&Pending) -> bool,
    status: Status,
    wakes: &mut Wakes,
  ) {
    for (id, p) in self.pending.drain_where(pred) {
      match p.wait {
        Wait::Invoke => {
          let env = Envelope::new(Kind::InvokeReply, p.renderer, p.channel, Vec::new())
            .status(status)
            .request(p.their);
          self.deliver_to_renderer(caller, env, wakes);
        }
        Wait::Blocking => {
          // A blocked sendSync that can never be answered throws in its renderer.
          let error = match status {
            Status::ContextReleased => CoreError::ContextReleased,
            _ => CoreError::Disconnected,
          };
          if let Some(r) = self.renderers.get(p.renderer) {
            r.waiter.complete(id, Err(error));
          }
        }
        Wait::Inline { .. } => {}
      }
    }
  }

  /// Routes a main-bound message at dispatch time. None: nobody wants it, drop it.
  fn route(&mut self, hub: EndpointId, env: &Envelope, wakes: &mut Wakes) -> Option<Route> {
    let r = env.renderer;
    // A destroyed renderer's last messages go nowhere: its WebContents is gone on the JS side
    // too, and its requests were already failed when it was destroyed.
    self.renderers.get(r)?;
    let ch = env.channel;
    let reg = &self.registry;
    let mut bits = 0u8;
    if env.kind == Kind::Invoke {
      bits = if reg.has_handler(Scope::ContentsIpc(r), ch) {
        Route::HANDLER_CONTENTS
      } else if reg.has_handler(Scope::Main(hub), ch) {
        Route::HANDLER_MAIN
      } else {
        let text = format!(
          "Error: No handler registered for '{}'",
          self.channels.name(ch).unwrap_or_default()
        );
        self.settle_invoke(
          hub,
          env.request,
          Status::NoHandler,
          text.into_bytes(),
          wakes,
        );
        Route::UNANSWERED
      };
      return Some(Route(bits));
    }
    let event = if env.kind == Kind::Sync {
      IPC_MESSAGE_SYNC
    } else {
      IPC_MESSAGE
    };
    // postMessage messages skip the WebContents event, as in Electron.
    if env.kind != Kind::Post && reg.listening(Scope::ContentsEvents(r), event) {
      bits |= Route::CONTENTS_EVENT;
    }
    if reg.listening(Scope::ContentsIpc(r), ch) {
      bits |= Route::CONTENTS_IPC;
    }
    if reg.listening(Scope::Main(hub), ch) {
      bits |= Route::MAIN;
    }
    if bits != 0 {
      return Some(Route(bits));
    }
    if env.kind != Kind::Sync {
      return None;
    }
    // Electron would leave this renderer blocked until the event is garbage-collected.
    self.answer_sync(hub, env.request, Reply::status(Status::NoListener), wakes);
    if let Some(Pending {
      wait: Wait::Inline { closed, .. },
      ..
    }) = self.pending.get_mut(env.request)
    {
      *closed = true;
    }
    Some(Route(Route::UNANSWERED))
  }
}

impl Core {
  fn lock(&self) -> MutexGuard<'_, State> {
    // Every operation leaves the state consistent before anything can panic; recover the lock.
    self.state.lock().unwrap_or_else(|p| p.into_inner())
  }

  pub fn set_policy(&self, policy: SpinPolicy) {
    *self.policy.lock().unwrap_or_else(|p| p.into_inner()) = policy;
  }

  pub fn policy(&self) -> SpinPolicy {
    *self.policy.lock().unwrap_or_else(|p| p.into_inner())
  }

  /// True for the first caller only: who installs the process exit hook.
  pub fn claim_exit_hook(&self) -> bool {
    !self.exit_hook.swap(true, Ordering::SeqCst)
  }

  /// The process is exiting: every blocked `sendSync` ends with `Disconnected`, and any new
  /// one fails at once, so no thread keeps the exit waiting.
  pub fn shutdown(&self) {
    self.closing.store(true, Ordering::SeqCst);
    let st = self.lock();
    for id in st.renderers.ids_where(|_| true) {
      if let Some(r) = st.renderers.get(id) {
        r.waiter.cancel(CoreError::Disconnected);
      }
    }
  }

  // ---- endpoints and channels ------------------------------------------------------------

  /// Opens a JS thread's endpoint. `waker` is how other threads get it to drain its mailbox.
  pub fn open_endpoint(&self, waker: Option<Arc<dyn Wake>>) -> EndpointId {
    let mut st = self.lock();
    st.last_endpoint += 1;
    let id = st.last_endpoint;
    st.endpoints.insert(
      id,
      Endpoint {
        mailbox: Mailbox::default(),
        waker,
        cut_off: HashMap::default(),
        rings: Vec::new(),
      },
    );
    id
  }

  /// Sets (or removes) how other threads wake this endpoint's JS thread. Without one, only the
  /// endpoint's own thread can queue work for it. Returns true when that thread must schedule a
  /// drain: messages are queued that no wake-up may ever announce (pushed while there was no
  /// waker, or rung on the waker being replaced).
  pub fn set_waker(&self, id: EndpointId, waker: Option<Arc<dyn Wake>>) -> bool {
    match self.lock().endpoints.get_mut(&id) {
      Some(ep) => {
        ep.waker = waker;
        ep.mailbox.reschedule()
      }
      None => false,
    }
  }

  /// Closes an endpoint: its main side's renderers are disconnected and forgotten, and every
  /// request waiting on that main side fails instead of hanging.
  pub fn close_endpoint(&self, id: EndpointId) {
    let mut wakes = Wakes::default();
    {
      let mut st = self.lock();
      if st.endpoints.remove(&id).is_none() {
        return;
      }
      let owned = st.renderers.ids_where(|r| r.hub == id);
      let owned_set: HashSet<RendererId> = owned.iter().copied().collect();
      st.fail_pending(
        id,
        |p| p.hub == id || owned_set.contains(&p.renderer),
        Status::Disconnected,
        &mut wakes,
      );
      for rid in owned {
        let Some(r) = st.renderers.remove(rid) else {
          continue;
        };
        if let Some(ring) = &r.ring {
          ring.close();
        }
        r.waiter.cancel(CoreError::Disconnected);
        match r.side {
          Side::Remote(link) => link.close(),
          Side::Endpoint(e) if e != id => {
            if let Some(ep) = st.endpoints.get_mut(&e) {
              ep.cut_off.insert(rid, CoreError::Disconnected);
            }
          }
          _ => {}
        }
        st.registry.forget_renderer(rid);
      }
      // Renderers hosted here whose main is in another process: their connections go too.
      for rid in st
        .renderers
        .ids_where(|r| r.uplink.is_some() && matches!(r.side, Side::Endpoint(e) if e == id))
      {
        st.fail_pending(id, |p| p.renderer == rid, Status::Disconnected, &mut wakes);
        if let Some(r) = st.renderers.remove(rid) {
          r.waiter.cancel(CoreError::Disconnected);
          if let Some(up) = r.uplink {
            up.link.close();
          }
        }
      }
      st.registry.forget_endpoint(id);
    }
    wakes.run();
  }

  pub fn intern(&self, name: &str) -> ChannelId {
    self.lock().channels.intern(name)
  }

  pub fn channel_name(&self, id: ChannelId) -> Option<String> {
    self.lock().channels.name(id).map(str::to_owned)
  }

  // ---- renderer registry -------------------------------------------------------------------

  pub fn create_renderer(
    &self,
    hub: EndpointId,
    kind: RendererKind,
  ) -> Result<RendererId, CoreError> {
    let mut st = self.lock();
    if !st.endpoints.contains_key(&hub) {
      return Err(CoreError::UnknownEndpoint);
    }
    Ok(st.renderers.create(hub, kind))
  }

  /// Live renderers of a main side, oldest first.
  pub fn renderers_of(&self, hub: EndpointId) -> Vec<RendererId> {
    self.lock().renderers.of_hub(hub)
  }

  /// Connects a worker renderer: its JS runs on `endpoint`'s thread from now on, and what main
  /// sent it so far is delivered there, in order.
  pub fn connect(&self, id: RendererId, endpoint: EndpointId) -> Result<bool, CoreError> {
    let mut wakes = Wakes::default();
    {
      let mut st = self.lock();
      if !st.endpoints.contains_key(&endpoint) {
        return Err(CoreError::UnknownEndpoint);
      }
      let r = st.connecting(id)?;
      r.side = Side::Endpoint(endpoint);
      let outbox = std::mem::take(&mut r.outbox);
      for env in outbox {
        st.push(endpoint, endpoint, env, &mut wakes);
      }
    }
    Ok(wakes.run())
  }

  /// Destroys a renderer: its blocked `sendSync` ends, its pending `invoke`s reject, messages
  /// queued for it are dropped, and it can neither send nor be sent to any more.
  pub fn destroy_renderer(&self, caller: EndpointId, id: RendererId) -> Result<bool, CoreError> {
    let mut wakes = Wakes::default();
    {
      let mut st = self.lock();
      st.check_hub(caller, id)?;
      st.fail_pending(
        caller,
        |p| p.renderer == id,
        Status::ContextReleased,
        &mut wakes,
      );
      let r = st.renderers.remove(id).expect("checked");
      st.forget_ring(&r);
      r.waiter.cancel(CoreError::ContextReleased);
      match &r.side {
        Side::Endpoint(e) => {
          let e = *e;
          if let Some(ep) = st.endpoints.get_mut(&e) {
            ep.mailbox
              .retain(|m| !(m.renderer == id && m.kind == Kind::Message));
            if e != r.hub {
              ep.cut_off.insert(id, CoreError::ContextReleased);
            }
          }
        }
        Side::Remote(link) => link.close(),
        Side::Connecting | Side::Closed => {}
      }
      st.registry.forget_renderer(id);
    }
    Ok(wakes.run())
  }

  // ---- the registry ----------------------------------------------------------------------

  pub fn set_listening(&self, scope: Scope, channel: ChannelId, on: bool) {
    self.lock().registry.set_listening(scope, channel, on);
  }

  pub fn set_handler(&self, scope: Scope, channel: ChannelId, on: bool) {
    self.lock().registry.set_handler(scope, channel, on);
  }

  // ---- renderer side -------------------------------------------------------------------

  /// `send` / `postMessage` from renderer `id`, whose JS runs on `caller`'s thread.
  /// Returns true when the caller must schedule a drain of its own mailbox.
  pub fn send(
    &self,
    caller: EndpointId,
    id: RendererId,
    kind: Kind,
    channel: ChannelId,
    payload: impl Into<Payload>,
  ) -> Result<bool, CoreError> {
    debug_assert!(matches!(kind, Kind::Send | Kind::Post));
    let mut wakes = Wakes::default();
    {
      let mut st = self.lock();
      let target = st.renderer_side(caller, id)?;
      st.take_own_ring(caller, id, &mut wakes);
      let env = Envelope::new(kind, id, channel, payload);
      if !st.send_to_main(caller, &target, env, &mut wakes) {
        return Err(CoreError::Disconnected);
      }
    }
    Ok(wakes.run())
  }

  /// The send ring of worker renderer `id`, hosted by `caller` (made on first use). Only a
  /// renderer in another thread than its main side has one.
  pub fn open_ring(&self, caller: EndpointId, id: RendererId) -> Result<Arc<Ring>, CoreError> {
    let mut st = self.lock();
    let hub = match st.renderer_side(caller, id)? {
      Target::Hub(hub) if hub != caller => hub,
      _ => return Err(CoreError::UnknownRenderer(id)),
    };
    let r = st.renderers.get_mut(id).expect("checked");
    if let Some(ring) = &r.ring {
      return Ok(ring.clone());
    }
    let ring = Arc::new(Ring::new(RING_BYTES));
    r.ring = Some(ring.clone());
    st.endpoints
      .get_mut(&hub)
      .ok_or(CoreError::UnknownEndpoint)?
      .rings
      .push((id, ring.clone()));
    Ok(ring)
  }

  /// A worker renderer wrote into its ring while its main side was idle: moves what it wrote
  /// to main's mailbox, waking main.
  pub fn kick(&self, caller: EndpointId, id: RendererId) -> Result<(), CoreError> {
    let mut wakes = Wakes::default();
    {
      let mut st = self.lock();
      st.renderer_side(caller, id)?;
      st.take_own_ring(caller, id, &mut wakes);
      // Main may have taken the entry this wake-up is for, and gone idle, between the writer
      // publishing it and claiming the wake-up (main found the idle word still set, so it set
      // nothing). If main is idle, the ring is marked idle again: else the writer's next
      // entries would not wake it. Nothing can be written meanwhile: the writer is the caller.
      if let Some(r) = st.renderers.get(id) {
        let hub_idle = st
          .endpoints
          .get(&r.hub)
          .is_some_and(|ep| !ep.mailbox.is_scheduled());
        if let (Some(ring), true) = (&r.ring, hub_idle) {
          ring.set_idle();
        }
      }
    }
    wakes.run();
    Ok(())
  }

  /// Routes the one-way messages an in-process renderer thread staged in its outbox (see
  /// [`outbox`](super::outbox)), under one lock and in order. A message of a renderer that is gone
  /// by now is dropped and counted (JS hands its outbox over before it destroys a renderer, so
  /// none should be); reading stops at a malformed entry, after routing the ones before it.
  pub fn send_staged(&self, caller: EndpointId, staged: &[u8]) -> Staging {
    let mut wakes = Wakes::default();
    let mut out = Staging::default();
    self
      .lock()
      .route_staged(caller, staged, |_| false, &mut out, &mut wakes);
    out.wake = wakes.run();
    out
  }

  /// [`Core::send_staged`] for a drain of `caller` about to read its mailbox: when nothing older
  /// waits there (mailbox and worker rings empty), the messages for `caller` itself go straight
  /// to `sink` (the batch JS reads next) instead of through the mailbox: no envelope, no queue.
  /// What the sink refuses, and everything after it, is routed as usual, in order; so are
  /// messages for other main sides. `None` (nothing done) when something older waits or the
  /// outbox is malformed: the caller routes it with `send_staged` and pops as before.
  pub fn send_staged_direct(
    &self,
    caller: EndpointId,
    staged: &[u8],
    sink: impl FnMut(&Staged<'_>) -> bool,
  ) -> Option<StagedDirect> {
    // Checked first, so nothing reaches the sink of an outbox that send_staged must report on.
    if outbox::entries(staged).any(|e| e.is_err()) {
      return None;
    }
    let mut wakes = Wakes::default();
    let mut out = StagedDirect::default();
    {
      let mut st = self.lock();
      let ep = st.endpoints.get(&caller)?;
      if !ep.mailbox.is_empty() || ep.rings.iter().any(|(_, r)| !r.is_empty()) {
        return None;
      }
      out.taken = st.route_staged(caller, staged, sink, &mut out.rest, &mut wakes);
    }
    out.rest.wake = wakes.run();
    Some(out)
  }

  /// `invoke` from renderer `id`. Returns the request id and whether to schedule a local drain.
  pub fn invoke(
    &self,
    caller: EndpointId,
    id: RendererId,
    channel: ChannelId,
    payload: impl Into<Payload>,
  ) -> Result<(RequestId, bool), CoreError> {
    self.request(caller, id, channel, payload, Kind::Invoke, Wait::Invoke)
  }

  /// `sendSync` from an in-process renderer: queued like any message; the caller then pumps its
  /// mailbox ([`Core::pop`] with `only_main`) until [`Core::is_closed`], and takes the answer.
  pub fn sync_inline(
    &self,
    caller: EndpointId,
    id: RendererId,
    channel: ChannelId,
    payload: impl Into<Payload>,
  ) -> Result<(RequestId, bool), CoreError> {
    let wait = Wait::Inline {
      answer: None,
      closed: false,
    };
    self.request(caller, id, channel, payload, Kind::Sync, wait)
  }

  fn request(
    &self,
    caller: EndpointId,
    id: RendererId,
    channel: ChannelId,
    payload: impl Into<Payload>,
    kind: Kind,
    wait: Wait,
  ) -> Result<(RequestId, bool), CoreError> {
    let mut wakes = Wakes::default();
    let request = self
      .lock()
      .open_request(caller, id, channel, payload, kind, wait, &mut wakes)?;
    Ok((request, wakes.run()))
  }

  /// `sendSync` from a renderer whose thread may block (a worker): waits for the answer.
  /// `give_up` is asked periodically while parked; true cancels the wait.
  pub fn sync_blocking(
    &self,
    caller: EndpointId,
    id: RendererId,
    channel: ChannelId,
    payload: impl Into<Payload>,
    give_up: &mut dyn FnMut() -> bool,
  ) -> Result<Reply, CoreError> {
    let mut wakes = Wakes::default();
    let (request, waiter, uplink) = {
      let mut st = self.lock();
      st.renderer_side(caller, id)?;
      if self.closing.load(Ordering::SeqCst) {
        return Err(CoreError::Disconnected);
      }
      let r = st.renderers.get(id).expect("checked");
      let waiter = r.waiter.clone();
      let uplink = r.uplink.as_ref().map(|up| up.link.clone());
      let request = st.open_request(
        caller,
        id,
        channel,
        payload,
        Kind::Sync,
        Wait::Blocking,
        &mut wakes,
      )?;
      // Armed before the lock is released: main cannot take the request, let alone answer it,
      // before the waiter knows what it waits for.
      waiter.arm(request);
      (request, waiter, uplink)
    };
    wakes.run();
    let outcome = match uplink {
      Some(link) => waiter.wait(
        self.policy(),
        &mut || link.poll(),
        &mut |timeout| link.park(timeout),
        give_up,
      ),
      None => waiter.wait(
        self.policy(),
        &mut || {},
        &mut |_| Park::Unsupported,
        give_up,
      ),
    };
    if outcome.is_err() {
      self.lock().pending.remove(request);
    }
    outcome
  }

  /// Whether an in-process `sendSync` has been dispatched (its answer, if any, can be taken).
  pub fn is_closed(&self, request: RequestId) -> bool {
    match self.lock().pending.get(request) {
      Some(Pending {
        wait: Wait::Inline { closed, .. },
        ..
      }) => *closed,
      _ => true,
    }
  }

  /// Takes the answer of an in-process `sendSync`. A request whose renderer was destroyed
  /// meanwhile has no answer: `ContextReleased`.
  pub fn take_inline(&self, request: RequestId) -> Reply {
    let mut st = self.lock();
    match st.pending.remove(request) {
      Some(Pending {
        wait: Wait::Inline { answer, .. },
        ..
      }) => answer.unwrap_or(Reply::status(Status::NotAnswered)),
      Some(other) => {
        // not an inline request: put it back untouched
        st.pending.reopen(request, other);
        Reply::status(Status::ContextReleased)
      }
      None => Reply::status(Status::ContextReleased),
    }
  }

  // ---- main side ---------------------------------------------------------------------------

  /// `webContents.send` / `event.reply`: to renderer `id`, wherever it runs.
  pub fn send_to_renderer(
    &self,
    caller: EndpointId,
    id: RendererId,
    channel: ChannelId,
    payload: impl Into<Payload>,
  ) -> Result<bool, CoreError> {
    let mut wakes = Wakes::default();
    {
      let mut st = self.lock();
      st.check_hub(caller, id)?;
      // A renderer whose thread just ended is not destroyed until its main side hears of it;
      // until then what is sent to it is dropped, as with a renderer process that died.
      st.deliver_to_renderer(
        caller,
        Envelope::new(Kind::Message, id, channel, payload),
        &mut wakes,
      );
    }
    Ok(wakes.run())
  }

  /// `event.returnValue = …`: the first answer wins; later ones return false.
  pub fn reply_sync(&self, caller: EndpointId, request: RequestId, reply: Reply) -> bool {
    let mut wakes = Wakes::default();
    let answered = self.lock().answer_sync(caller, request, reply, &mut wakes);
    wakes.run();
    answered
  }

  /// Marks an in-process `sendSync` as dispatched: answers after this are ignored.
  /// Returns whether it was answered, or None when it is gone (its renderer was destroyed).
  pub fn close_inline(&self, request: RequestId) -> Option<bool> {
    let mut st = self.lock();
    match st.pending.get_mut(request) {
      Some(Pending {
        wait: Wait::Inline { answer, closed },
        ..
      }) => {
        *closed = true;
        Some(answer.is_some())
      }
      _ => None,
    }
  }

  /// Settles an `invoke`. Returns (delivered, local wake needed).
  pub fn settle_invoke(
    &self,
    caller: EndpointId,
    request: RequestId,
    status: Status,
    payload: impl Into<Payload>,
  ) -> (bool, bool) {
    let mut wakes = Wakes::default();
    let delivered = self
      .lock()
      .settle_invoke(caller, request, status, payload, &mut wakes);
    (delivered, wakes.run())
  }

  /// Closes invoke `request` without a reply message, when its answer may be handed to the
  /// waiting promise on the spot: the requester is an in-process renderer of `caller` and
  /// nothing waits in `caller`'s mailbox, so the reply would be the next message dispatched
  /// anyway. Returns the id the requester knows the request by; None leaves it open (answer it
  /// with [`Core::settle_invoke`]).
  pub fn settle_here(&self, caller: EndpointId, request: RequestId) -> Option<RequestId> {
    let mut st = self.lock();
    let st = &mut *st;
    let p = st.pending.get(request)?;
    if !matches!(p.wait, Wait::Invoke) || p.hub != caller {
      return None;
    }
    let here = st
      .renderers
      .get(p.renderer)
      .is_some_and(|r| matches!(r.side, Side::Endpoint(e) if e == caller));
    if !here || !st.endpoints.get(&caller)?.mailbox.is_empty() {
      return None;
    }
    st.pending.remove(request).map(|p| p.their)
  }

  /// Takes the next message of `caller`'s mailbox, routed. `only_main`: main-bound ones only
  /// (an in-process `sendSync` pumping what its renderer sent before it).
  /// Returns the delivery and whether a drain of the caller's mailbox must be scheduled.
  pub fn pop(&self, caller: EndpointId, only_main: bool) -> (Option<Delivery>, bool) {
    let mut wakes = Wakes::default();
    let delivery = {
      let mut st = self.lock();
      st.take_rings(caller, caller, &mut wakes);
      loop {
        let Some(ep) = st.endpoints.get_mut(&caller) else {
          break None;
        };
        let next = if only_main {
          ep.mailbox.pop_main()
        } else {
          ep.mailbox.pop()
        };
        let Some(env) = next else {
          // Idle now (a full pop empties the mailbox): unless a worker wrote meanwhile.
          if !only_main && st.rings_idle(caller, &mut wakes) {
            continue;
          }
          break None;
        };
        if !env.kind.is_main_bound() {
          break Some(Delivery {
            envelope: env,
            route: Route::default(),
          });
        }
        if let Some(route) = st.route(caller, &env, &mut wakes) {
          break Some(Delivery {
            envelope: env,
            route,
          });
        }
      }
    };
    (delivery, wakes.run())
  }

  /// Takes a batch: the next message, routed as by `pop`, then, unless that one was a sendSync
  /// or an invoke, the messages after it that need no routing decision when dispatched (see
  /// [`Kind::batches`] and [`Route::chain`]), while the room they take (`room`, for a payload
  /// of that many bytes) fits in `budget` and they number at most `max`. The first message is
  /// taken whatever its size. Returns the batch and whether a drain of the caller's mailbox
  /// must be scheduled.
  pub fn pop_batch(
    &self,
    caller: EndpointId,
    budget: usize,
    room: impl Fn(usize) -> usize,
    max: usize,
  ) -> (Vec<Delivery>, bool) {
    let (first, wake) = self.pop(caller, false);
    let Some(first) = first else {
      return (Vec::new(), wake);
    };
    let mut used = room(first.envelope.payload.len());
    let open = first.envelope.kind.batches();
    let to_main = first.envelope.kind.is_main_bound();
    let mut batch = vec![first];
    if open {
      let mut st = self.lock();
      if let Some(ep) = st.endpoints.get_mut(&caller) {
        while batch.len() < max {
          let Some(next) = ep.mailbox.peek() else {
            break;
          };
          let size = room(next.payload.len());
          // One direction per batch: an in-process sendSync made while a batch is dispatched
          // pumps main-bound messages from the mailbox, so none may wait in JS behind a
          // renderer-bound one (and JS finishes a main-bound batch before pumping).
          if !next.kind.batches() || next.kind.is_main_bound() != to_main || used + size > budget {
            break;
          }
          used += size;
          let env = ep.mailbox.pop().expect("peeked");
          let route = Route::chain(env.kind);
          batch.push(Delivery {
            envelope: env,
            route,
          });
        }
      }
    }
    (batch, wake)
  }

  /// When nothing waits in `caller`'s mailbox, hands what its workers wrote into their rings
  /// straight to `sink` (renderer, kind, channel, payload), with no envelope on the way, while
  /// `sink` takes them. How many it took. (Older messages in the mailbox go first: then this
  /// takes nothing, and [`Core::pop`] moves the rings behind them.)
  pub fn take_rings_direct(
    &self,
    caller: EndpointId,
    mut sink: impl FnMut(RendererId, Kind, ChannelId, &[u8]) -> bool,
  ) -> usize {
    let st = self.lock();
    let Some(ep) = st.endpoints.get(&caller) else {
      return 0;
    };
    if !ep.mailbox.is_empty() {
      return 0;
    }
    let mut taken = 0;
    for (id, ring) in &ep.rings {
      let mut refused = false;
      // A malformed ring can only come from a bug of the JS writer: what it held is dropped.
      let _ = ring.consume_while(|e| {
        if sink(*id, e.kind, e.channel, e.payload) {
          taken += 1;
          true
        } else {
          refused = true;
          false
        }
      });
      if refused {
        break;
      }
    }
    taken
  }

  /// After a batch: if `caller`'s mailbox is empty and only its own thread can fill it (no
  /// waker, no worker rings), it goes idle now, so JS need not ask once more to find it empty
  /// (its own pushes schedule the next drain). True if it did.
  pub fn idle_if_drained(&self, caller: EndpointId) -> bool {
    let mut st = self.lock();
    let Some(ep) = st.endpoints.get_mut(&caller) else {
      return false;
    };
    if ep.waker.is_some() || !ep.rings.is_empty() || !ep.mailbox.is_empty() {
      return false;
    }
    ep.mailbox.unschedule();
    true
  }

  // ---- introspection for tests and diagnostics -------------------------------------------

  pub fn pending_count(&self, hub: EndpointId) -> usize {
    let st = self.lock();
    st.pending.count_where(|p| p.hub == hub)
  }

  /// Messages waiting for `endpoint`'s thread: in its mailbox, and in its workers' rings.
  pub fn queued(&self, endpoint: EndpointId) -> usize {
    let st = self.lock();
    st.endpoints.get(&endpoint).map_or(0, |e| {
      e.mailbox.len() + e.rings.iter().map(|(_, r)| r.waiting()).sum::<usize>()
    })
  }

  pub fn renderer_kind(&self, id: RendererId) -> Option<RendererKind> {
    self.lock().renderers.get(id).map(|r| r.kind)
  }
}

#[cfg(test)]
mod tests;
