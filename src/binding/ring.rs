//! A worker renderer's send ring (core/ring.rs) as an ArrayBuffer of the worker's JS: the memory
//! is the core's, shared with main's thread, and lives as long as either still holds it.

use std::ffi::c_void;
use std::ptr;
use std::sync::Arc;

use napi::sys;

use super::raw::Fail;
use crate::core::ring::Ring;

/// An ArrayBuffer over `ring`'s whole block; it holds a reference to the ring until collected.
///
/// # Safety
/// `env` must be the running callback's.
pub unsafe fn array_buffer(env: sys::napi_env, ring: Arc<Ring>) -> Result<sys::napi_value, Fail> {
  let (data, len) = ring.memory();
  let held = Box::into_raw(Box::new(ring));
  let mut out = ptr::null_mut();
  let status = sys::napi_create_external_arraybuffer(
    env,
    data.cast(),
    len,
    Some(finalize),
    held.cast(),
    &mut out,
  );
  if status != sys::Status::napi_ok {
    drop(Box::from_raw(held));
    // A runtime that allows no external buffers: the renderer sends through the core instead.
    return Err((
      "ERR_IPC_NO_EXTERNAL_MEMORY",
      "cannot share a send ring".into(),
    ));
  }
  Ok(out)
}

unsafe extern "C" fn finalize(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
  drop(Box::from_raw(hint.cast::<Arc<Ring>>()));
}
