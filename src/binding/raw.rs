//! Exports written against Node-API directly, for the calls made once per message.
//!
//! A `#[napi]` function with arguments costs 400-800 ns a call with napi 3.16 on this machine
//! (its generated wrapper opens a native-borrow scope, takes a global lock and allocates),
//! against ~50 ns for one without: for `send`, most of the cost of a message. These take
//! their few numbers and one buffer straight from `napi_get_cb_info`. Like `catch_unwind`
//! exports, they turn a panic into a thrown JS error: no Rust panic unwinds into Node.

use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use napi::sys;

use crate::core::spliced::{BadSplice, Part, SpliceGuard, Spliced, MAX_LEN, NO_MEMORY};
use crate::core::Payload;

/// What a raw export's body returns: a value for JS, or an error to throw (code, message).
pub enum Out {
  Bool(bool),
  Int(i32),
  Num(f64),
  Undefined,
  /// A value made by the body itself.
  Value(sys::napi_value),
}

pub type Fail = (&'static str, String);
pub type Result = std::result::Result<Out, Fail>;

/// The arguments of one call.
pub struct Args<const N: usize> {
  env: sys::napi_env,
  argv: [sys::napi_value; N],
  argc: usize,
}

impl<const N: usize> Args<N> {
  /// # Safety
  /// `env` and `info` must be those of the running callback.
  unsafe fn read(
    env: sys::napi_env,
    info: sys::napi_callback_info,
  ) -> std::result::Result<Self, Fail> {
    let mut argv = [ptr::null_mut(); N];
    let mut argc = N;
    let status = sys::napi_get_cb_info(
      env,
      info,
      &mut argc,
      argv.as_mut_ptr(),
      ptr::null_mut(),
      ptr::null_mut(),
    );
    if status != sys::Status::napi_ok {
      return Err(("ERR_IPC_NATIVE", "cannot read the arguments".into()));
    }
    Ok(Args { env, argv, argc })
  }

  fn value(&self, i: usize) -> std::result::Result<sys::napi_value, Fail> {
    if i < self.argc.min(N) {
      Ok(self.argv[i])
    } else {
      Err(("ERR_INVALID_ARG_TYPE", format!("argument {i} is missing")))
    }
  }

  pub fn u32(&self, i: usize) -> std::result::Result<u32, Fail> {
    let mut v = 0u32;
    let status = unsafe { sys::napi_get_value_uint32(self.env, self.value(i)?, &mut v) };
    if status != sys::Status::napi_ok {
      return Err((
        "ERR_INVALID_ARG_TYPE",
        format!("argument {i} must be a number"),
      ));
    }
    Ok(v)
  }

  pub fn f64(&self, i: usize) -> std::result::Result<f64, Fail> {
    let mut v = 0f64;
    let status = unsafe { sys::napi_get_value_double(self.env, self.value(i)?, &mut v) };
    if status != sys::Status::napi_ok {
      return Err((
        "ERR_INVALID_ARG_TYPE",
        format!("argument {i} must be a number"),
      ));
    }
    Ok(v)
  }

  /// A Buffer or Uint8Array argument's bytes as a payload of its own: taken over without a copy
  /// when they are in memory the addon lent for them (see `payload`), copied otherwise.
  pub fn payload(&self, i: usize) -> std::result::Result<Payload, Fail> {
    // Safety: the env and an argument of the running call.
    unsafe { payload_of(self.env, self.value(i)?, i) }
  }

  /// Argument `i` as [`Args::payload`], with what JS left out of it: argument `j`, when given
  /// (not undefined or null), lists them as `[at, Uint8Array, at, Uint8Array, ...]`
  /// (lib/clone.js `takeSplices`). Those are then read where they are (core/spliced.rs) until
  /// the guard is dropped, which must happen before the call returns.
  pub fn spliced_payload(
    &self,
    i: usize,
    j: usize,
  ) -> std::result::Result<(Payload, Option<SpliceGuard>), Fail> {
    // Safety: the env and arguments of the running call.
    unsafe { spliced_payload_of(self.env, self.value(i)?, self.given(j), (i, j)) }
  }

  /// Argument `i`, unless it is missing, undefined or null.
  fn given(&self, i: usize) -> Option<sys::napi_value> {
    let v = *self.argv.get(i).filter(|_| i < self.argc)?;
    // Safety: an argument of the running call.
    unsafe { is_given(self.env, v) }.then_some(v)
  }

  /// The env of the call, for an export that makes its own value.
  pub fn env(&self) -> sys::napi_env {
    self.env
  }

  fn view(&self, i: usize) -> std::result::Result<View, Fail> {
    // Safety: the env and an argument of the running call.
    unsafe { view_of(self.env, self.value(i)?, i) }
  }

  /// A Buffer or Uint8Array argument's bytes, valid for the rest of the call. Mutable: the
  /// memory is the JS view's, not `self`'s (scratch buffers are written through it).
  #[allow(clippy::mut_from_ref)]
  pub fn bytes(&self, i: usize) -> std::result::Result<&mut [u8], Fail> {
    let view = self.view(i)?;
    if view.len == 0 || view.data.is_null() {
      return Ok(&mut []);
    }
    // Safety: V8 keeps the view's memory alive and in place during the call, and JS cannot run
    // (and touch it) until the call returns.
    Ok(unsafe { std::slice::from_raw_parts_mut(view.data.cast_mut(), view.len) })
  }
}

impl<const N: usize> Args<N> {
  /// Arguments `i` and `j` as [`Args::bytes`], checked not to overlap before either slice is
  /// made (two views of one buffer would make a `&mut` alias the other).
  #[allow(clippy::type_complexity)]
  pub fn disjoint_bytes(
    &self,
    i: usize,
    j: usize,
  ) -> std::result::Result<(&mut [u8], &mut [u8]), Fail> {
    let (a, b) = (self.view(i)?, self.view(j)?);
    let ends = |v: &View| (v.data as usize, v.data as usize + v.len);
    let ((a0, a1), (b0, b1)) = (ends(&a), ends(&b));
    if a.len != 0 && b.len != 0 && a0 < b1 && b0 < a1 {
      return Err(("ERR_IPC_INVALID_ARG", "the two buffers overlap".into()));
    }
    Ok((self.bytes(i)?, self.bytes(j)?))
  }
}

/// What napi_get_typedarray_info says of a Uint8Array.
struct View {
  len: usize,
  data: *const u8,
  array_buffer: sys::napi_value,
  offset: usize,
}

/// What napi_get_typedarray_info says of `value`, argument `i` of a call (a Uint8Array).
///
/// # Safety
/// `env` and `value` must be the running callback's.
unsafe fn view_of(
  env: sys::napi_env,
  value: sys::napi_value,
  i: usize,
) -> std::result::Result<View, Fail> {
  let mut kind = 0;
  let mut view = View {
    len: 0,
    data: ptr::null(),
    array_buffer: ptr::null_mut(),
    offset: 0,
  };
  let mut data: *mut std::ffi::c_void = ptr::null_mut();
  let status = unsafe {
    sys::napi_get_typedarray_info(
      env,
      value,
      &mut kind,
      &mut view.len,
      &mut data,
      &mut view.array_buffer,
      &mut view.offset,
    )
  };
  if status != sys::Status::napi_ok || kind != sys::TypedarrayType::uint8_array {
    return Err((
      "ERR_INVALID_ARG_TYPE",
      format!("argument {i} must be a Uint8Array"),
    ));
  }
  view.data = data.cast();
  Ok(view)
}

/// The bytes of Uint8Array `value` (argument `i`) as an owned payload: taken over without a copy
/// when they are in memory the addon lent for them (see `payload`), copied otherwise.
///
/// # Safety
/// `env` and `value` must be the running callback's.
pub unsafe fn payload_of(
  env: sys::napi_env,
  value: sys::napi_value,
  i: usize,
) -> std::result::Result<Payload, Fail> {
  let view = view_of(env, value, i)?;
  if view.len == 0 || view.data.is_null() {
    return Ok(Payload::default());
  }
  Ok(super::payload::take(
    env,
    view.array_buffer,
    view.data,
    view.len,
    view.offset,
  ))
}

/// Payload `value` (argument `i`) with what JS left out of it (`splices`, argument `j`, if given), as
/// [`Args::spliced_payload`]; for `#[napi]` exports too.
///
/// # Safety
/// `env`, `value` and `splices` must be the running callback's; drop the guard before it returns.
pub unsafe fn spliced_payload_of(
  env: sys::napi_env,
  value: sys::napi_value,
  splices: Option<sys::napi_value>,
  (i, j): (usize, usize),
) -> std::result::Result<(Payload, Option<SpliceGuard>), Fail> {
  let Some(list) = splices else {
    return Ok((unsafe { payload_of(env, value, i) }?, None));
  };
  let bad = || {
    (
      "ERR_IPC_INVALID_ARG",
      format!("argument {j} must list splices"),
    )
  };
  // Taken over when the encoder grew it into lent memory, copied otherwise (a few bytes).
  let written = unsafe { payload_of(env, value, i) }?.into_vec();
  let mut len = 0u32;
  if unsafe { sys::napi_get_array_length(env, list, &mut len) } != sys::Status::napi_ok
    || !len.is_multiple_of(2)
  {
    return Err(bad());
  }
  let mut parts = Vec::with_capacity(len as usize / 2);
  for k in (0..len).step_by(2) {
    let (mut at, mut view) = (ptr::null_mut(), ptr::null_mut());
    let mut offset = 0u32;
    unsafe {
      if sys::napi_get_element(env, list, k, &mut at) != sys::Status::napi_ok
        || sys::napi_get_value_uint32(env, at, &mut offset) != sys::Status::napi_ok
        || sys::napi_get_element(env, list, k + 1, &mut view) != sys::Status::napi_ok
      {
        return Err(bad());
      }
    }
    let v = unsafe { view_of(env, view, j) }?;
    parts.push(Part {
      at: offset as usize,
      ptr: v.data,
      len: v.len,
    });
  }
  // Safety: the views are elements of an argument, so alive until the call returns, and no JS
  // runs (and changes them) before then; the caller drops the guard before returning.
  let (spliced, guard) = unsafe { Spliced::borrow(written, parts) }.map_err(|e| match e {
    BadSplice::Parts => bad(),
    BadSplice::TooLarge(n) => (
      "ERR_IPC_MESSAGE_TOO_LARGE",
      format!("a message of {n} bytes is more than a frame can carry ({MAX_LEN} bytes)"),
    ),
  })?;
  Ok((Payload::from(spliced), Some(guard)))
}

/// Whether `value` is given (not undefined or null).
///
/// # Safety
/// `env` and `value` must be the running callback's.
pub unsafe fn is_given(env: sys::napi_env, value: sys::napi_value) -> bool {
  let mut t = sys::ValueType::napi_undefined;
  unsafe { sys::napi_typeof(env, value, &mut t) };
  t != sys::ValueType::napi_undefined && t != sys::ValueType::napi_null
}

/// Runs `body` as the callback of a raw export taking up to N arguments.
///
/// # Safety
/// `env` and `info` must be those of the running callback.
pub unsafe fn call<const N: usize>(
  env: sys::napi_env,
  info: sys::napi_callback_info,
  body: impl FnOnce(&Args<N>) -> Result,
) -> sys::napi_value {
  let outcome = catch_unwind(AssertUnwindSafe(|| {
    let args = Args::<N>::read(env, info)?;
    body(&args)
  }));
  let result = match outcome {
    Ok(r) => r,
    Err(panic) => {
      let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_owned());
      Err(panic_error(what))
    }
  };
  let mut out = ptr::null_mut();
  match result {
    Ok(Out::Bool(b)) => {
      sys::napi_get_boolean(env, b, &mut out);
    }
    Ok(Out::Int(n)) => {
      sys::napi_create_int32(env, n, &mut out);
    }
    Ok(Out::Num(n)) => {
      sys::napi_create_double(env, n, &mut out);
    }
    Ok(Out::Undefined) => {
      sys::napi_get_undefined(env, &mut out);
    }
    Ok(Out::Value(v)) => out = v,
    Err((code, message)) => throw(env, code, &message),
  }
  out
}

/// The error JS gets for a caught panic: a bug of ours, except running out of memory for a copy.
fn panic_error(what: String) -> Fail {
  if what.starts_with(NO_MEMORY) {
    ("ERR_IPC_NO_MEMORY", what)
  } else {
    (
      "ERR_IPC_INTERNAL",
      format!("ipc-main internal error (panic): {what}"),
    )
  }
}

/// Throws an Error (a TypeError for argument errors) with `code`.
unsafe fn throw(env: sys::napi_env, code: &str, message: &str) {
  let code = CString::new(code).unwrap_or_default();
  let message = CString::new(message.replace('\0', " ")).unwrap_or_default();
  if code.as_bytes() == b"ERR_INVALID_ARG_TYPE" {
    sys::napi_throw_type_error(env, code.as_ptr(), message.as_ptr());
  } else {
    sys::napi_throw_error(env, code.as_ptr(), message.as_ptr());
  }
}

pub type Callback = unsafe extern "C" fn(sys::napi_env, sys::napi_callback_info) -> sys::napi_value;

/// Defines `name` on `exports` as the raw function `cb`.
///
/// # Safety
/// `env` and `exports` must be those of the module's initialization.
pub unsafe fn define(
  env: sys::napi_env,
  exports: sys::napi_value,
  name: &str,
  cb: Callback,
) -> std::result::Result<(), String> {
  let mut f = ptr::null_mut();
  let status = sys::napi_create_function(
    env,
    name.as_ptr().cast::<c_char>(),
    name.len() as isize,
    Some(cb),
    ptr::null_mut(),
    &mut f,
  );
  if status != sys::Status::napi_ok {
    return Err(format!("cannot create {name}"));
  }
  let key = CString::new(name).map_err(|e| e.to_string())?;
  if sys::napi_set_named_property(env, exports, key.as_ptr(), f) != sys::Status::napi_ok {
    return Err(format!("cannot export {name}"));
  }
  Ok(())
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn running_out_of_memory_for_a_copy_is_not_reported_as_a_bug() {
    let oom = format!("{NO_MEMORY} 5 bytes of a message");
    assert_eq!(panic_error(oom.clone()), ("ERR_IPC_NO_MEMORY", oom));
    let (code, message) = panic_error("index out of bounds".into());
    assert_eq!(code, "ERR_IPC_INTERNAL");
    assert!(message.contains("index out of bounds"));
  }
}
