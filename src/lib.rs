#![deny(clippy::all)]
//! napi exports only: each turns a JS call into a core call. See `lib/native.js` for the JS side
//! of the conventions used here (the scratch-buffer header, the signed request ids).
//!
//! Per-message operations are free functions taking the endpoint id: on this toolchain a napi-rs
//! class method costs ~235 ns a call against ~110 ns for a free function with arguments, and the
//! hot path makes a few of these per message. The `NativeEndpoint` class only owns the
//! endpoint's lifetime and its wake-up signal.

pub mod binding;
pub mod core;
pub mod transport;

use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, BufferSlice, Function, JsValue, Unknown};
use napi::Env;
use napi_derive::napi;

use crate::binding::args::{bad_arg, max_frame, scope};
use crate::binding::error::{to_js, Code, Result};
use crate::binding::probe::env_is_stopping;
use crate::binding::scratch::{
  reply_into, write_header, DONE, HEADER_BYTES, LARGE, LARGE_PAYLOAD, NONE,
};
use crate::binding::wake::Waker;
use crate::binding::watch::Watch;
use crate::binding::{payload, raw, young_memory};
use crate::core::renderers::RendererKind;
use crate::core::router::{global, Delivery, Wake};
use crate::core::waiter::{Reply, SpinPolicy};
use crate::core::{CoreError, EndpointId, Kind, RequestId, Route, Status};
use crate::transport::client;
use crate::transport::handoff;
use crate::transport::server::Server;

// ---- process ---------------------------------------------------------------------------------

/// Interns a channel name: messages carry the number.
#[napi(catch_unwind)]
pub fn intern_channel(name: String) -> u32 {
  global().intern(&name)
}

#[napi(catch_unwind)]
pub fn channel_name(id: u32) -> Option<String> {
  global().channel_name(id)
}

/// Sets how long a blocked `sendSync` spins before it parks, and how often a parked one checks
/// whether its thread is being torn down. For benchmarks and tuning.
#[napi(catch_unwind)]
pub fn set_spin_policy(spin_micros: u32, tick_millis: u32) {
  global().set_policy(SpinPolicy {
    spin: std::time::Duration::from_micros(spin_micros as u64),
    tick: std::time::Duration::from_millis(tick_millis.max(1) as u64),
  });
}

/// Panics with `message`: how the tests check that a Rust panic reaches JS as an error (with
/// `catch_unwind`) and never aborts Node.
#[napi(catch_unwind)]
pub fn panic_for_test(message: String) {
  panic!("{message}");
}

/// True for the first caller in the process: it installs the `exit` hook that calls `shutdown`.
#[napi(catch_unwind)]
pub fn claim_exit_hook() -> bool {
  global().claim_exit_hook()
}

/// The process is exiting with `exit_code`: what is still queued for a main in another process
/// is written, followed by goodbye (so main sees a clean end); then every thread blocked in
/// `sendSync` is released (ERR_IPC_DISCONNECTED) and no new wait starts, so teardown never hangs.
#[napi(catch_unwind)]
pub fn shutdown(exit_code: i32) {
  client::goodbye(exit_code);
  global().shutdown();
}

/// Where a main side listens, and the secret a renderer needs to connect.
#[napi(object)]
pub struct ListenInfo {
  pub address: String,
  pub token: String,
}

/// A renderer connected to a main in another process.
#[napi(object)]
pub struct ConnectInfo {
  /// Its id here (what this thread's calls use).
  pub renderer: u32,
  /// Its id in main (`webContents.id` there).
  pub remote: u32,
  /// Main's process id.
  pub main_pid: u32,
}

// ---- endpoint lifetime and wake-ups ---------------------------------------------------------

/// One JS thread's end of the core: its mailbox, and the main side it can host. Closed when
/// collected (or by `close`).
#[napi]
pub struct NativeEndpoint {
  id: EndpointId,
  waker: Option<Arc<Waker>>,
  /// The socket the main side hosted here listens on, if any.
  server: Option<Arc<Server>>,
  /// Connections this thread reads on its own loop.
  watches: Vec<Arc<Watch>>,
}

impl Default for NativeEndpoint {
  fn default() -> Self {
    NativeEndpoint {
      id: global().open_endpoint(None),
      waker: None,
      server: None,
      watches: Vec::new(),
    }
  }
}

#[napi]
impl NativeEndpoint {
  #[napi(constructor, catch_unwind)]
  pub fn new() -> Self {
    Self::default()
  }

  #[napi(getter)]
  pub fn id(&self) -> u32 {
    self.id
  }

  /// Lets other threads wake this one: `wake` is called on this thread when they queued
  /// messages here. Only needed while renderers in other threads exist, so in-process use
  /// never holds a threadsafe function (an open handle to jest).
  /// Returns true when this thread must schedule a drain (see `Core::set_waker`).
  #[napi(catch_unwind)]
  pub fn enable_wake(&mut self, env: Env, wake: Function<(), ()>) -> Result<bool> {
    if self.waker.is_some() {
      return Ok(false);
    }
    let waker = Arc::new(Waker::new(&env, wake).map_err(|e| bad_arg(&e.reason))?);
    let owed = global().set_waker(self.id, Some(waker.clone() as Arc<dyn Wake>));
    self.waker = Some(waker);
    Ok(owed)
  }

  /// Releases the wake-up signal (no renderer in another thread is left). Returns true when
  /// this thread must schedule a drain.
  #[napi(catch_unwind)]
  pub fn disable_wake(&mut self) -> bool {
    let owed = global().set_waker(self.id, None);
    if let Some(waker) = self.waker.take() {
      waker.close();
    }
    owed
  }

  /// Keeps this thread's event loop alive while something from another thread is awaited.
  #[napi(catch_unwind)]
  pub fn set_ref(&self, env: Env, on: bool) -> Result<()> {
    match &self.waker {
      Some(w) => w.set_ref(&env, on).map_err(|e| bad_arg(&e.reason)),
      None => Ok(()),
    }
  }

  /// A message from another thread or process is expected soon (the answer to an invoke, or
  /// the next request of a renderer just answered): the loop polls for it a while rather than
  /// sleep, within a budget that learns. Nothing happens without a wake-up signal.
  #[napi(catch_unwind)]
  pub fn expect_soon(&self) {
    if let Some(w) = &self.waker {
      w.expect();
    }
  }

  /// Closes the endpoint: the main side hosted here and its renderers go away.
  #[napi(catch_unwind)]
  pub fn close(&mut self) {
    self.close_server();
    global().close_endpoint(self.id);
    self.close_watches();
  }

  /// How many connections this thread reads on its own loop.
  #[napi(catch_unwind)]
  pub fn polled_connections(&mut self) -> u32 {
    self.watches.retain(|w| w.is_open());
    self.watches.iter().filter(|w| w.is_live()).count() as u32
  }

  /// Reads the connections whose frames come here on this thread's own event loop from now on
  /// (those connected since the last call). Returns how many.
  #[napi(catch_unwind)]
  pub fn adopt_connections(&mut self, env: Env) -> u32 {
    self.watches.retain(|w| w.is_open());
    let mut adopted = 0;
    for conn in handoff::take(self.id) {
      // Safety: a napi call runs on the env's own thread.
      if let Some(watch) = unsafe { Watch::start(env.raw(), conn) } {
        self.watches.push(watch);
        adopted += 1;
      }
    }
    adopted
  }

  /// Listens for renderer processes (at `path`, or in a private directory). Once per endpoint.
  #[napi(catch_unwind)]
  pub fn listen(
    &mut self,
    path: Option<String>,
    max_frame_size: Option<f64>,
  ) -> Result<ListenInfo> {
    if self.server.is_some() {
      return Err(napi::Error::new(
        Code("ERR_IPC_ALREADY_LISTENING".to_owned()),
        "This main is already listening".to_owned(),
      ));
    }
    let server = Server::listen(self.id, path.map(Into::into), max_frame(max_frame_size)?)
      .map_err(|e| {
        napi::Error::new(
          Code("ERR_IPC_LISTEN".to_owned()),
          format!("cannot listen: {e}"),
        )
      })?;
    let info = ListenInfo {
      address: server.path().to_string_lossy().into_owned(),
      token: server.token().to_owned(),
    };
    self.server = Some(server);
    Ok(info)
  }

  /// Stops listening (connections already made stay).
  #[napi(catch_unwind)]
  pub fn close_server(&mut self) {
    if let Some(server) = self.server.take() {
      server.close();
    }
  }

  /// Connects this thread, as a renderer, to the main listening at `address` (synchronously).
  #[napi(catch_unwind)]
  pub fn connect_main(
    &mut self,
    env: Env,
    address: String,
    token: String,
    expected: u32,
    max_frame_size: Option<f64>,
  ) -> Result<ConnectInfo> {
    let max = max_frame(max_frame_size)?;
    let connected = client::connect(self.id, address.as_ref(), &token, expected, max)
      .map_err(|e| napi::Error::new(Code(e.code().to_owned()), e.to_string()))?;
    self.adopt_connections(env);
    Ok(ConnectInfo {
      renderer: connected.renderer,
      remote: connected.welcome.renderer,
      main_pid: connected.welcome.pid,
    })
  }
}

impl NativeEndpoint {
  fn close_watches(&mut self) {
    for watch in self.watches.drain(..) {
      watch.close();
    }
  }
}

impl Drop for NativeEndpoint {
  // Runs on the JS thread (finalizer), so the wake signal can be closed here.
  fn drop(&mut self) {
    self.close();
    if let Some(waker) = self.waker.take() {
      waker.close();
    }
  }
}

// ---- renderer registry ----------------------------------------------------------------------

#[napi(catch_unwind)]
pub fn create_renderer(endpoint: u32, kind: u32) -> Result<u32> {
  let kind = RendererKind::from_u8(kind as u8).ok_or_else(|| bad_arg("unknown renderer kind"))?;
  global().create_renderer(endpoint, kind).map_err(to_js)
}

/// Returns true when this thread must schedule a drain.
#[napi(catch_unwind)]
pub fn destroy_renderer(endpoint: u32, renderer: u32) -> Result<bool> {
  global().destroy_renderer(endpoint, renderer).map_err(to_js)
}

#[napi(catch_unwind)]
pub fn renderers(endpoint: u32) -> Vec<u32> {
  global().renderers_of(endpoint)
}

/// A worker's renderer, on the worker's endpoint. True: schedule a drain (early messages).
#[napi(catch_unwind)]
pub fn connect(endpoint: u32, renderer: u32) -> Result<bool> {
  global().connect(renderer, endpoint).map_err(to_js)
}

// ---- listener and handler registry ----------------------------------------------------------

#[napi(catch_unwind)]
pub fn set_listening(
  endpoint: u32,
  scope_kind: u32,
  renderer: u32,
  channel: u32,
  on: bool,
) -> Result<()> {
  global().set_listening(scope(scope_kind, endpoint, renderer)?, channel, on);
  Ok(())
}

#[napi(catch_unwind)]
pub fn set_handler(
  endpoint: u32,
  scope_kind: u32,
  renderer: u32,
  channel: u32,
  on: bool,
) -> Result<()> {
  global().set_handler(scope(scope_kind, endpoint, renderer)?, channel, on);
  Ok(())
}

// ---- renderer side --------------------------------------------------------------------------

/// A blocking `sendSync` (worker thread or renderer process): waits for the answer, returned as
/// by `takeInline`. Gives up (ERR_IPC_CANCELLED) when this thread is being torn down. `splices`:
/// as for the raw exports.
#[napi(catch_unwind)]
pub fn sync_blocking(
  env: Env,
  endpoint: u32,
  renderer: u32,
  channel: u32,
  payload: Unknown<'_>,
  mut scratch: BufferSlice,
  splices: Option<Unknown<'_>>,
) -> Result<i32> {
  // Taken over like the raw exports' payloads when the encoder wrote it into lent memory; large
  // parts the encoder left out (`splices`) are read where they are while this call lasts.
  let splices = splices
    .map(|s| s.raw())
    .filter(|&s| unsafe { raw::is_given(env.raw(), s) });
  let (payload, _borrow) =
    unsafe { raw::spliced_payload_of(env.raw(), payload.raw(), splices, (3, 5)) }
      .map_err(|(code, message)| napi::Error::new(Code(code.to_owned()), message))?;
  let reply = global()
    .sync_blocking(endpoint, renderer, channel, payload, &mut || {
      env_is_stopping(&env)
    })
    .map_err(to_js)?;
  Ok(reply_into(reply, &mut scratch))
}

// ---- main side ------------------------------------------------------------------------------

// ---- the mailbox ----------------------------------------------------------------------------

/// Most messages handed over by one `next`.
const MAX_BATCH: usize = 4096;
/// Set in `next`'s count when the batch emptied the mailbox and it went idle (see
/// `Core::idle_if_drained`): the drain ends with this batch.
const DRAINED: i32 = 0x4000_0000;

/// Entries of a batch start on 8-byte boundaries, so JS reads their headers as u32 words.
fn entry_len(payload: usize) -> usize {
  (HEADER_BYTES + payload + 7) & !7
}

/// Writes one entry at `offset`; returns where the next one starts, or None when the payload
/// went to `takeLarge` (only ever the first and only entry of a batch).
fn write_entry(scratch: &mut [u8], offset: usize, d: Delivery, wake: bool) -> Option<usize> {
  let e = d.envelope;
  let len = e.payload.len();
  write_header(
    &mut scratch[offset..],
    e.kind as u8,
    e.status as u8,
    d.route.0,
    wake,
    e.renderer,
    e.channel,
    e.request,
    len as u32,
  );
  let start = offset + HEADER_BYTES;
  if scratch.len() < start + len {
    LARGE_PAYLOAD.with(|slot| *slot.borrow_mut() = Some(e.payload.into_vec()));
    return None;
  }
  scratch[start..start + len].copy_from_slice(&e.payload);
  Some(offset + entry_len(len))
}

/// The payload that did not fit in the scratch buffer (zero-copy: the bytes move to JS).
#[napi(catch_unwind)]
pub fn take_large(env: Env) -> Option<Buffer> {
  let payload = LARGE_PAYLOAD.with(|slot| slot.borrow_mut().take())?;
  // Safety: env is this callback's.
  unsafe { young_memory::before_handing_over(env.raw(), payload.len()) };
  Some(Buffer::from(payload))
}

/// Buffers lent to the JS encoder (`allocPayload`) and neither sent nor collected yet (tests).
#[napi(catch_unwind)]
pub fn lent_payloads() -> u32 {
  payload::outstanding() as u32
}

/// The bytes V8 counts as external memory of this isolate (tests: what lent buffers add).
#[napi(catch_unwind)]
pub fn external_memory(env: Env) -> f64 {
  let mut total = 0i64;
  unsafe { napi::sys::napi_adjust_external_memory(env.raw(), 0, &mut total) };
  total as f64
}

/// How many messages with large parts left out by the encoder had those parts copied (rather
/// than written from where they were) in this process so far. For tests.
#[napi(catch_unwind)]
pub fn spliced_joins() -> f64 {
  core::spliced::joins() as f64
}

/// Whether this process may run on one CPU only (`taskset -c 0`): its waits then yield the CPU
/// instead of spinning on it (core/anticipation.rs). For tests.
#[napi(catch_unwind)]
pub fn one_cpu() -> bool {
  core::anticipation::alone()
}

/// Rings a spinning loop answered on one CPU without a turn of its event loop, in this process
/// so far (binding/doorbell.rs). For tests.
#[napi(catch_unwind)]
pub fn one_cpu_answers() -> f64 {
  binding::doorbell::alone_answers() as f64
}

/// Messages waiting in an endpoint's mailbox (diagnostics and tests).
#[napi(catch_unwind)]
pub fn queued(endpoint: u32) -> u32 {
  global().queued(endpoint) as u32
}

/// Requests a main side still owes an answer to (diagnostics and tests).
#[napi(catch_unwind)]
pub fn pending(endpoint: u32) -> u32 {
  global().pending_count(endpoint) as u32
}

// ---- raw exports: the per-message calls (see binding/raw.rs) ---------------------------------
//
// Written against Node-API directly: a generated wrapper costs ~140 ns more a call, and these
// run once or more per message. Their JS names and conventions are those documented on each.

#[napi(module_exports)]
pub fn define_raw_exports(exports: napi::bindgen_prelude::Object, env: Env) -> napi::Result<()> {
  let defs: [(&str, raw::Callback); 15] = [
    ("send", send),
    ("sendStaged", send_staged),
    ("nextStaged", next_staged),
    ("openRing", open_ring),
    ("kick", kick),
    ("invoke", invoke),
    ("syncInline", sync_inline),
    ("takeInline", take_inline),
    ("sendToRenderer", send_to_renderer),
    ("replySync", reply_sync),
    ("closeInline", close_inline),
    ("settleInvoke", settle_invoke),
    ("settleHere", settle_here),
    ("next", next),
    ("allocPayload", alloc_payload),
  ];
  for (name, cb) in defs {
    unsafe { raw::define(env.raw(), exports.raw(), name, cb) }.map_err(napi::Error::from_reason)?;
  }
  Ok(())
}

type RawEnv = napi::sys::napi_env;
type RawInfo = napi::sys::napi_callback_info;
type RawValue = napi::sys::napi_value;

fn core_fail(e: CoreError) -> raw::Fail {
  (e.code(), e.to_string())
}

fn raw_status(v: u32) -> std::result::Result<Status, raw::Fail> {
  Status::from_u8(v as u8).ok_or(("ERR_IPC_INVALID_ARG", "unknown status".into()))
}

/// A new request's id for JS, negated when the caller must schedule a drain of its own mailbox.
fn raw_request(opened: std::result::Result<(RequestId, bool), CoreError>) -> raw::Result {
  let (request, wake) = opened.map_err(core_fail)?;
  let r = request as f64;
  Ok(raw::Out::Num(if wake { -r } else { r }))
}

/// `send(endpoint, renderer, kind, channel, payload[, splices])`: `send` (kind 1) or
/// `postMessage` (kind 2). True: schedule a drain of this thread. `splices`, here and below:
/// what the encoder left out of `payload` (Args::spliced_payload).
unsafe extern "C" fn send(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<6>(env, info, |a| {
    let kind = match Kind::from_u8(a.u32(2)? as u8) {
      Some(k @ (Kind::Send | Kind::Post)) => k,
      _ => return Err(("ERR_IPC_INVALID_ARG", "send takes kind 1 or 2".into())),
    };
    let (payload, _borrow) = a.spliced_payload(4, 5)?;
    global()
      .send(a.u32(0)?, a.u32(1)?, kind, a.u32(3)?, payload)
      .map(raw::Out::Bool)
      .map_err(core_fail)
  })
}

/// `sendStaged(endpoint, outbox, length)`: routes the first `length` bytes of an outbox of
/// in-process `send`s (core/outbox.rs). True: schedule a drain of this thread.
unsafe extern "C" fn send_staged(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<3>(env, info, |a| {
    let staged = staged_prefix(a.bytes(1)?, a.u32(2)?)?;
    let done = global().send_staged(a.u32(0)?, staged);
    match done.malformed {
      None => Ok(raw::Out::Bool(done.wake)),
      Some(e) => Err(malformed(e)),
    }
  })
}

/// The first `len` bytes of an outbox JS hands over.
fn staged_prefix(outbox: &[u8], len: u32) -> std::result::Result<&[u8], raw::Fail> {
  outbox.get(..len as usize).ok_or((
    "ERR_IPC_INVALID_ARG",
    "the outbox is shorter than that".into(),
  ))
}

/// Only a bug of the JS side writes a malformed outbox; what came before was routed all the same.
fn malformed(e: core::outbox::OutboxError) -> raw::Fail {
  ("ERR_IPC_INVALID_ARG", format!("malformed outbox: {e:?}"))
}

/// `nextStaged(endpoint, scratch, outbox, length)`: `next` for a drain that still holds an
/// outbox: hands it over, and when nothing older waits in the mailbox, writes the messages for
/// this thread's main side straight into `scratch` (Core::send_staged_direct). Returns as `next`.
unsafe extern "C" fn next_staged(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<4>(env, info, |a| {
    let endpoint = a.u32(0)?;
    let (scratch, outbox) = a.disjoint_bytes(1, 2)?;
    let staged = staged_prefix(outbox, a.u32(3)?)?;
    let core = global();
    let mut offset = 0;
    let mut count = 0;
    let direct = core.send_staged_direct(endpoint, staged, |m| {
      let end = offset + entry_len(m.payload.len());
      if end > scratch.len() || count == MAX_BATCH {
        return false;
      }
      count += 1;
      write_header(
        &mut scratch[offset..],
        m.kind as u8,
        0,
        Route::chain(m.kind).0,
        false,
        m.renderer,
        m.channel,
        0,
        m.payload.len() as u32,
      );
      let start = offset + HEADER_BYTES;
      scratch[start..start + m.payload.len()].copy_from_slice(m.payload);
      offset = end;
      true
    });
    match direct {
      Some(d) if d.taken > 0 => {
        let n = d.taken as i32;
        Ok(raw::Out::Int(if core.idle_if_drained(endpoint) {
          n | DRAINED
        } else {
          n
        }))
      }
      Some(_) => Ok(raw::Out::Int(take_next(endpoint, scratch, 0.0))),
      None => {
        if let Some(e) = core.send_staged(endpoint, staged).malformed {
          return Err(malformed(e));
        }
        Ok(raw::Out::Int(take_next(endpoint, scratch, 0.0)))
      }
    }
  })
}

/// `openRing(endpoint, renderer)`: the send ring of a worker renderer hosted by `endpoint`, as an
/// ArrayBuffer (lib/ring.js writes it; core/ring.rs reads it).
unsafe extern "C" fn open_ring(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<2>(env, info, |a| {
    let ring = global()
      .open_ring(a.u32(0)?, a.u32(1)?)
      .map_err(core_fail)?;
    binding::ring::array_buffer(a.env(), ring).map(raw::Out::Value)
  })
}

/// `kick(endpoint, renderer)`: the renderer wrote into its ring while main was idle: moves what
/// it wrote to main, and wakes main.
unsafe extern "C" fn kick(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<2>(env, info, |a| {
    global().kick(a.u32(0)?, a.u32(1)?).map_err(core_fail)?;
    Ok(raw::Out::Undefined)
  })
}

/// `invoke(endpoint, renderer, channel, payload[, splices])`: the request id, negative when a drain of
/// this thread must be scheduled.
unsafe extern "C" fn invoke(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<5>(env, info, |a| {
    let (payload, _borrow) = a.spliced_payload(3, 4)?;
    raw_request(global().invoke(a.u32(0)?, a.u32(1)?, a.u32(2)?, payload))
  })
}

/// `syncInline(endpoint, renderer, channel, payload)`: an in-process `sendSync`; queues it and
/// returns the (signed) request id. The caller then pumps with `next(endpoint, scratch,
/// request)` until DONE, and calls `takeInline`.
unsafe extern "C" fn sync_inline(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<4>(env, info, |a| {
    let payload = a.payload(3)?;
    raw_request(global().sync_inline(a.u32(0)?, a.u32(1)?, a.u32(2)?, payload))
  })
}

/// `takeInline(request, scratch)`: the answer to an in-process `sendSync`: its length in the
/// scratch buffer, LARGE, or a status.
unsafe extern "C" fn take_inline(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<2>(env, info, |a| {
    let reply = global().take_inline(a.f64(0)? as RequestId);
    Ok(raw::Out::Int(reply_into(reply, a.bytes(1)?)))
  })
}

/// `sendToRenderer(endpoint, renderer, channel, payload[, splices])`: `webContents.send`. True:
/// schedule a drain of this thread (in-process renderer).
unsafe extern "C" fn send_to_renderer(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<5>(env, info, |a| {
    let (payload, _borrow) = a.spliced_payload(3, 4)?;
    global()
      .send_to_renderer(a.u32(0)?, a.u32(1)?, a.u32(2)?, payload)
      .map(raw::Out::Bool)
      .map_err(core_fail)
  })
}

/// `replySync(endpoint, request, status, payload[, splices])`: `event.returnValue = …` (status 0
/// with the value), or another status. First answer wins.
unsafe extern "C" fn reply_sync(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<5>(env, info, |a| {
    let (payload, _borrow) = a.spliced_payload(3, 4)?;
    let reply = Reply {
      status: raw_status(a.u32(2)?)?,
      payload,
    };
    let answered = global().reply_sync(a.u32(0)?, a.f64(1)? as RequestId, reply);
    Ok(raw::Out::Bool(answered))
  })
}

/// `closeInline(request)`: ends the dispatch of an in-process `sendSync`: 1 answered, 0 not
/// answered, -1 gone (its renderer was destroyed meanwhile).
unsafe extern "C" fn close_inline(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<1>(env, info, |a| {
    Ok(raw::Out::Int(
      match global().close_inline(a.f64(0)? as RequestId) {
        Some(true) => 1,
        Some(false) => 0,
        None => -1,
      },
    ))
  })
}

/// `settleInvoke(endpoint, request, status, payload[, splices])`: settles an `invoke`. True: schedule a
/// drain of this thread.
unsafe extern "C" fn settle_invoke(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<5>(env, info, |a| {
    let status = raw_status(a.u32(2)?)?;
    let (payload, _borrow) = a.spliced_payload(3, 4)?;
    let (_, wake) = global().settle_invoke(a.u32(0)?, a.f64(1)? as RequestId, status, payload);
    Ok(raw::Out::Bool(wake))
  })
}

/// `settleHere(endpoint, request)`: closes an invoke whose answer JS can hand to the waiting
/// promise itself (see `Core::settle_here`): the id that promise waits under, or 0 when the
/// answer must go through `settleInvoke`.
unsafe extern "C" fn settle_here(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<2>(env, info, |a| {
    let here = global().settle_here(a.u32(0)?, a.f64(1)? as RequestId);
    Ok(raw::Out::Num(here.map_or(0.0, |id| id as f64)))
  })
}

/// `allocPayload(size)`: an ArrayBuffer for the JS encoder to grow a large message into; the
/// call that sends the message takes the memory over instead of copying it (binding/payload.rs).
unsafe extern "C" fn alloc_payload(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<1>(env, info, |a| {
    let size = a.f64(0)?;
    if !(0.0..=(isize::MAX as f64)).contains(&size) {
      return Err(("ERR_IPC_INVALID_ARG", "a size in bytes".into()));
    }
    payload::alloc(a.env(), size as usize).map(raw::Out::Value)
  })
}

/// `next(endpoint, scratch, until)`: takes messages into `scratch`: back-to-back entries of a
/// header then the payload, each starting on an 8-byte boundary. Returns how many (with the
/// DRAINED bit when that emptied the mailbox and it went idle), NONE (-1) when there is
/// nothing to take, or LARGE (-2) for one message whose payload did not fit (its
/// header is written; `takeLarge` has the payload). With `until` (a request id) it pumps for
/// an in-process `sendSync`: one main-bound message at a time, and DONE (-3) once that request
/// has been dispatched.
unsafe extern "C" fn next(env: RawEnv, info: RawInfo) -> RawValue {
  raw::call::<3>(env, info, |a| {
    Ok(raw::Out::Int(take_next(a.u32(0)?, a.bytes(1)?, a.f64(2)?)))
  })
}

fn take_next(endpoint: u32, scratch: &mut [u8], until: f64) -> i32 {
  let core = global();
  if until > 0.0 {
    if core.is_closed(until as RequestId) {
      return DONE;
    }
    return match core.pop(endpoint, true) {
      (None, _) => NONE,
      (Some(d), wake) => write_entry(scratch, 0, d, wake).map_or(LARGE, |_| 1),
    };
  }
  // What workers wrote into their rings goes straight into the batch when nothing is older.
  let mut offset = 0;
  let mut count = 0;
  let direct = core.take_rings_direct(endpoint, |renderer, kind, channel, payload| {
    let end = offset + entry_len(payload.len());
    if end > scratch.len() || count == MAX_BATCH {
      return false;
    }
    count += 1;
    write_header(
      &mut scratch[offset..],
      kind as u8,
      0,
      Route::chain(kind).0,
      false,
      renderer,
      channel,
      0,
      payload.len() as u32,
    );
    scratch[offset + HEADER_BYTES..offset + HEADER_BYTES + payload.len()].copy_from_slice(payload);
    offset = end;
    true
  });
  if direct > 0 {
    return direct as i32;
  }
  let (batch, wake) = core.pop_batch(endpoint, scratch.len(), entry_len, MAX_BATCH);
  let count = batch.len() as i32;
  let mut offset = 0;
  for (i, d) in batch.into_iter().enumerate() {
    match write_entry(scratch, offset, d, wake && i == 0) {
      Some(end) => offset = end,
      None => return LARGE,
    }
  }
  if count == 0 {
    NONE
  } else if core.idle_if_drained(endpoint) {
    count | DRAINED
  } else {
    count
  }
}
