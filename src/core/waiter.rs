//! The blocking wait behind `sendSync` in a worker or child process.
//!
//! Waking a sleeping thread costs tens of microseconds on small VMs, while a thread that is still
//! spinning sees the answer in well under one. So the wait spins briefly (yielding the CPU, so a
//! peer pinned to the same core can run), then parks. How briefly adapts (`SpinBudget`): where
//! answers come later than a spin can wait (main is busy, the CPUs are shared), spinning only
//! takes CPU time from the threads that would answer, so it shrinks; it grows back once answers
//! are quick again. Parked, it wakes every `tick` to ask whether
//! it should give up (its worker is being terminated, its process is exiting): no wait is ever
//! uncancellable.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::anticipation::alone;
use super::envelope::{RequestId, Status};
use super::error::CoreError;
use super::payload::Payload;

/// How a `sendSync` was answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
  pub status: Status,
  pub payload: Payload,
}

impl Reply {
  pub fn value(payload: impl Into<Payload>) -> Self {
    Reply {
      status: Status::Ok,
      payload: payload.into(),
    }
  }

  pub fn status(status: Status) -> Self {
    Reply {
      status,
      payload: Payload::default(),
    }
  }
}

#[derive(Debug, Clone, Copy)]
pub struct SpinPolicy {
  /// How long to stay awake for the answer before parking. Connection readers poll their
  /// socket this long when an answer is expected soon (transport/connection.rs).
  pub spin: Duration,
  /// How often a parked wait wakes to check whether it must give up.
  pub tick: Duration,
}

impl Default for SpinPolicy {
  fn default() -> Self {
    SpinPolicy {
      spin: Duration::from_micros(100),
      tick: Duration::from_millis(50),
    }
  }
}

/// How long the next spin may last: cut to a quarter after a spin that waited in vain (a few
/// slow answers in a row stop it), doubled (up to the policy's maximum) after a wait that a
/// spin of the maximum would have caught.
#[derive(Debug)]
pub struct SpinBudget(AtomicU64);

/// The shortest budget a quick answer restores: below it a spin is not worth starting.
const MIN_SPIN_NS: u64 = 1_000;

impl Default for SpinBudget {
  fn default() -> Self {
    SpinBudget(AtomicU64::new(u64::MAX))
  }
}

impl SpinBudget {
  /// This spin's length, at most `max`.
  pub fn get(&self, max: Duration) -> Duration {
    Duration::from_nanos(self.0.load(Ordering::Relaxed).min(max.as_nanos() as u64))
  }

  /// Learns from a wait of `waited` that spun for up to `spun` of at most `max`: `caught` says
  /// whether the spin saw what it waited for.
  pub fn learn(&self, caught: bool, waited: Duration, spun: Duration, max: Duration) {
    let max = max.as_nanos() as u64;
    let spun = spun.as_nanos() as u64;
    let next = if caught || waited.as_nanos() as u64 <= max {
      // a spin of `max` would have been enough: spin longer next time
      (spun * 2).max(MIN_SPIN_NS).min(max)
    } else {
      let quarter = spun / 4;
      if quarter < MIN_SPIN_NS {
        0
      } else {
        quarter
      }
    };
    self.0.store(next, Ordering::Relaxed);
  }
}

/// How a wait for input on a connection (`Link::park`) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Park {
  /// This thread does not read the connection: wait to be woken instead.
  Unsupported,
  /// Something arrived (or the connection ended): read it.
  Input,
  TimedOut,
}

#[derive(Debug)]
enum Slot {
  Idle,
  Waiting(RequestId),
  Done(Result<Reply, CoreError>),
}

/// One per blocking renderer: a thread blocked in `sendSync` can have one request in flight.
#[derive(Debug)]
pub struct Waiter {
  slot: Mutex<Slot>,
  cv: Condvar,
  /// Set with the answer, read without the lock while spinning.
  ready: AtomicBool,
  /// Set while the waiting thread is parked: only then does an answer need a futex wake.
  parked: AtomicBool,
  budget: SpinBudget,
}

impl Default for Waiter {
  fn default() -> Self {
    Waiter {
      slot: Mutex::new(Slot::Idle),
      cv: Condvar::new(),
      ready: AtomicBool::new(false),
      parked: AtomicBool::new(false),
      budget: SpinBudget::default(),
    }
  }
}

impl Waiter {
  fn lock(&self) -> MutexGuard<'_, Slot> {
    // A panic while holding this lock cannot leave the slot inconsistent: recover it.
    self.slot.lock().unwrap_or_else(|p| p.into_inner())
  }

  /// Prepares for `request`; must come before the request can be answered.
  pub fn arm(&self, request: RequestId) {
    self.ready.store(false, Ordering::Relaxed);
    *self.lock() = Slot::Waiting(request);
  }

  /// Delivers the answer to `request`. Answers to anything else (late, duplicate) are dropped.
  pub fn complete(&self, request: RequestId, outcome: Result<Reply, CoreError>) -> bool {
    let mut slot = self.lock();
    match *slot {
      Slot::Waiting(r) if r == request => {
        *slot = Slot::Done(outcome);
        self.ready.store(true, Ordering::Release);
        // `parked` is set under the lock before the waiter sleeps, so reading it here (still
        // under the lock) cannot miss a sleeper; a spinning waiter needs no syscall.
        let parked = self.parked.load(Ordering::Relaxed);
        drop(slot);
        if parked {
          self.cv.notify_all();
        }
        true
      }
      _ => false,
    }
  }

  /// Ends whatever wait is in progress with `error`.
  pub fn cancel(&self, error: CoreError) -> bool {
    let request = match *self.lock() {
      Slot::Waiting(r) => r,
      _ => return false,
    };
    self.complete(request, Err(error))
  }

  /// Blocks until the armed request is answered or `give_up` says to stop (checked every tick).
  /// While spinning, `poll` is called between checks: a thread whose answer comes over a
  /// connection reads it itself rather than waiting for the connection's reader to wake.
  /// Once done spinning, `park` is tried first: where this thread reads that connection itself,
  /// it sleeps until input arrives there, then `poll`s; otherwise it sleeps until woken.
  pub fn wait(
    &self,
    policy: SpinPolicy,
    poll: &mut dyn FnMut(),
    park: &mut dyn FnMut(Duration) -> Park,
    give_up: &mut dyn FnMut() -> bool,
  ) -> Result<Reply, CoreError> {
    let start = Instant::now();
    let spin = self.budget.get(policy.spin);
    // A few busy turns first, where the answer comes from another CPU; on one CPU they only
    // delay the thread that must answer (64 `pause`s took ~9% of a pinned worker sendSync's
    // round trip, perf), and so would a poll before the first yield: nothing can have come yet.
    let alone = alone();
    let busy_turns = if alone { 0 } else { 64 };
    let mut spins = 0u32;
    while !self.ready.load(Ordering::Acquire) {
      if spins < busy_turns {
        std::hint::spin_loop();
      } else {
        if start.elapsed() >= spin {
          break;
        }
        if !(alone && spins == 0) {
          poll();
          if self.ready.load(Ordering::Acquire) {
            break;
          }
        }
        std::thread::yield_now();
      }
      spins += 1;
    }
    let caught = self.ready.load(Ordering::Acquire);
    let mut slot = self.lock();
    loop {
      if let Slot::Done(_) = *slot {
        let Slot::Done(outcome) = std::mem::replace(&mut *slot, Slot::Idle) else {
          unreachable!()
        };
        self.parked.store(false, Ordering::Relaxed);
        drop(slot);
        self
          .budget
          .learn(caught, start.elapsed(), spin, policy.spin);
        return outcome;
      }
      drop(slot);
      let timed_out = match park(policy.tick) {
        Park::Input => {
          poll();
          slot = self.lock();
          false
        }
        Park::TimedOut => {
          slot = self.lock();
          true
        }
        Park::Unsupported => {
          slot = self.lock();
          if let Slot::Done(_) = *slot {
            continue;
          }
          self.parked.store(true, Ordering::Relaxed);
          let (guard, timeout) = self
            .cv
            .wait_timeout(slot, policy.tick)
            .unwrap_or_else(|p| p.into_inner());
          slot = guard;
          timeout.timed_out()
        }
      };
      if timed_out && matches!(*slot, Slot::Waiting(_)) {
        drop(slot);
        let stop = give_up();
        slot = self.lock();
        if stop {
          if let Slot::Waiting(_) = *slot {
            *slot = Slot::Idle;
            self.parked.store(false, Ordering::Relaxed);
            return Err(CoreError::Cancelled);
          }
        }
      }
    }
  }
}

#[cfg(test)]
mod tests {
  use super::*;
  use std::sync::Arc;
  use std::thread;

  fn quick() -> SpinPolicy {
    SpinPolicy {
      spin: Duration::from_micros(10),
      tick: Duration::from_millis(5),
    }
  }

  #[test]
  fn an_answer_given_before_the_wait_is_returned_at_once() {
    let w = Waiter::default();
    w.arm(1);
    assert!(w.complete(1, Ok(Reply::value(vec![7]))));
    let r = w
      .wait(quick(), &mut || {}, &mut |_| Park::Unsupported, &mut || {
        panic!("no tick expected")
      })
      .unwrap();
    assert_eq!(r.payload, vec![7]);
  }

  #[test]
  fn an_answer_from_another_thread_wakes_a_parked_wait() {
    let w = Arc::new(Waiter::default());
    w.arm(9);
    let w2 = w.clone();
    let t = thread::spawn(move || {
      thread::sleep(Duration::from_millis(30));
      w2.complete(9, Ok(Reply::status(Status::NeverSent)))
    });
    let r = w
      .wait(quick(), &mut || {}, &mut |_| Park::Unsupported, &mut || {
        false
      })
      .unwrap();
    assert_eq!(r.status, Status::NeverSent);
    assert!(t.join().unwrap());
  }

  #[test]
  fn late_and_foreign_answers_are_dropped() {
    let w = Waiter::default();
    w.arm(2);
    assert!(!w.complete(1, Ok(Reply::value(vec![1]))));
    assert!(w.complete(2, Ok(Reply::value(vec![2]))));
    assert!(!w.complete(2, Ok(Reply::value(vec![3]))));
    assert_eq!(
      w.wait(quick(), &mut || {}, &mut |_| Park::Unsupported, &mut || {
        false
      })
      .unwrap()
      .payload,
      vec![2]
    );
    // after the wait the slot is idle: nothing can be completed
    assert!(!w.complete(2, Ok(Reply::value(vec![4]))));
  }

  #[test]
  fn give_up_is_asked_every_tick_and_ends_the_wait() {
    let w = Waiter::default();
    w.arm(3);
    let mut asked = 0;
    let r = w.wait(quick(), &mut || {}, &mut |_| Park::Unsupported, &mut || {
      asked += 1;
      asked == 3
    });
    assert_eq!(r, Err(CoreError::Cancelled));
    assert_eq!(asked, 3);
    // the cancelled request can no longer be answered
    assert!(!w.complete(3, Ok(Reply::value(vec![]))));
  }

  #[test]
  fn cancel_from_another_thread_ends_the_wait_with_its_error() {
    let w = Arc::new(Waiter::default());
    w.arm(4);
    let w2 = w.clone();
    let t = thread::spawn(move || {
      thread::sleep(Duration::from_millis(20));
      w2.cancel(CoreError::Disconnected)
    });
    assert_eq!(
      w.wait(quick(), &mut || {}, &mut |_| Park::Unsupported, &mut || {
        false
      }),
      Err(CoreError::Disconnected)
    );
    assert!(t.join().unwrap());
    assert!(!w.cancel(CoreError::Disconnected));
  }
}

#[cfg(test)]
mod budget_tests {
  use super::*;

  const MAX: Duration = Duration::from_micros(100);

  #[test]
  fn slow_answers_stop_the_spin_and_quick_ones_bring_it_back() {
    let b = SpinBudget::default();
    assert_eq!(
      b.get(MAX),
      MAX,
      "a new waiter spins as long as the policy allows"
    );
    let slow = Duration::from_millis(3);
    let mut misses = 0;
    while b.get(MAX) > Duration::ZERO {
      b.learn(false, slow, b.get(MAX), MAX);
      misses += 1;
    }
    assert!(misses <= 4, "{misses} slow answers before the spin stopped");
    // answers that a spin would have caught, though nobody spun for them
    let quick = Duration::from_micros(40);
    let mut hits = 0;
    while b.get(MAX) < MAX {
      b.learn(false, quick, b.get(MAX), MAX);
      hits += 1;
    }
    assert!(hits <= 8, "{hits} quick answers before the spin was back");
    // and an answer seen while spinning keeps it there
    b.learn(true, quick, MAX, MAX);
    assert_eq!(b.get(MAX), MAX);
  }

  #[test]
  fn a_wait_learns_from_how_it_ended() {
    let w = Waiter::default();
    let policy = SpinPolicy {
      spin: Duration::from_micros(200),
      tick: Duration::from_millis(50),
    };
    // answered 20 ms later: the spin waited in vain
    w.arm(1);
    let w2 = std::sync::Arc::new(w);
    let w3 = w2.clone();
    let t = std::thread::spawn(move || {
      std::thread::sleep(Duration::from_millis(20));
      w3.complete(1, Ok(Reply::value(vec![])))
    });
    w2.wait(policy, &mut || {}, &mut |_| Park::Unsupported, &mut || {
      false
    })
    .unwrap();
    assert!(t.join().unwrap());
    assert_eq!(w2.budget.get(policy.spin), Duration::from_micros(50));
    // answered before the wait: caught at once, the budget doubles
    w2.arm(2);
    w2.complete(2, Ok(Reply::value(vec![])));
    w2.wait(policy, &mut || {}, &mut |_| Park::Unsupported, &mut || {
      false
    })
    .unwrap();
    assert_eq!(w2.budget.get(policy.spin), Duration::from_micros(100));
  }
}

#[cfg(test)]
mod poll_tests {
  use super::*;

  #[test]
  fn poll_runs_while_spinning_and_can_deliver_the_answer() {
    let w = Waiter::default();
    w.arm(5);
    let mut polls = 0;
    let policy = SpinPolicy {
      spin: Duration::from_secs(5),
      tick: Duration::from_millis(5),
    };
    let r = w.wait(
      policy,
      &mut || {
        polls += 1;
        if polls == 3 {
          w.complete(5, Ok(Reply::value(vec![1])));
        }
      },
      &mut |_| panic!("answered while spinning: no park"),
      &mut || panic!("answered while spinning: no tick"),
    );
    assert_eq!(r, Ok(Reply::value(vec![1])));
    assert_eq!(polls, 3);
  }

  #[test]
  fn a_thread_that_reads_its_connection_parks_on_it_and_reads_what_arrives() {
    let w = Waiter::default();
    w.arm(8);
    let policy = SpinPolicy {
      spin: Duration::ZERO,
      tick: Duration::from_millis(5),
    };
    // The connection: quiet for two ticks, then the answer arrives.
    let arrived = std::cell::Cell::new(false);
    let mut parks = Vec::new();
    let mut ticks = 0;
    let r = w.wait(
      policy,
      &mut || {
        if arrived.get() {
          w.complete(8, Ok(Reply::value(vec![3])));
        }
      },
      &mut |timeout| {
        parks.push(timeout);
        if parks.len() < 3 {
          Park::TimedOut
        } else {
          arrived.set(true);
          Park::Input
        }
      },
      &mut || {
        ticks += 1;
        false
      },
    );
    assert_eq!(r, Ok(Reply::value(vec![3])));
    assert_eq!(parks, vec![policy.tick; 3], "parked one tick at a time");
    assert_eq!(ticks, 2, "asked whether to give up after each quiet tick");
  }

  #[test]
  fn a_parked_reader_gives_up_when_told_to() {
    let w = Waiter::default();
    w.arm(2);
    let policy = SpinPolicy {
      spin: Duration::ZERO,
      tick: Duration::from_millis(1),
    };
    let r = w.wait(policy, &mut || {}, &mut |_| Park::TimedOut, &mut || true);
    assert_eq!(r, Err(CoreError::Cancelled));
    // the slot is free for the next request
    w.arm(3);
    assert!(w.complete(3, Ok(Reply::value(vec![]))));
  }
}
