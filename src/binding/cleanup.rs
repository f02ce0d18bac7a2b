//! Env cleanup hooks that hold a strong reference to what they clean up (a libuv handle's
//! owner), so it lives until the hook runs at env teardown or is removed, whichever comes first.

use std::ffi::c_void;
use std::sync::Arc;

use napi::sys;

pub type Hook = unsafe extern "C" fn(*mut c_void);

/// Runs `hook` with a reference to `owner` when `env` is torn down, unless `remove`d first.
///
/// # Safety
/// `env` must be the calling thread's; `hook` must take the reference back (`Arc::from_raw`).
pub unsafe fn add<T>(env: sys::napi_env, owner: &Arc<T>, hook: Hook) {
  sys::napi_add_env_cleanup_hook(env, Some(hook), Arc::into_raw(owner.clone()) as *mut c_void);
}

/// Removes the hook `add` installed, with the reference it held; nothing if it has run.
///
/// # Safety
/// As for `add`, with the same `owner` and `hook`.
pub unsafe fn remove<T>(env: sys::napi_env, owner: &Arc<T>, hook: Hook) {
  let arg = Arc::as_ptr(owner) as *mut c_void;
  if sys::napi_remove_env_cleanup_hook(env, Some(hook), arg) == sys::Status::napi_ok {
    Arc::decrement_strong_count(arg as *const T);
  }
}
