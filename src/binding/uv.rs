//! The few libuv functions this addon uses, looked up in the host process at run time.
//!
//! libuv is exported by the Node binary. Looking the symbols up (rather than linking them) lets
//! the crate link without Node, for `cargo test`; where they cannot be found, `uv()` is None and
//! callers fall back to what napi offers.

use std::ffi::{c_void, CStr};
use std::sync::OnceLock;

pub type HandleCallback = unsafe extern "C" fn(*mut c_void);
pub type PollCallback = unsafe extern "C" fn(*mut c_void, i32, i32);

pub struct Uv {
  pub handle_size: unsafe extern "C" fn(i32) -> usize,
  pub async_init: unsafe extern "C" fn(*mut c_void, *mut c_void, HandleCallback) -> i32,
  pub async_send: unsafe extern "C" fn(*mut c_void) -> i32,
  pub poll_init: unsafe extern "C" fn(*mut c_void, *mut c_void, i32) -> i32,
  pub poll_start: unsafe extern "C" fn(*mut c_void, i32, PollCallback) -> i32,
  pub poll_stop: unsafe extern "C" fn(*mut c_void) -> i32,
  pub idle_init: unsafe extern "C" fn(*mut c_void, *mut c_void) -> i32,
  pub idle_start: unsafe extern "C" fn(*mut c_void, HandleCallback) -> i32,
  pub idle_stop: unsafe extern "C" fn(*mut c_void) -> i32,
  pub close: unsafe extern "C" fn(*mut c_void, HandleCallback),
  pub ref_: unsafe extern "C" fn(*mut c_void),
  pub unref: unsafe extern "C" fn(*mut c_void),
}

/// `uv_handle_type` values.
pub const UV_ASYNC: i32 = 1;
pub const UV_IDLE: i32 = 6;
pub const UV_POLL: i32 = 8;
/// `uv_poll_event`: readable.
pub const UV_READABLE: i32 = 1;

pub fn uv() -> Option<&'static Uv> {
  static UV: OnceLock<Option<Uv>> = OnceLock::new();
  UV.get_or_init(|| unsafe {
    Some(Uv {
      handle_size: symbol(c"uv_handle_size")?,
      async_init: symbol(c"uv_async_init")?,
      async_send: symbol(c"uv_async_send")?,
      poll_init: symbol(c"uv_poll_init")?,
      poll_start: symbol(c"uv_poll_start")?,
      poll_stop: symbol(c"uv_poll_stop")?,
      idle_init: symbol(c"uv_idle_init")?,
      idle_start: symbol(c"uv_idle_start")?,
      idle_stop: symbol(c"uv_idle_stop")?,
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

impl Uv {
  /// Memory for a handle of `kind` (zeroed; its first field, `data`, is ours).
  pub fn layout(&self, kind: i32) -> std::alloc::Layout {
    let size = unsafe { (self.handle_size)(kind) };
    std::alloc::Layout::from_size_align(size.max(8), 16).expect("a small layout")
  }
}
