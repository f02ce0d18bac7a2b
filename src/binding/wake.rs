//! The wake-up signal of a JS thread's mailbox: rung (from any thread) once per batch of
//! messages queued there. Weak by default, like an unref'd handle: it keeps the thread's loop
//! alive only while JS says something is really pending (`setRef`).
//!
//! Normally a libuv async handle of our own (see `doorbell`); a napi threadsafe function where
//! libuv's symbols cannot be found.

use std::sync::Arc;

use napi::bindgen_prelude::{Function, JsValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};

use crate::binding::doorbell::Doorbell;
use crate::core::router::Wake;

type Signal = ThreadsafeFunction<(), (), (), Status, false, true>;

pub enum Waker {
  Bell(Arc<Doorbell>),
  Threadsafe(Signal),
}

impl Waker {
  /// On the JS thread that `callback` should run on.
  pub fn new(env: &Env, callback: Function<(), ()>) -> napi::Result<Self> {
    // Safety: this runs on the env's own thread (a napi call), and `callback` is its function.
    if let Some(bell) = unsafe { Doorbell::new(env.raw(), callback.raw()) } {
      return Ok(Waker::Bell(bell));
    }
    let tsfn = callback
      .build_threadsafe_function::<()>()
      .callee_handled::<false>()
      .weak::<true>()
      .build()?;
    Ok(Waker::Threadsafe(tsfn))
  }

  /// Keeps (or stops keeping) the owning thread's event loop alive. JS thread only.
  pub fn set_ref(&self, env: &Env, on: bool) -> napi::Result<()> {
    match self {
      Waker::Bell(bell) => {
        bell.set_ref(on);
        Ok(())
      }
      Waker::Threadsafe(tsfn) => {
        // uv_ref/uv_unref are idempotent, so no bookkeeping is needed here.
        let status = unsafe {
          if on {
            napi::sys::napi_ref_threadsafe_function(env.raw(), tsfn.raw())
          } else {
            napi::sys::napi_unref_threadsafe_function(env.raw(), tsfn.raw())
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
  }

  /// Something for this thread is expected soon: keep its loop polling a while (a bell only).
  /// JS thread only.
  pub fn expect(&self) {
    if let Waker::Bell(bell) = self {
      bell.expect();
    }
  }

  /// Stops the signal. JS thread only (a libuv handle is closed on its own loop's thread).
  pub fn close(&self) {
    if let Waker::Bell(bell) = self {
      bell.close();
    }
  }
}

impl Wake for Waker {
  fn wake(&self) {
    match self {
      Waker::Bell(bell) => bell.ring(),
      // A closing thread refuses the call; its mailbox is about to be closed anyway.
      Waker::Threadsafe(tsfn) => {
        let _ = tsfn.call((), ThreadsafeFunctionCallMode::NonBlocking);
      }
    }
  }
}
