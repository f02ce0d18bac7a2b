//! A connection read by the JS thread its frames are for: a libuv poll handle on that thread's
//! loop watches the socket, and its callback reads and delivers what arrived, then dispatches it
//! at once (the rings of this thread's bell are deferred to right after the read). One wake-up
//! per message exchange instead of two: no reader thread between the socket and JS.

use std::ffi::c_void;
use std::ptr;
use std::sync::{Arc, Mutex};

use napi::sys;

use super::cleanup;
use super::doorbell::defer_rings;
use super::uv::{uv, Uv, UV_POLL, UV_READABLE};
use crate::transport::connection::Connection;

pub struct Watch {
  uv: &'static Uv,
  /// The uv_poll_t while open, null once closed. Only touched on the owning thread; the mutex
  /// makes the type shareable.
  handle: Mutex<*mut c_void>,
  conn: Arc<Connection>,
  env: sys::napi_env,
}

// The handle is only used on its loop's thread (see above).
unsafe impl Send for Watch {}
unsafe impl Sync for Watch {}

impl Watch {
  /// Takes the reading of `conn` over on the calling JS thread. None if libuv cannot be used
  /// (the connection's reader task goes on reading) or the connection ended already.
  ///
  /// # Safety
  /// `env` must be the env of the calling thread.
  pub unsafe fn start(env: sys::napi_env, conn: Arc<Connection>) -> Option<Arc<Watch>> {
    let uv = uv()?;
    let mut loop_ = ptr::null_mut();
    if sys::napi_get_uv_event_loop(env, &mut loop_) != sys::Status::napi_ok || loop_.is_null() {
      return None;
    }
    let handle = std::alloc::alloc_zeroed(uv.layout(UV_POLL)) as *mut c_void;
    if handle.is_null() {
      return None;
    }
    if (uv.poll_init)(loop_.cast(), handle, conn.fd()) != 0 {
      std::alloc::dealloc(handle.cast(), uv.layout(UV_POLL));
      return None;
    }
    if !conn.take_over() {
      // Initialized handles are closed through the loop, never just freed.
      (uv.close)(handle, free_unowned);
      return None;
    }
    let watch = Arc::new(Watch {
      uv,
      handle: Mutex::new(handle),
      conn,
      env,
    });
    // The handle's `data` (its first field) keeps the watch alive until the handle is closed.
    *(handle as *mut *const Watch) = Arc::into_raw(watch.clone());
    // Never keeps the loop alive itself: the endpoint's bell is ref'd while something is owed.
    (uv.unref)(handle);
    (uv.poll_start)(handle, UV_READABLE, on_readable);
    cleanup::add(env, &watch, on_cleanup);
    // Input that arrived before the handle existed needs no read here: the poll is
    // level-triggered, so the loop's next turn reports it (the end of the stream too).
    Some(watch)
  }

  pub fn is_open(&self) -> bool {
    !self
      .handle
      .lock()
      .unwrap_or_else(|p| p.into_inner())
      .is_null()
  }

  /// Open, and its connection not closed (its end may not have been read yet).
  pub fn is_live(&self) -> bool {
    self.is_open() && !self.conn.is_closed()
  }

  fn read(self: &Arc<Self>) {
    let open = defer_rings(|| self.conn.pump());
    if !open {
      self.close();
    }
  }

  /// Stops watching. Owning thread only; idempotent. A connection still open is ended: nobody
  /// would read it any more.
  pub fn close(self: &Arc<Self>) {
    self.close_inner(true);
  }

  fn close_inner(self: &Arc<Self>, remove_hook: bool) {
    let handle = std::mem::replace(
      &mut *self.handle.lock().unwrap_or_else(|p| p.into_inner()),
      ptr::null_mut(),
    );
    if handle.is_null() {
      return;
    }
    // Its end must still be reported (pending requests failed, the renderer gone).
    self.conn.abandon();
    unsafe {
      (self.uv.poll_stop)(handle);
      (self.uv.close)(handle, on_close);
      if remove_hook {
        cleanup::remove(self.env, self, on_cleanup);
      }
    }
  }
}

unsafe extern "C" fn on_readable(handle: *mut c_void, _status: i32, _events: i32) {
  // A clone: the JS that runs after the read may close the watch.
  let watch = {
    let raw = *(handle as *const *const Watch);
    Arc::increment_strong_count(raw);
    Arc::from_raw(raw)
  };
  if watch.is_open() {
    // On an error status too: the read finds out what is wrong and ends the connection.
    watch.read();
  }
}

unsafe extern "C" fn on_close(handle: *mut c_void) {
  let watch = Arc::from_raw(*(handle as *const *const Watch));
  std::alloc::dealloc(handle.cast(), watch.uv.layout(UV_POLL));
  drop(watch);
}

unsafe extern "C" fn free_unowned(handle: *mut c_void) {
  if let Some(uv) = uv() {
    std::alloc::dealloc(handle.cast(), uv.layout(UV_POLL));
  }
}

unsafe extern "C" fn on_cleanup(arg: *mut c_void) {
  let watch = Arc::from_raw(arg as *const Watch);
  watch.close_inner(false);
}
