//! Is this JS thread being torn down (worker terminated, process exiting)?
//!
//! Node refuses calls that may run JS once an environment stops (`can_call_into_js` is false):
//! a property read on the global object then fails. A blocked `sendSync` asks this on every
//! periodic wake-up, so `worker.terminate()` and `process.exit()` never wait on it for long.

use std::ptr;

use napi::{sys, Env};

pub fn env_is_stopping(env: &Env) -> bool {
  let env = env.raw();
  unsafe {
    let mut scope = ptr::null_mut();
    if sys::napi_open_handle_scope(env, &mut scope) != sys::Status::napi_ok {
      return true;
    }
    let mut global = ptr::null_mut();
    let mut value = ptr::null_mut();
    let ok = sys::napi_get_global(env, &mut global) == sys::Status::napi_ok
      && sys::napi_get_named_property(env, global, c"undefined".as_ptr(), &mut value)
        == sys::Status::napi_ok;
    sys::napi_close_handle_scope(env, scope);
    !ok
  }
}
