//! Locks that outlive a panic: a thread that panicked while holding one (caught by
//! `catch_unwind` at the napi boundary) must not take every later caller down with it.

use std::sync::{Mutex, MutexGuard};

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
  m.lock().unwrap_or_else(|p| p.into_inner())
}
