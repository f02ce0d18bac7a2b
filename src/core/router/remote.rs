//! The router's side of connections to other processes.
//!
//! Main side: a renderer in another process is `Side::Remote(link)`. Its frames enter the main
//! side's mailbox like any renderer's messages (with the requester's own request ids kept in the
//! pending table as `their`), and answers leave through the link.
//! Renderer side: the renderer hosted here has an uplink; its messages to main go out through
//! it (see `Target::Uplink`), and what main sends comes back through `from_uplink`.

use std::sync::Arc;

use super::{Core, State, Wakes};
use crate::core::envelope::{EndpointId, Envelope, Kind, RendererId, Status};
use crate::core::error::CoreError;
use crate::core::pending::{Pending, Wait};
use crate::core::renderers::{Link, RendererKind, Side, Uplink};
use crate::core::waiter::Reply;

/// A frame the other side had no business sending: the connection must be closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProtocolError(pub String);

impl State {
  /// A control message for the JS thread of `endpoint` (no sender endpoint: always a wake-up).
  fn control(&mut self, endpoint: EndpointId, envelope: Envelope, wakes: &mut Wakes) {
    self.push(0, endpoint, envelope, wakes);
  }
}

impl Core {
  // ---- main side -------------------------------------------------------------------------------

  /// A connection to main side `hub` completed its handshake. `expected`: the renderer it says
  /// it is (one `webContents.fork` made), or 0 for a process that connected on its own (a new
  /// renderer is made). JS is told with a `Connected` message whose payload is `info`, before
  /// anything the renderer sends. `welcome` queues the handshake's answer on the connection; then
  /// what main sent to an expected renderer before it connected goes out, in order, all before
  /// anything main sends from now on (the lock is held throughout).
  pub fn accept_remote(
    &self,
    hub: EndpointId,
    expected: RendererId,
    link: Arc<dyn Link>,
    info: Vec<u8>,
    welcome: impl FnOnce(RendererId),
  ) -> Result<RendererId, CoreError> {
    let mut wakes = Wakes::default();
    let id = {
      let mut st = self.lock();
      if !st.endpoints.contains_key(&hub) {
        return Err(CoreError::UnknownEndpoint);
      }
      let id = if expected == 0 {
        st.renderers.create(hub, RendererKind::Process)
      } else {
        match st.renderers.get(expected) {
          Some(r) if r.hub == hub && r.kind == RendererKind::Process => {}
          _ => return Err(CoreError::UnknownRenderer(expected)),
        }
        expected
      };
      st.connecting(id)?;
      st.control(hub, Envelope::new(Kind::Connected, id, 0, info), &mut wakes);
      welcome(id);
      let r = st.connecting(id)?;
      let outbox = std::mem::take(&mut r.outbox);
      r.side = Side::Remote(link.clone());
      for env in outbox {
        let channel = st.channels.name(env.channel).unwrap_or_default().to_owned();
        link.send(env, &channel);
      }
      id
    };
    wakes.run();
    Ok(id)
  }

  /// Frames from remote renderer `id`: sends, postMessages, sendSyncs and invokes, with their
  /// channel names. They enter its main side's mailbox in order, as any renderer's messages do.
  pub fn from_remote<S: AsRef<str>>(
    &self,
    id: RendererId,
    frames: impl IntoIterator<Item = (Envelope, S)>,
  ) -> Result<(), ProtocolError> {
    let mut wakes = Wakes::default();
    let mut refused = Ok(());
    {
      let mut st = self.lock();
      let hub = match st.renderers.get(id) {
        Some(r) if matches!(r.side, Side::Remote(_)) => r.hub,
        // destroyed meanwhile: what it still sends goes nowhere
        _ => return Ok(()),
      };
      // A burst is mostly one channel: its name is looked up once.
      let mut last: Option<(S, crate::core::ChannelId)> = None;
      for (mut env, channel) in frames {
        if !env.kind.from_renderer() {
          // The frames before it are queued already, and main is woken for them.
          refused = Err(ProtocolError(format!(
            "a renderer cannot send {:?}",
            env.kind
          )));
          break;
        }
        env.renderer = id;
        env.channel = match &last {
          Some((name, ch)) if name.as_ref() == channel.as_ref() => *ch,
          _ => {
            let ch = st.channels.intern(channel.as_ref());
            last = Some((channel, ch));
            ch
          }
        };
        if matches!(env.kind, Kind::Sync | Kind::Invoke) {
          let wait = if env.kind == Kind::Sync {
            Wait::Blocking
          } else {
            Wait::Invoke
          };
          let request = st.pending.open(Pending {
            renderer: id,
            hub,
            channel: env.channel,
            their: env.request,
            wait,
          });
          env.request = request;
        } else {
          env.request = 0;
        }
        env.status = Status::Ok;
        st.push(0, hub, env, &mut wakes);
      }
    }
    wakes.run();
    refused
  }

  /// Remote renderer `id`'s connection ended. Its requests are dropped (nobody is left to answer
  /// them to), what is sent to it from now on goes nowhere, and JS is told with a `Gone` message
  /// (payload `details`, JSON) after everything the renderer sent before.
  pub fn remote_closed(&self, id: RendererId, details: Vec<u8>) {
    let mut wakes = Wakes::default();
    {
      let mut st = self.lock();
      let hub = match st.renderers.get_mut(id) {
        Some(r) if matches!(r.side, Side::Remote(_) | Side::Connecting) => {
          r.side = Side::Closed;
          r.hub
        }
        _ => return,
      };
      st.pending.drain_where(|p| p.renderer == id);
      st.control(hub, Envelope::new(Kind::Gone, id, 0, details), &mut wakes);
    }
    wakes.run();
  }

  /// Something went wrong with a connection of main side `hub` (refused, malformed): JS hears
  /// of it as a `Diagnostic` message (payload: JSON).
  pub fn diagnostic(&self, hub: EndpointId, details: Vec<u8>) {
    let mut wakes = Wakes::default();
    self.lock().control(
      hub,
      Envelope::new(Kind::Diagnostic, 0, 0, details),
      &mut wakes,
    );
    wakes.run();
  }

  // ---- renderer side ---------------------------------------------------------------------------

  /// A renderer hosted on `host`, whose main side is behind `link` and knows it as `remote`.
  /// Returns its local id (what JS on this thread uses).
  pub fn open_uplink(
    &self,
    host: EndpointId,
    remote: RendererId,
    link: Arc<dyn Link>,
  ) -> Result<RendererId, CoreError> {
    let mut st = self.lock();
    if !st.endpoints.contains_key(&host) {
      return Err(CoreError::UnknownEndpoint);
    }
    Ok(st.renderers.create_uplinked(host, Uplink { link, remote }))
  }

  /// Frames from main to the uplinked renderer `id`: messages, invoke results, sendSync answers.
  pub fn from_uplink<S: AsRef<str>>(
    &self,
    id: RendererId,
    frames: impl IntoIterator<Item = (Envelope, S)>,
  ) -> Result<(), ProtocolError> {
    let mut wakes = Wakes::default();
    let mut refused = Ok(());
    {
      let mut st = self.lock();
      let host = match st.renderers.get(id) {
        Some(r) if r.uplink.is_some() => match r.side {
          Side::Endpoint(e) => e,
          _ => return Ok(()),
        },
        _ => return Ok(()),
      };
      // What came before a frame that is refused is delivered (and its host woken) all the same.
      for (mut env, channel) in frames {
        if !env.kind.to_renderer() {
          refused = Err(ProtocolError(format!("main cannot send {:?}", env.kind)));
          break;
        }
        env.renderer = id;
        env.channel = st.channels.intern(channel.as_ref());
        match env.kind {
          Kind::Message => {
            env.request = 0;
            st.push(0, host, env, &mut wakes);
          }
          Kind::InvokeReply => {
            match st.pending.get(env.request) {
              Some(Pending {
                renderer,
                wait: Wait::Invoke,
                ..
              }) if *renderer == id => {}
              _ => {
                refused = Err(ProtocolError("an answer to no invoke".into()));
                break;
              }
            }
            st.pending.remove(env.request);
            st.push(0, host, env, &mut wakes);
          }
          _ => {
            match st.pending.get(env.request) {
              Some(Pending {
                renderer,
                wait: Wait::Blocking,
                ..
              }) if *renderer == id => {}
              // a sendSync that gave up (its thread is being torn down): nothing to do
              None => continue,
              _ => {
                refused = Err(ProtocolError("an answer to no sendSync".into()));
                break;
              }
            }
            st.pending.remove(env.request);
            let reply = Reply {
              status: env.status,
              payload: env.payload,
            };
            if let Some(r) = st.renderers.get(id) {
              r.waiter.complete(env.request, Ok(reply));
            }
          }
        }
      }
    }
    wakes.run();
    refused
  }

  /// The uplinked renderer `id` lost its main side: a blocked sendSync throws, pending invokes
  /// reject, later calls throw ERR_IPC_DISCONNECTED, and JS is told with a `Gone` message.
  pub fn uplink_closed(&self, id: RendererId) {
    let mut wakes = Wakes::default();
    {
      let mut st = self.lock();
      let host = match st.renderers.get(id) {
        Some(r) if r.uplink.is_some() => match r.side {
          Side::Endpoint(e) => e,
          _ => return,
        },
        _ => return,
      };
      // From a connection's thread: pushes to the host must ring its bell (caller 0).
      st.fail_pending(0, |p| p.renderer == id, Status::Disconnected, &mut wakes);
      if let Some(r) = st.renderers.remove(id) {
        r.waiter.cancel(CoreError::Disconnected);
      }
      if let Some(ep) = st.endpoints.get_mut(&host) {
        ep.cut_off.insert(id, CoreError::Disconnected);
      }
      st.control(
        host,
        Envelope::new(Kind::Gone, id, 0, b"{}".to_vec()),
        &mut wakes,
      );
    }
    wakes.run();
  }
}
