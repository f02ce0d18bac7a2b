//! A wake-up signal of our own: a libuv async handle on the target thread's event loop.
//!
//! napi's threadsafe functions call `uv_async_send` while holding a mutex that the receiving
//! thread takes too. When both threads share one CPU, the woken thread preempts the caller at
//! that write and then blocks on the mutex the caller still holds: two extra context switches per
//! wake-up (measured: most of a pinned worker sendSync's cost). Ringing this bell takes no lock the
//! receiver needs. Its callback enters JS through `napi_make_callback`, so microtasks run and an
//! exception is reported as uncaught, as for any Node callback.
//!
//! `Doorbell::new` returns None where libuv's symbols cannot be found (see `uv`): the caller
//! then uses a threadsafe function instead.
//!
//! A bell rung on its own thread while that thread reads a socket (`defer_rings`) is not rung
//! through libuv: its callback runs right after the read, skipping a trip around the loop.
//!
//! While its thread expects a message soon (`expect`), an idle handle keeps the loop polling
//! instead of sleeping (core/anticipation.rs says for how long), and runs the callback as soon as
//! the bell is rung, without waiting for the async handle's turn.

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

use napi::sys;

use super::cleanup;
use super::uv::{uv, Uv, UV_ASYNC, UV_IDLE};
use crate::core::anticipation::{alone, Anticipation};
use crate::core::lock::lock;
use crate::core::router::global;

/// The longest a loop polls for something expected (the sendSync spin may be tuned longer: a
/// blocked thread has nothing else to do, a loop that spins keeps its CPU from others).
const MAX_LOOP_SPIN: std::time::Duration = std::time::Duration::from_micros(100);

pub struct Doorbell {
  uv: &'static Uv,
  /// The uv_async_t while open, null once closed. Read-locked to ring, write-locked to close.
  handle: RwLock<*mut c_void>,
  /// The uv_idle_t that keeps the loop polling during a spin; null once closed.
  idle: RwLock<*mut c_void>,
  /// Rung since the callback last ran: the async handle's turn then owes nobody a call.
  rung: AtomicBool,
  /// The loop is kept polling (`expect`): it sees `rung` on its next turn, so a ring skips the
  /// async send (a syscall on each side).
  spinning: AtomicBool,
  anticipation: Mutex<Anticipation>,
  env: sys::napi_env,
  callback: sys::napi_ref,
  thread: std::thread::ThreadId,
}

thread_local! {
  /// While this thread reads sockets (`defer_rings`): the bells of this thread rung meanwhile.
  static DEFERRED: RefCell<Option<Vec<*const Doorbell>>> = const { RefCell::new(None) };
}

/// Runs `read` (which must not run JS) holding back rings of this thread's bells, then runs the
/// callbacks of those rung: the thread was going to run them next anyway. Callers must keep
/// those bells alive meanwhile (a bell is only closed from JS, which `read` does not run).
pub fn defer_rings<T>(read: impl FnOnce() -> T) -> T {
  let outer = DEFERRED.with(|d| d.borrow_mut().replace(Vec::new()));
  let out = read();
  let rung = DEFERRED.with(|d| std::mem::replace(&mut *d.borrow_mut(), outer));
  for (i, bell) in rung.unwrap_or_default().into_iter().enumerate() {
    // Safety: rung during `read`, and nothing closed it since (see above).
    let bell = unsafe { &*bell };
    if i == 0 {
      unsafe { bell.call_js() };
    } else {
      // Another main side on this thread (jest loads the package once per test file): its
      // callback runs as usual, after this one's JS.
      bell.ring();
    }
  }
  out
}

// The handle and the env are only touched on their own thread, except `uv_async_send`, which
// libuv allows from any thread; the lock keeps it from racing the close.
unsafe impl Send for Doorbell {}
unsafe impl Sync for Doorbell {}

impl Doorbell {
  /// Creates the bell on the calling JS thread's loop. Unref'd: it does not keep the loop alive.
  ///
  /// # Safety
  /// `env` must be the env of the calling thread, and `callback` a function value of it.
  pub unsafe fn new(env: sys::napi_env, callback: sys::napi_value) -> Option<Arc<Doorbell>> {
    let uv = uv()?;
    unsafe {
      let mut loop_ = ptr::null_mut();
      if sys::napi_get_uv_event_loop(env, &mut loop_) != sys::Status::napi_ok || loop_.is_null() {
        return None;
      }
      let mut reference = ptr::null_mut();
      if sys::napi_create_reference(env, callback, 1, &mut reference) != sys::Status::napi_ok {
        return None;
      }
      let handle = std::alloc::alloc_zeroed(uv.layout(UV_ASYNC)) as *mut c_void;
      if handle.is_null() || (uv.async_init)(loop_.cast(), handle, on_ring) != 0 {
        std::alloc::dealloc(handle.cast(), uv.layout(UV_ASYNC));
        sys::napi_delete_reference(env, reference);
        return None;
      }
      // Without an idle handle the bell still works; it just never spins.
      let mut idle = std::alloc::alloc_zeroed(uv.layout(UV_IDLE)) as *mut c_void;
      if !idle.is_null() && (uv.idle_init)(loop_.cast(), idle) != 0 {
        std::alloc::dealloc(idle.cast(), uv.layout(UV_IDLE));
        idle = ptr::null_mut();
      }
      let bell = Arc::new(Doorbell {
        uv,
        handle: RwLock::new(handle),
        idle: RwLock::new(idle),
        rung: AtomicBool::new(false),
        spinning: AtomicBool::new(false),
        anticipation: Mutex::new(Anticipation::default()),
        env,
        callback: reference,
        thread: std::thread::current().id(),
      });
      // A handle's `data` (its first field) keeps the bell alive until the handle is closed.
      *(handle as *mut *const Doorbell) = Arc::into_raw(bell.clone());
      (uv.unref)(handle);
      if !idle.is_null() {
        *(idle as *mut *const Doorbell) = Arc::into_raw(bell.clone());
        (uv.unref)(idle);
      }
      // Closed before the loop goes away, whatever JS did.
      cleanup::add(env, &bell, on_cleanup);
      Some(bell)
    }
  }

  /// Wakes the owning thread. Any thread; coalesced by libuv (one callback for several rings).
  pub fn ring(&self) {
    let deferred = DEFERRED.with(|d| {
      let mut d = d.borrow_mut();
      match d.as_mut() {
        // Only bells of this thread are ever deferred (the list exists on this thread only).
        Some(list) if self.thread == std::thread::current().id() => {
          if !list.iter().any(|p| std::ptr::eq(*p, self)) {
            list.push(self as *const Doorbell);
          }
          true
        }
        _ => false,
      }
    });
    if deferred {
      return;
    }
    // Before the async send: a spinning loop may see the flag first and run the callback.
    // SeqCst, against `stop_idle`: either this sees the spin still on, or the spin's end sees
    // this ring.
    self.rung.store(true, Ordering::SeqCst);
    if self.spinning.load(Ordering::SeqCst) {
      return;
    }
    self.send();
  }

  fn send(&self) {
    let handle = self.handle.read().unwrap_or_else(|p| p.into_inner());
    if !handle.is_null() {
      unsafe { (self.uv.async_send)(*handle) };
    }
  }

  /// Something for this thread is expected soon (an answer, or a renderer's next request):
  /// keep the loop polling for it a while instead of sleeping. Owning thread only.
  pub fn expect(&self) {
    let idle = self.idle.read().unwrap_or_else(|p| p.into_inner());
    if idle.is_null() {
      return;
    }
    let max = global().policy().spin.min(MAX_LOOP_SPIN);
    let mut anticipation = lock(&self.anticipation);
    let was_spinning = anticipation.is_spinning();
    if anticipation.expect(Instant::now(), max).is_some() {
      if !was_spinning {
        unsafe { (self.uv.idle_start)(*idle, on_idle) };
        self.spinning.store(true, Ordering::SeqCst);
      }
    } else if was_spinning {
      drop(idle);
      self.stop_idle();
    }
  }

  /// Something arrived: the spin (if any) has done its job.
  fn arrived(&self) {
    if lock(&self.anticipation).arrived(Instant::now()) {
      self.stop_idle();
    }
  }

  fn stop_idle(&self) {
    let idle = self.idle.read().unwrap_or_else(|p| p.into_inner());
    if !idle.is_null() {
      unsafe { (self.uv.idle_stop)(*idle) };
    }
    drop(idle);
    self.spinning.store(false, Ordering::SeqCst);
    // A ring that saw the spin still on sent nothing: the loop may sleep now, so wake it.
    if self.rung.load(Ordering::SeqCst) {
      self.send();
    }
  }

  /// Keeps (or stops keeping) the owning loop alive. Owning thread only.
  pub fn set_ref(&self, on: bool) {
    let handle = self.handle.read().unwrap_or_else(|p| p.into_inner());
    if !handle.is_null() {
      unsafe {
        if on {
          (self.uv.ref_)(*handle)
        } else {
          (self.uv.unref)(*handle)
        }
      }
    }
  }

  /// Closes the handle. Owning thread only; idempotent.
  pub fn close(self: &Arc<Self>) {
    self.close_inner(true);
  }

  fn close_inner(self: &Arc<Self>, remove_hook: bool) {
    let handle = {
      let mut guard = self.handle.write().unwrap_or_else(|p| p.into_inner());
      std::mem::replace(&mut *guard, ptr::null_mut())
    };
    if handle.is_null() {
      return;
    }
    let idle = {
      let mut guard = self.idle.write().unwrap_or_else(|p| p.into_inner());
      std::mem::replace(&mut *guard, ptr::null_mut())
    };
    self.spinning.store(false, Ordering::SeqCst);
    unsafe {
      if !idle.is_null() {
        (self.uv.close)(idle, on_idle_close);
      }
      (self.uv.close)(handle, on_close);
      sys::napi_delete_reference(self.env, self.callback);
      if remove_hook {
        cleanup::remove(self.env, self, on_cleanup);
      }
    }
  }
}

unsafe extern "C" fn on_ring(handle: *mut c_void) {
  let bell = &*(*(handle as *const *const Doorbell));
  // A spinning loop may have run the callback for this ring already.
  if bell.rung.load(Ordering::SeqCst) {
    bell.call_js();
  }
}

/// Every turn of a spinning loop: run the callback as soon as the bell is rung, or stop when the
/// spin's time is up.
unsafe extern "C" fn on_idle(idle: *mut c_void) {
  let bell = &*(*(idle as *const *const Doorbell));
  if bell.rung.load(Ordering::SeqCst) {
    bell.call_js();
  } else if lock(&bell.anticipation).expired(Instant::now()) {
    bell.stop_idle();
    return;
  }
  if !alone() {
    return;
  }
  // One CPU: the other side can only run if this thread lets it. While it rings again as soon
  // as it has run, answer here rather than after another turn of the loop (a turn polls for
  // I/O: a system call, the round trip's third on one CPU); a few times, and never for long,
  // then the loop's turn (a yield may give a whole time slice to some other busy thread).
  let until = Instant::now() + ALONE_FOR;
  for _ in 1..ALONE_CALLS {
    if !bell.spinning.load(Ordering::SeqCst) {
      return;
    }
    if !bell.rung.load(Ordering::SeqCst) {
      libc::sched_yield();
      if !bell.rung.load(Ordering::SeqCst) {
        return;
      }
    }
    bell.call_js();
    ALONE_ANSWERS.fetch_add(1, Ordering::Relaxed);
    if Instant::now() >= until {
      return;
    }
  }
}

/// Callbacks a spinning loop on one CPU runs in one turn of its event loop at most, and for how
/// long, before its other handles get their turn.
const ALONE_CALLS: usize = 8;
const ALONE_FOR: std::time::Duration = std::time::Duration::from_micros(50);

/// Rings answered without a turn of the loop, on one CPU (tests: the path is taken).
static ALONE_ANSWERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

pub fn alone_answers() -> u64 {
  ALONE_ANSWERS.load(Ordering::Relaxed)
}

impl Doorbell {
  /// Runs the callback (on the bell's thread, from the event loop), as a Node callback.
  unsafe fn call_js(&self) {
    if self.handle.read().map(|h| h.is_null()).unwrap_or(true) {
      return;
    }
    self.rung.store(false, Ordering::SeqCst);
    self.arrived();
    let env = self.env;
    let mut scope = ptr::null_mut();
    if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
      return;
    }
    let mut func = ptr::null_mut();
    // napi_make_callback wants an object as the receiver.
    let mut recv = ptr::null_mut();
    if sys::napi_get_reference_value(env, self.callback, &mut func) == sys::Status::napi_ok
      && !func.is_null()
      && sys::napi_get_global(env, &mut recv) == sys::Status::napi_ok
    {
      let mut result = ptr::null_mut();
      let status = sys::napi_make_callback(
        env,
        ptr::null_mut(),
        recv,
        func,
        0,
        ptr::null(),
        &mut result,
      );
      if status == sys::Status::napi_pending_exception {
        let mut error = ptr::null_mut();
        if sys::napi_get_and_clear_last_exception(env, &mut error) == sys::Status::napi_ok {
          sys::napi_fatal_exception(env, error);
        }
      }
    }
    sys::napi_close_handle_scope(env, scope);
  }
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
  let bell = Arc::from_raw(*(handle as *const *const Doorbell));
  std::alloc::dealloc(handle.cast(), bell.uv.layout(UV_ASYNC));
  drop(bell);
}

unsafe extern "C" fn on_idle_close(idle: *mut c_void) {
  let bell = Arc::from_raw(*(idle as *const *const Doorbell));
  std::alloc::dealloc(idle.cast(), bell.uv.layout(UV_IDLE));
  drop(bell);
}

unsafe extern "C" fn on_cleanup(arg: *mut c_void) {
  let bell = Arc::from_raw(arg as *const Doorbell);
  bell.close_inner(false);
}
