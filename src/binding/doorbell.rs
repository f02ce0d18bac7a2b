//! A wake-up signal of our own: a libuv async handle on the target thread's event loop.
//!
//! napi's threadsafe functions call `uv_async_send` while holding a mutex that the receiving
//! thread takes too. When both threads share one CPU, the woken thread preempts the caller at
//! that write and then blocks on the mutex the caller still holds: two extra context switches per
//! wake-up (measured: most of a pinned worker sendSync's cost). Ringing this bell takes no lock the
//! receiver needs. Its callback enters JS through `napi_make_callback`, so microtasks run and an
//! exception is reported as uncaught, as for any Node callback.
//!
//! libuv is exported by the Node binary; the symbols are looked up at run time (so the crate
//! still links without Node, for `cargo test`), and `Doorbell::new` returns None where they
//! cannot be found: the caller then uses a threadsafe function instead.

use std::ffi::{c_void, CStr};
use std::ptr;
use std::sync::{Arc, OnceLock, RwLock};

use napi::sys;

type Callback = unsafe extern "C" fn(*mut c_void);

struct Uv {
  handle_size: unsafe extern "C" fn(i32) -> usize,
  async_init: unsafe extern "C" fn(*mut c_void, *mut c_void, Callback) -> i32,
  async_send: unsafe extern "C" fn(*mut c_void) -> i32,
  close: unsafe extern "C" fn(*mut c_void, Callback),
  ref_: unsafe extern "C" fn(*mut c_void),
  unref: unsafe extern "C" fn(*mut c_void),
}

/// `UV_ASYNC` in libuv's `uv_handle_type`.
const UV_ASYNC: i32 = 1;

fn uv() -> Option<&'static Uv> {
  static UV: OnceLock<Option<Uv>> = OnceLock::new();
  UV.get_or_init(|| unsafe {
    Some(Uv {
      handle_size: symbol(c"uv_handle_size")?,
      async_init: symbol(c"uv_async_init")?,
      async_send: symbol(c"uv_async_send")?,
      close: symbol(c"uv_close")?,
      ref_: symbol(c"uv_ref")?,
      unref: symbol(c"uv_unref")?,
    })
  })
  .as_ref()
}

/// A function of the host process by name, as the function pointer type `F`.
unsafe fn symbol<F: Copy>(name: &CStr) -> Option<F> {
  let p = libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr());
  (!p.is_null()).then(|| std::mem::transmute_copy::<*mut c_void, F>(&p))
}

fn layout(uv: &Uv) -> std::alloc::Layout {
  let size = unsafe { (uv.handle_size)(UV_ASYNC) };
  std::alloc::Layout::from_size_align(size.max(8), 16).expect("a small layout")
}

pub struct Doorbell {
  uv: &'static Uv,
  /// The uv_async_t while open, null once closed. Read-locked to ring, write-locked to close.
  handle: RwLock<*mut c_void>,
  env: sys::napi_env,
  callback: sys::napi_ref,
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
      let handle = std::alloc::alloc_zeroed(layout(uv)) as *mut c_void;
      if handle.is_null() || (uv.async_init)(loop_.cast(), handle, on_ring) != 0 {
        std::alloc::dealloc(handle.cast(), layout(uv));
        sys::napi_delete_reference(env, reference);
        return None;
      }
      let bell = Arc::new(Doorbell {
        uv,
        handle: RwLock::new(handle),
        env,
        callback: reference,
      });
      // The handle's `data` (its first field) keeps the bell alive until the handle is closed.
      *(handle as *mut *const Doorbell) = Arc::into_raw(bell.clone());
      (uv.unref)(handle);
      // Closed before the loop goes away, whatever JS did.
      sys::napi_add_env_cleanup_hook(
        env,
        Some(on_cleanup),
        Arc::into_raw(bell.clone()) as *mut c_void,
      );
      Some(bell)
    }
  }

  /// Wakes the owning thread. Any thread; coalesced by libuv (one callback for several rings).
  pub fn ring(&self) {
    let handle = self.handle.read().unwrap_or_else(|p| p.into_inner());
    if !handle.is_null() {
      unsafe { (self.uv.async_send)(*handle) };
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
    unsafe {
      (self.uv.close)(handle, on_close);
      sys::napi_delete_reference(self.env, self.callback);
      if remove_hook {
        // The hook holds a reference to the bell: take it back along with the hook.
        let arg = Arc::as_ptr(self) as *mut c_void;
        if sys::napi_remove_env_cleanup_hook(self.env, Some(on_cleanup), arg)
          == sys::Status::napi_ok
        {
          Arc::decrement_strong_count(arg as *const Doorbell);
        }
      }
    }
  }
}

unsafe extern "C" fn on_ring(handle: *mut c_void) {
  let bell = &*(*(handle as *const *const Doorbell));
  if bell.handle.read().map(|h| h.is_null()).unwrap_or(true) {
    return;
  }
  let env = bell.env;
  let mut scope = ptr::null_mut();
  if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
    return;
  }
  let mut func = ptr::null_mut();
  // napi_make_callback wants an object as the receiver.
  let mut recv = ptr::null_mut();
  if sys::napi_get_reference_value(env, bell.callback, &mut func) == sys::Status::napi_ok
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

unsafe extern "C" fn on_close(handle: *mut c_void) {
  let bell = Arc::from_raw(*(handle as *const *const Doorbell));
  std::alloc::dealloc(handle.cast(), layout(bell.uv));
  drop(bell);
}

unsafe extern "C" fn on_cleanup(arg: *mut c_void) {
  let bell = Arc::from_raw(arg as *const Doorbell);
  bell.close_inner(false);
}
