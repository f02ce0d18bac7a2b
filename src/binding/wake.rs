//! The wake-up signal: one threadsafe-function call per batch, to the JS thread that owns a
//! mailbox. Weak by default, like an unref'd handle: it keeps the loop alive only while JS says
//! something is really pending (see `setRef`).

use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};

use crate::core::router::Wake;

type Signal = ThreadsafeFunction<(), (), (), Status, false, true>;

pub struct Waker {
  tsfn: Signal,
}

impl Waker {
  pub fn new(callback: Function<(), ()>) -> napi::Result<Self> {
    let tsfn = callback
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .weak::<true>()
      .build()?;
    Ok(Waker { tsfn })
  }

  /// Keeps (or stops keeping) the owning thread's event loop alive. JS thread only.
  pub fn set_ref(&self, env: &Env, on: bool) -> napi::Result<()> {
    // uv_ref/uv_unref are idempotent, so no bookkeeping is needed here.
    let status = unsafe {
      if on {
        napi::sys::napi_ref_threadsafe_function(env.raw(), self.tsfn.raw())
      } else {
        napi::sys::napi_unref_threadsafe_function(env.raw(), self.tsfn.raw())
      }
    };
    match status {
      napi::sys::Status::napi_ok => Ok(()),
      s => Err(napi::Error::new(
        Status::from(s),
        "cannot change the wake-up signal's ref",
      )),
    }
  }
}

impl Wake for Waker {
  fn wake(&self) {
    // A closing thread refuses the call; its mailbox is about to be closed anyway.
    let _ = self.tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
  }
}
