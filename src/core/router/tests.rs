use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use super::*;
use crate::core::waiter::SpinPolicy;

#[derive(Default)]
struct Counter(AtomicUsize);

impl Wake for Counter {
  fn wake(&self) {
    self.0.fetch_add(1, Ordering::SeqCst);
  }
}

impl Counter {
  fn get(&self) -> usize {
    self.0.load(Ordering::SeqCst)
  }
}

fn core() -> Core {
  let c = Core::default();
  c.set_policy(SpinPolicy {
    spin: Duration::from_micros(20),
    tick: Duration::from_millis(5),
  });
  c
}

fn drain(c: &Core, ep: EndpointId) -> Vec<Delivery> {
  std::iter::from_fn(|| c.pop(ep, false).0).collect()
}

/// A main side with one in-process renderer, listening on `ch` on ipcMain.
fn main_with_renderer(c: &Core) -> (EndpointId, RendererId, ChannelId) {
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let ch = c.intern("ch");
  c.set_listening(Scope::Main(main), ch, true);
  (main, r, ch)
}

#[test]
fn sends_arrive_in_order_with_one_wake_per_batch() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  assert!(
    c.send(main, r, Kind::Send, ch, vec![0]).unwrap(),
    "first send wakes"
  );
  for i in 1..100u8 {
    assert!(
      !c.send(main, r, Kind::Send, ch, vec![i]).unwrap(),
      "no wake inside a batch"
    );
  }
  let got: Vec<u8> = drain(&c, main)
    .iter()
    .map(|d| d.envelope.payload[0])
    .collect();
  assert_eq!(got, (0..100).collect::<Vec<u8>>());
  assert!(
    c.send(main, r, Kind::Send, ch, vec![0]).unwrap(),
    "idle again after the drain"
  );
}

/// An outbox entry as JS stages it (core/outbox.rs).
fn staged(out: &mut Vec<u8>, renderer: RendererId, kind: Kind, channel: ChannelId, payload: &[u8]) {
  for w in [renderer, kind as u32, channel, payload.len() as u32] {
    out.extend_from_slice(&w.to_ne_bytes());
  }
  out.extend_from_slice(payload);
  out.resize(out.len().next_multiple_of(4), 0);
}

#[test]
fn a_staged_outbox_is_routed_in_order_after_what_was_sent_before() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  let r2 = c.create_renderer(main, RendererKind::InProcess).unwrap();
  assert!(c.send(main, r, Kind::Send, ch, vec![0]).unwrap());
  let mut out = Vec::new();
  staged(&mut out, r, Kind::Send, ch, &[1]);
  staged(&mut out, r2, Kind::Post, ch, &[2, 2, 2, 2, 2]);
  staged(&mut out, r, Kind::Send, ch, &[3]);
  let done = c.send_staged(main, &out);
  assert_eq!(
    done,
    Staging {
      wake: false,
      routed: 3,
      dropped: 0,
      malformed: None
    },
    "a drain was already due"
  );
  let got: Vec<(RendererId, Kind, Vec<u8>)> = drain(&c, main)
    .into_iter()
    .map(|d| {
      (
        d.envelope.renderer,
        d.envelope.kind,
        d.envelope.payload.into_vec(),
      )
    })
    .collect();
  assert_eq!(
    got,
    vec![
      (r, Kind::Send, vec![0]),
      (r, Kind::Send, vec![1]),
      (r2, Kind::Post, vec![2, 2, 2, 2, 2]),
      (r, Kind::Send, vec![3]),
    ]
  );
  assert!(
    c.send_staged(main, &out).wake,
    "idle again: the outbox wakes"
  );
}

#[test]
fn a_staged_message_of_a_gone_renderer_is_dropped_and_a_bad_entry_ends_the_outbox() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  let gone = c.create_renderer(main, RendererKind::InProcess).unwrap();
  c.destroy_renderer(main, gone).unwrap();
  let mut out = Vec::new();
  staged(&mut out, gone, Kind::Send, ch, &[9]);
  staged(&mut out, r, Kind::Send, ch, &[1]);
  let bad = out.len();
  staged(&mut out, r, Kind::Invoke, ch, &[2]);
  staged(&mut out, r, Kind::Send, ch, &[3]);
  let done = c.send_staged(main, &out);
  assert!(done.wake);
  assert_eq!((done.routed, done.dropped), (1, 1));
  assert_eq!(
    done.malformed,
    Some(crate::core::outbox::OutboxError::BadKind { at: bad, kind: 4 })
  );
  let got: Vec<Vec<u8>> = drain(&c, main)
    .into_iter()
    .map(|d| d.envelope.payload.into_vec())
    .collect();
  assert_eq!(got, vec![vec![1]]);
  // Another endpoint cannot stage for this main's renderer.
  let other = c.open_endpoint(None);
  let mut theirs = Vec::new();
  staged(&mut theirs, r, Kind::Send, ch, &[4]);
  assert_eq!(c.send_staged(other, &theirs).dropped, 1);
  assert!(drain(&c, main).is_empty());
}

/// A staged message as a sink saw it: renderer, kind, payload.
type Taken = (RendererId, Kind, Vec<u8>);

/// What a sink of [`Core::send_staged_direct`] saw, taking `room` messages at most.
fn take_direct(
  c: &Core,
  main: EndpointId,
  out: &[u8],
  room: usize,
) -> (Option<StagedDirect>, Vec<Taken>) {
  let mut got = Vec::new();
  let done = c.send_staged_direct(main, out, |m| {
    if got.len() == room {
      return false;
    }
    got.push((m.renderer, m.kind, m.payload.to_vec()));
    true
  });
  (done, got)
}

#[test]
fn a_staged_outbox_goes_straight_to_the_batch_when_nothing_older_waits() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  let r2 = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let gone = c.create_renderer(main, RendererKind::InProcess).unwrap();
  c.destroy_renderer(main, gone).unwrap();
  drain(&c, main);
  let mut out = Vec::new();
  staged(&mut out, r, Kind::Send, ch, &[1]);
  staged(&mut out, gone, Kind::Send, ch, &[9]);
  staged(&mut out, r2, Kind::Post, ch, &[2, 2]);
  staged(&mut out, r, Kind::Send, ch, &[3]);
  let (done, got) = take_direct(&c, main, &out, usize::MAX);
  assert_eq!(
    done,
    Some(StagedDirect {
      taken: 3,
      rest: Staging {
        wake: false,
        routed: 0,
        dropped: 1,
        malformed: None
      }
    })
  );
  assert_eq!(
    got,
    vec![
      (r, Kind::Send, vec![1]),
      (r2, Kind::Post, vec![2, 2]),
      (r, Kind::Send, vec![3])
    ]
  );
  assert_eq!(c.queued(main), 0, "nothing went through the mailbox");
  assert!(c.idle_if_drained(main));
}

#[test]
fn what_the_batch_has_no_room_for_is_queued_in_order_after_it() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  drain(&c, main);
  let mut out = Vec::new();
  for i in 0..5u8 {
    staged(&mut out, r, Kind::Send, ch, &[i]);
  }
  let (done, got) = take_direct(&c, main, &out, 2);
  let done = done.expect("the mailbox was empty");
  assert_eq!((done.taken, done.rest.routed, done.rest.wake), (2, 3, true));
  let firsts: Vec<u8> = got.iter().map(|(_, _, p)| p[0]).collect();
  assert_eq!(firsts, vec![0, 1]);
  // The sink refused 2: 3 and 4 may not overtake it, even though there would be room again.
  let rest: Vec<u8> = drain(&c, main)
    .iter()
    .map(|d| d.envelope.payload[0])
    .collect();
  assert_eq!(rest, vec![2, 3, 4]);
}

#[test]
fn a_staged_outbox_waits_its_turn_behind_older_messages_and_a_bad_one_is_left_to_send_staged() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  drain(&c, main);
  c.send(main, r, Kind::Send, ch, vec![0]).unwrap();
  let mut out = Vec::new();
  staged(&mut out, r, Kind::Send, ch, &[1]);
  let (done, got) = take_direct(&c, main, &out, usize::MAX);
  assert_eq!(done, None, "older messages wait in the mailbox");
  assert!(got.is_empty());
  assert_eq!(c.queued(main), 1, "nothing was routed");
  drain(&c, main);

  let mut bad = out.clone();
  staged(&mut bad, r, Kind::Sync, ch, &[2]);
  let (done, got) = take_direct(&c, main, &bad, usize::MAX);
  assert_eq!(done, None);
  assert!(
    got.is_empty(),
    "no entry of a malformed outbox reaches the batch"
  );
  assert_eq!(c.queued(main), 0);

  // Nor does one of a main side with something in a worker's ring.
  let w = c.create_renderer(main, RendererKind::Worker).unwrap();
  let worker = c.open_endpoint(None);
  c.connect(w, worker).unwrap();
  drain(&c, main);
  let ring = c.open_ring(worker, w).unwrap();
  ring.write(1, ch, &[7]).unwrap();
  assert_eq!(take_direct(&c, main, &out, usize::MAX).0, None);
  ring.write(1, ch, &[8]).unwrap();
  let got: Vec<u8> = drain(&c, main)
    .iter()
    .map(|d| d.envelope.payload[0])
    .collect();
  assert_eq!(got, vec![7, 8]);
  assert!(take_direct(&c, main, &out, usize::MAX).0.is_some());
}

#[test]
fn a_workers_ring_reaches_main_in_order_with_its_requests_and_wakes_main_only_when_idle() {
  let c = core();
  let main_waker = Arc::new(Counter::default());
  let main = c.open_endpoint(Some(main_waker.clone()));
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let worker = c.open_endpoint(None);
  c.connect(r, worker).unwrap();
  let ch = c.intern("ch");
  c.set_listening(Scope::Main(main), ch, true);
  c.set_handler(Scope::Main(main), ch, true);
  drain(&c, main);
  assert!(
    c.open_ring(main, r).is_err(),
    "only the renderer's own thread writes it"
  );
  let ring = c.open_ring(worker, r).unwrap();
  assert!(Arc::ptr_eq(&ring, &c.open_ring(worker, r).unwrap()));

  assert_eq!(ring.write(1, ch, &[1]), Some(true), "main is idle: wake it");
  let woken = main_waker.get();
  c.kick(worker, r).unwrap();
  assert_eq!(main_waker.get(), woken + 1);
  assert_eq!(ring.write(1, ch, &[2]), Some(false), "main is due to drain");
  c.invoke(worker, r, ch, vec![3]).unwrap();
  assert_eq!(ring.write(2, ch, &[4]), Some(false));
  let got: Vec<(Kind, u8)> = drain(&c, main)
    .iter()
    .map(|d| (d.envelope.kind, d.envelope.payload[0]))
    .collect();
  assert_eq!(
    got,
    vec![
      (Kind::Send, 1),
      (Kind::Send, 2),
      (Kind::Invoke, 3),
      (Kind::Post, 4)
    ]
  );
  assert_eq!(ring.write(1, ch, &[5]), Some(true), "drained: idle again");

  // Read before the mailbox, on every pop.
  ring.write(1, ch, &[6]);
  assert_eq!(c.pop(main, false).0.unwrap().envelope.payload, vec![5]);
  assert_eq!(c.pop(main, false).0.unwrap().envelope.payload, vec![6]);

  ring.write(1, ch, &[7]);
  c.destroy_renderer(main, r).unwrap();
  assert!(
    drain(&c, main).is_empty(),
    "a destroyed renderer's ring is dropped"
  );
  assert!(
    ring.is_closed(),
    "and its writer goes through the core, which refuses"
  );
  assert_eq!(
    c.send(worker, r, Kind::Send, ch, vec![8]),
    Err(CoreError::ContextReleased)
  );

  // A main side that closes closes its workers' rings too.
  let main2 = c.open_endpoint(None);
  let r2 = c.create_renderer(main2, RendererKind::Worker).unwrap();
  let worker2 = c.open_endpoint(None);
  c.connect(r2, worker2).unwrap();
  let ring2 = c.open_ring(worker2, r2).unwrap();
  c.close_endpoint(main2);
  assert!(ring2.is_closed());
}

/// A main side (with a waker) and a worker renderer, connected, with its send ring; ipcMain
/// listens on `ch`.
fn main_with_worker_ring(c: &Core) -> (EndpointId, RendererId, EndpointId, ChannelId, Arc<Ring>) {
  let main = c.open_endpoint(Some(Arc::new(Counter::default())));
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let worker = c.open_endpoint(None);
  c.connect(r, worker).unwrap();
  let ch = c.intern("ch");
  c.set_listening(Scope::Main(main), ch, true);
  drain(c, main);
  let ring = c.open_ring(worker, r).unwrap();
  (main, r, worker, ch, ring)
}

#[test]
fn a_wake_up_claimed_after_main_took_the_entry_and_went_idle_is_not_lost() {
  let c = core();
  let (main, r, worker, ch, ring) = main_with_worker_ring(&c);
  // The writer publishes, then is preempted before it claims the wake-up; main, woken by
  // something else, takes the entry and goes idle.
  ring.publish(1, ch, &[1]).unwrap();
  assert_eq!(drain(&c, main).len(), 1);
  assert!(
    ring.claim_wake(),
    "the writer still thinks it must wake main"
  );
  c.kick(worker, r).unwrap();
  assert_eq!(
    ring.write(1, ch, &[2]),
    Some(true),
    "main is idle: the next entry wakes it"
  );
}

#[test]
fn ring_entries_go_straight_to_the_batch_only_when_nothing_older_waits() {
  let c = core();
  let (main, r, worker, ch, ring) = main_with_worker_ring(&c);
  let direct = |limit: usize| {
    let mut got = Vec::new();
    c.take_rings_direct(main, |id, kind, channel, payload| {
      assert_eq!((id, kind, channel), (r, Kind::Send, ch));
      if got.len() == limit {
        return false;
      }
      got.push(payload[0]);
      true
    });
    got
  };

  for i in 0..5u8 {
    ring.write(1, ch, &[i]);
  }
  assert_eq!(c.queued(main), 5, "what waits in rings counts as queued");
  assert_eq!(direct(2), vec![0, 1], "while the sink takes them");
  assert_eq!(c.queued(main), 3);
  assert_eq!(direct(usize::MAX), vec![2, 3, 4]);

  // Something older in the mailbox: the ring waits behind it.
  c.invoke(worker, r, ch, vec![9]).unwrap();
  ring.write(1, ch, &[5]);
  assert!(direct(usize::MAX).is_empty());
  let got: Vec<(Kind, u8)> = drain(&c, main)
    .iter()
    .map(|d| (d.envelope.kind, d.envelope.payload[0]))
    .collect();
  assert_eq!(got, vec![(Kind::Invoke, 9), (Kind::Send, 5)]);
}

#[test]
fn a_mailbox_only_its_thread_fills_goes_idle_with_the_batch_that_empties_it() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  c.send(main, r, Kind::Send, ch, vec![1]).unwrap();
  c.send(main, r, Kind::Send, ch, vec![2]).unwrap();
  assert_eq!(c.pop(main, false).0.unwrap().envelope.payload, vec![1]);
  assert!(!c.idle_if_drained(main), "one is left");
  assert_eq!(c.pop(main, false).0.unwrap().envelope.payload, vec![2]);
  assert!(c.idle_if_drained(main));
  assert!(
    c.send(main, r, Kind::Send, ch, vec![3]).unwrap(),
    "idle: the next push wakes"
  );

  // Another thread may push any time: only an empty pop ends its drain.
  let woken = c.open_endpoint(Some(Arc::new(Counter::default())));
  assert!(!c.idle_if_drained(woken));
}

#[test]
fn routes_reflect_the_registry_at_dispatch_time() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let ch = c.intern("late");
  c.send(main, r, Kind::Send, ch, vec![1]).unwrap();
  c.send(main, r, Kind::Send, ch, vec![2]).unwrap();
  // Nobody listens yet: message 1 is dropped when it is dispatched...
  let (none, _) = c.pop(main, false);
  assert_eq!(none, None, "unlistened sends are dropped");
  // ... and message 2 too: both were dispatched with no listener.
  c.send(main, r, Kind::Send, ch, vec![3]).unwrap();
  c.set_listening(Scope::ContentsIpc(r), ch, true);
  let d = c.pop(main, false).0.unwrap();
  assert_eq!(d.envelope.payload, vec![3]);
  assert_eq!(d.route, Route(Route::CONTENTS_IPC));
}

#[test]
fn a_listener_added_by_an_earlier_message_sees_the_later_one() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let a = c.intern("a");
  let b = c.intern("b");
  c.set_listening(Scope::Main(main), a, true);
  c.send(main, r, Kind::Send, a, vec![]).unwrap();
  c.send(main, r, Kind::Send, b, vec![]).unwrap();
  let first = c.pop(main, false).0.unwrap();
  assert_eq!(first.envelope.channel, a);
  // the listener of `a` adds one for `b`
  c.set_listening(Scope::Main(main), b, true);
  let second = c.pop(main, false).0.unwrap();
  assert_eq!(second.envelope.channel, b);
  assert_eq!(second.route, Route(Route::MAIN));
}

#[test]
fn route_bits_follow_electrons_dispatch_chain() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let ch = c.intern("x");
  c.set_listening(Scope::ContentsEvents(r), IPC_MESSAGE, true);
  c.set_listening(Scope::ContentsIpc(r), ch, true);
  c.set_listening(Scope::Main(main), ch, true);
  c.send(main, r, Kind::Send, ch, vec![]).unwrap();
  c.send(main, r, Kind::Post, ch, vec![]).unwrap();
  let (req, _) = c.sync_inline(main, r, ch, vec![]).unwrap();
  let ds = drain(&c, main);
  let all = Route::CONTENTS_EVENT | Route::CONTENTS_IPC | Route::MAIN;
  assert_eq!(ds[0].route, Route(all));
  assert_eq!(
    ds[1].route,
    Route(Route::CONTENTS_IPC | Route::MAIN),
    "postMessage skips the WebContents event"
  );
  // the sync event is `ipc-message-sync`, which nobody listens to here
  assert_eq!(ds[2].route, Route(Route::CONTENTS_IPC | Route::MAIN));
  assert_eq!(ds[2].envelope.request, req);
}

#[test]
fn inline_sync_first_answer_wins_and_late_answers_are_ignored() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  let (req, _) = c.sync_inline(main, r, ch, vec![9]).unwrap();
  assert!(!c.is_closed(req));
  let d = c.pop(main, true).0.unwrap();
  assert_eq!(d.envelope.kind, Kind::Sync);
  assert!(c.reply_sync(main, req, Reply::value(vec![1])));
  assert!(
    !c.reply_sync(main, req, Reply::value(vec![2])),
    "second answer ignored"
  );
  assert_eq!(c.close_inline(req), Some(true));
  assert!(c.is_closed(req));
  assert_eq!(c.take_inline(req), Reply::value(vec![1]));
  assert_eq!(c.pending_count(main), 0);
}

#[test]
fn inline_sync_without_an_answer_reports_not_answered() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  let (req, _) = c.sync_inline(main, r, ch, vec![]).unwrap();
  c.pop(main, true);
  assert_eq!(c.close_inline(req), Some(false));
  assert!(
    !c.reply_sync(main, req, Reply::value(vec![1])),
    "too late once closed"
  );
  assert_eq!(c.take_inline(req).status, Status::NotAnswered);
}

#[test]
fn sync_on_a_channel_nobody_listens_to_is_answered_at_once() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let ch = c.intern("nobody");
  let (req, _) = c.sync_inline(main, r, ch, vec![]).unwrap();
  let d = c.pop(main, true).0.unwrap();
  assert_eq!(d.route, Route(Route::UNANSWERED));
  assert!(c.is_closed(req));
  assert_eq!(c.take_inline(req).status, Status::NoListener);
}

#[test]
fn pop_main_leaves_messages_for_renderers_queued() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  c.send_to_renderer(main, r, ch, vec![1]).unwrap();
  c.send(main, r, Kind::Send, ch, vec![2]).unwrap();
  let d = c.pop(main, true).0.unwrap();
  assert_eq!(d.envelope.payload, vec![2]);
  assert_eq!(c.pop(main, true).0, None);
  let rest = drain(&c, main);
  assert_eq!(rest.len(), 1);
  assert_eq!(rest[0].envelope.kind, Kind::Message);
  assert_eq!(rest[0].envelope.renderer, r);
}

#[test]
fn invoke_prefers_the_webcontents_handler_then_ipcmain() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let ch = c.intern("inv");
  c.set_handler(Scope::Main(main), ch, true);
  c.invoke(main, r, ch, vec![]).unwrap();
  assert_eq!(
    c.pop(main, false).0.unwrap().route,
    Route(Route::HANDLER_MAIN)
  );
  c.set_handler(Scope::ContentsIpc(r), ch, true);
  c.invoke(main, r, ch, vec![]).unwrap();
  assert_eq!(
    c.pop(main, false).0.unwrap().route,
    Route(Route::HANDLER_CONTENTS)
  );
}

#[test]
fn invoke_results_reach_the_renderer_with_their_status() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let ch = c.intern("inv");
  c.set_handler(Scope::Main(main), ch, true);
  let (req, _) = c.invoke(main, r, ch, vec![5]).unwrap();
  let d = c.pop(main, false).0.unwrap();
  assert_eq!(d.envelope.request, req);
  assert_eq!(c.pending_count(main), 1);
  assert_eq!(
    c.settle_invoke(main, req, Status::Ok, vec![6]),
    (true, false)
  );
  assert!(
    !c.settle_invoke(main, req, Status::Ok, vec![7]).0,
    "settled once"
  );
  let reply = c.pop(main, false).0.unwrap().envelope;
  assert_eq!(reply.kind, Kind::InvokeReply);
  assert_eq!(
    (reply.request, reply.status, reply.payload.into_vec()),
    (req, Status::Ok, vec![6])
  );
  assert_eq!(c.pending_count(main), 0);
}

#[test]
fn an_invoke_of_an_in_process_renderer_is_settled_on_the_spot_only_with_an_empty_mailbox() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  c.set_handler(Scope::Main(main), ch, true);
  let (req, _) = c.invoke(main, r, ch, vec![1]).unwrap();
  assert_eq!(c.pop(main, false).0.unwrap().envelope.request, req);
  assert_eq!(c.settle_here(main, req), Some(req));
  assert_eq!(c.pending_count(main), 0);
  assert!(drain(&c, main).is_empty(), "no reply message");
  assert_eq!(c.settle_here(main, req), None, "once");

  // Something queued: the reply must wait its turn in the mailbox.
  let (req, _) = c.invoke(main, r, ch, vec![]).unwrap();
  c.pop(main, false);
  c.send_to_renderer(main, r, ch, vec![7]).unwrap();
  assert_eq!(c.settle_here(main, req), None);
  assert_eq!(c.pending_count(main), 1);
  c.settle_invoke(main, req, Status::Ok, vec![]);
  let kinds: Vec<Kind> = drain(&c, main).iter().map(|d| d.envelope.kind).collect();
  assert_eq!(kinds, vec![Kind::Message, Kind::InvokeReply]);

  // Only the main side that owes the answer, and only for an invoke.
  let (req, _) = c.invoke(main, r, ch, vec![]).unwrap();
  c.pop(main, false);
  let other = c.open_endpoint(None);
  assert_eq!(c.settle_here(other, req), None);
  c.set_listening(Scope::Main(main), ch, true);
  let (sync, _) = c.sync_inline(main, r, ch, vec![]).unwrap();
  assert_eq!(c.settle_here(main, sync), None);
}

#[test]
fn invoke_without_a_handler_is_rejected_with_electrons_text() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let ch = c.intern("missing");
  let (req, _) = c.invoke(main, r, ch, vec![]).unwrap();
  let d = c.pop(main, false).0.unwrap();
  assert_eq!(d.route, Route(Route::UNANSWERED));
  let reply = c.pop(main, false).0.unwrap().envelope;
  assert_eq!(reply.status, Status::NoHandler);
  assert_eq!(reply.request, req);
  assert_eq!(
    String::from_utf8(reply.payload.into_vec()).unwrap(),
    "Error: No handler registered for 'missing'"
  );
}

#[test]
fn destroying_a_renderer_rejects_its_invokes_and_drops_its_messages() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  c.set_handler(Scope::Main(main), ch, true);
  let (req, _) = c.invoke(main, r, ch, vec![]).unwrap();
  c.pop(main, false);
  c.send_to_renderer(main, r, ch, vec![1]).unwrap();
  c.destroy_renderer(main, r).unwrap();
  let left = drain(&c, main);
  assert_eq!(
    left.len(),
    1,
    "the queued message is gone, the rejection is not"
  );
  assert_eq!(left[0].envelope.kind, Kind::InvokeReply);
  assert_eq!(left[0].envelope.status, Status::ContextReleased);
  assert_eq!(left[0].envelope.request, req);
  assert_eq!(c.pending_count(main), 0);
  assert_eq!(
    c.send(main, r, Kind::Send, ch, vec![]),
    Err(CoreError::ContextReleased)
  );
  assert_eq!(
    c.send_to_renderer(main, r, ch, vec![]),
    Err(CoreError::ObjectDestroyed)
  );
  assert!(c.renderers_of(main).is_empty());
}

#[test]
fn a_main_side_cannot_touch_another_ones_renderer() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  let other = c.open_endpoint(None);
  assert_eq!(
    c.send_to_renderer(other, r, ch, vec![]),
    Err(CoreError::UnknownRenderer(r))
  );
  assert_eq!(
    c.send(other, r, Kind::Send, ch, vec![]),
    Err(CoreError::UnknownRenderer(r))
  );
  assert_eq!(
    c.destroy_renderer(other, r),
    Err(CoreError::UnknownRenderer(r))
  );
  let (req, _) = c.sync_inline(main, r, ch, vec![]).unwrap();
  assert!(!c.reply_sync(other, req, Reply::value(vec![])));
}

#[test]
fn a_worker_gets_what_was_sent_before_it_connected_in_order() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let ch = c.intern("early");
  for i in 0..5u8 {
    assert!(!c.send_to_renderer(main, r, ch, vec![i]).unwrap());
  }
  let waker = Arc::new(Counter::default());
  let worker = c.open_endpoint(Some(waker.clone()));
  assert!(
    c.connect(r, worker).unwrap(),
    "the worker drains right after connecting"
  );
  assert_eq!(c.connect(r, worker), Err(CoreError::AlreadyConnected(r)));
  c.send_to_renderer(main, r, ch, vec![5]).unwrap();
  assert_eq!(waker.get(), 0, "already scheduled: no extra wake");
  let got: Vec<u8> = drain(&c, worker)
    .iter()
    .map(|d| d.envelope.payload[0])
    .collect();
  assert_eq!(got, vec![0, 1, 2, 3, 4, 5]);
  c.send_to_renderer(main, r, ch, vec![6]).unwrap();
  assert_eq!(
    waker.get(),
    1,
    "a cross-thread push wakes the worker's thread"
  );
}

#[test]
fn a_worker_blocked_in_sync_gets_the_answer_from_the_main_thread() {
  let c = Arc::new(core());
  let main_waker = Arc::new(Counter::default());
  let main = c.open_endpoint(Some(main_waker.clone()));
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let ch = c.intern("sync");
  c.set_listening(Scope::Main(main), ch, true);
  let c2 = c.clone();
  let worker = thread::spawn(move || {
    let ep = c2.open_endpoint(None);
    c2.connect(r, ep).unwrap();
    c2.send(ep, r, Kind::Send, ch, vec![1]).unwrap();
    c2.sync_blocking(ep, r, ch, vec![2], &mut || false)
  });
  // main: dispatch in order, then answer the sync later
  let mut seen = Vec::new();
  while seen.len() < 2 {
    if let (Some(d), _) = c.pop(main, false) {
      seen.push(d.envelope);
    } else {
      thread::sleep(Duration::from_millis(1));
    }
  }
  assert_eq!(seen[0].kind, Kind::Send);
  assert_eq!(seen[1].kind, Kind::Sync);
  assert!(main_waker.get() >= 1);
  thread::sleep(Duration::from_millis(20));
  assert!(c.reply_sync(main, seen[1].request, Reply::value(vec![42])));
  assert_eq!(worker.join().unwrap(), Ok(Reply::value(vec![42])));
  assert_eq!(c.pending_count(main), 0);
}

#[test]
fn a_blocked_worker_is_released_when_its_renderer_is_destroyed() {
  let c = Arc::new(core());
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let ch = c.intern("sync");
  c.set_listening(Scope::Main(main), ch, true);
  let c2 = c.clone();
  let worker = thread::spawn(move || {
    let ep = c2.open_endpoint(None);
    c2.connect(r, ep).unwrap();
    let out = c2.sync_blocking(ep, r, ch, vec![], &mut || false);
    (out, c2.send(ep, r, Kind::Send, ch, vec![]))
  });
  while c.pop(main, false).0.is_none() {
    thread::sleep(Duration::from_millis(1));
  }
  c.destroy_renderer(main, r).unwrap();
  let (out, after) = worker.join().unwrap();
  assert_eq!(out, Err(CoreError::ContextReleased));
  assert_eq!(after, Err(CoreError::ContextReleased));
  assert_eq!(c.pending_count(main), 0);
}

#[test]
fn closing_the_main_side_releases_blocked_workers_and_rejects_invokes() {
  let c = Arc::new(core());
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let ch = c.intern("sync");
  c.set_listening(Scope::Main(main), ch, true);
  c.set_handler(Scope::Main(main), ch, true);
  let c2 = c.clone();
  let worker = thread::spawn(move || {
    let ep = c2.open_endpoint(None);
    c2.connect(r, ep).unwrap();
    let (inv, _) = c2.invoke(ep, r, ch, vec![]).unwrap();
    let out = c2.sync_blocking(ep, r, ch, vec![], &mut || false);
    let replies = drain(&c2, ep);
    (inv, out, replies, c2.send(ep, r, Kind::Send, ch, vec![]))
  });
  // wait until both requests are queued, without dispatching them
  while c.queued(main) < 2 {
    thread::sleep(Duration::from_millis(1));
  }
  c.close_endpoint(main);
  let (inv, out, replies, after) = worker.join().unwrap();
  assert_eq!(out, Err(CoreError::Disconnected));
  assert_eq!(replies.len(), 1);
  assert_eq!(replies[0].envelope.request, inv);
  assert_eq!(replies[0].envelope.status, Status::Disconnected);
  assert_eq!(after, Err(CoreError::Disconnected));
}

#[test]
fn a_parked_wait_gives_up_when_asked() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let ch = c.intern("sync");
  c.set_listening(Scope::Main(main), ch, true);
  let ep = c.open_endpoint(None);
  c.connect(r, ep).unwrap();
  let mut ticks = 0;
  let out = c.sync_blocking(ep, r, ch, vec![], &mut || {
    ticks += 1;
    ticks == 2
  });
  assert_eq!(out, Err(CoreError::Cancelled));
  assert_eq!(
    c.pending_count(main),
    0,
    "a cancelled request leaves nothing behind"
  );
}

#[test]
fn random_mixes_of_send_sync_and_invoke_keep_their_order() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  c.set_handler(Scope::Main(main), ch, true);
  let mut seed = 0x2545_f491u32;
  let mut sent = Vec::new();
  for i in 0..1000u32 {
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    let payload = i.to_le_bytes().to_vec();
    match seed % 3 {
      0 => {
        c.send(main, r, Kind::Send, ch, payload).unwrap();
      }
      1 => {
        c.invoke(main, r, ch, payload).unwrap();
      }
      _ => {
        let (req, _) = c.sync_inline(main, r, ch, payload).unwrap();
        // the caller pumps until its request is dispatched, answering it on the way
        while !c.is_closed(req) {
          let d = c.pop(main, true).0.unwrap();
          sent.push(u32::from_le_bytes(
            d.envelope.payload[..4].try_into().unwrap(),
          ));
          if d.envelope.kind == Kind::Sync {
            c.reply_sync(main, d.envelope.request, Reply::value(vec![]));
            c.close_inline(d.envelope.request);
          }
        }
        assert_eq!(c.take_inline(req).status, Status::Ok);
        continue;
      }
    }
  }
  for d in drain(&c, main) {
    if d.envelope.kind.is_main_bound() {
      sent.push(u32::from_le_bytes(
        d.envelope.payload[..4].try_into().unwrap(),
      ));
    }
  }
  assert_eq!(sent, (0..1000).collect::<Vec<u32>>());
}

#[test]
fn sends_to_a_renderer_whose_thread_ended_are_dropped_until_it_is_destroyed() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let ch = c.intern("x");
  let worker = c.open_endpoint(None);
  c.connect(r, worker).unwrap();
  c.close_endpoint(worker);
  assert_eq!(c.send_to_renderer(main, r, ch, vec![1]), Ok(false));
  c.destroy_renderer(main, r).unwrap();
  assert_eq!(
    c.send_to_renderer(main, r, ch, vec![1]),
    Err(CoreError::ObjectDestroyed)
  );
}

#[test]
fn shutdown_releases_blocked_threads_and_refuses_new_waits() {
  let c = Arc::new(core());
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let ch = c.intern("sync");
  c.set_listening(Scope::Main(main), ch, true);
  let c2 = c.clone();
  let worker = thread::spawn(move || {
    let ep = c2.open_endpoint(None);
    c2.connect(r, ep).unwrap();
    let first = c2.sync_blocking(ep, r, ch, vec![], &mut || false);
    let second = c2.sync_blocking(ep, r, ch, vec![], &mut || false);
    (first, second)
  });
  while c.queued(main) == 0 {
    thread::sleep(Duration::from_millis(1));
  }
  c.shutdown();
  let (first, second) = worker.join().unwrap();
  assert_eq!(first, Err(CoreError::Disconnected));
  assert_eq!(second, Err(CoreError::Disconnected));
}

#[test]
fn messages_from_a_destroyed_renderer_are_not_dispatched() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  c.send(main, r, Kind::Send, ch, vec![1]).unwrap();
  c.destroy_renderer(main, r).unwrap();
  assert_eq!(c.pop(main, false).0, None);
}

#[test]
fn an_inline_sync_whose_renderer_was_destroyed_during_dispatch_is_gone() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  let (req, _) = c.sync_inline(main, r, ch, vec![]).unwrap();
  c.pop(main, true);
  // a listener destroys the sender, then answers
  c.destroy_renderer(main, r).unwrap();
  assert!(!c.reply_sync(main, req, Reply::value(vec![1])));
  assert_eq!(c.close_inline(req), None);
  assert!(c.is_closed(req));
  assert_eq!(c.take_inline(req).status, Status::ContextReleased);
}

#[test]
fn a_waker_can_be_added_and_removed() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Worker).unwrap();
  let ch = c.intern("x");
  let worker = c.open_endpoint(None);
  c.connect(r, worker).unwrap();
  while c.pop(worker, false).0.is_some() {}
  c.send_to_renderer(main, r, ch, vec![]).unwrap();
  while c.pop(worker, false).0.is_some() {}
  let waker = Arc::new(Counter::default());
  assert!(!c.set_waker(worker, Some(waker.clone())));
  c.send_to_renderer(main, r, ch, vec![]).unwrap();
  assert_eq!(waker.get(), 1);
  while c.pop(worker, false).0.is_some() {}
  c.set_waker(worker, None);
  c.send_to_renderer(main, r, ch, vec![]).unwrap();
  assert_eq!(waker.get(), 1);
}

#[test]
fn a_batch_is_one_routed_message_then_messages_routed_at_dispatch() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  let quiet = c.intern("quiet");
  c.send(main, r, Kind::Send, ch, vec![1]).unwrap();
  c.send(main, r, Kind::Send, quiet, vec![2]).unwrap();
  c.send(main, r, Kind::Post, quiet, vec![3]).unwrap();
  c.send_to_renderer(main, r, ch, vec![4]).unwrap();
  c.invoke(main, r, ch, vec![5]).unwrap();
  c.send(main, r, Kind::Send, ch, vec![6]).unwrap();
  let (batch, _) = c.pop_batch(main, 1 << 20, |n| 32 + n, 100);
  let got: Vec<(u8, Route)> = batch
    .iter()
    .map(|d| (d.envelope.payload[0], d.route))
    .collect();
  assert_eq!(
    got,
    vec![
      (1, Route(Route::MAIN)),
      // nobody listens on `quiet` yet, but an earlier message's listener may add one
      (2, Route::chain(Kind::Send)),
      (3, Route::chain(Kind::Post)),
    ],
    "the batch stops before the message to the renderer (one direction per batch)"
  );
  let (batch, _) = c.pop_batch(main, 1 << 20, |n| 32 + n, 100);
  assert_eq!(batch.len(), 1, "the batch stops before the invoke");
  assert_eq!(batch[0].envelope.payload, vec![4]);
  let (batch, _) = c.pop_batch(main, 1 << 20, |n| 32 + n, 100);
  assert_eq!(
    batch.len(),
    1,
    "an invoke is routed alone: nothing follows it"
  );
  assert_eq!(batch[0].envelope.kind, Kind::Invoke);
  let (batch, _) = c.pop_batch(main, 1 << 20, |n| 32 + n, 100);
  assert_eq!(batch[0].envelope.payload, vec![6]);
  assert_eq!(
    batch.len(),
    1,
    "the invoke's answer to the renderer comes in the next batch"
  );
  let (batch, _) = c.pop_batch(main, 1 << 20, |n| 32 + n, 100);
  assert_eq!(batch[0].envelope.kind, Kind::InvokeReply);
  assert!(c.pop_batch(main, 1 << 20, |n| 32 + n, 100).0.is_empty());
}

#[test]
fn a_batch_respects_its_byte_budget_and_count_but_always_takes_one() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  for _ in 0..10 {
    c.send(main, r, Kind::Send, ch, vec![0; 100]).unwrap();
  }
  assert_eq!(c.pop_batch(main, 300, |n| 32 + n, 100).0.len(), 2);
  assert_eq!(
    c.pop_batch(main, 10, |n| 32 + n, 100).0.len(),
    1,
    "too big alone still comes"
  );
  assert_eq!(c.pop_batch(main, 1 << 20, |n| 32 + n, 3).0.len(), 3);
  // the room counts what the caller really writes (here: padding to 8 bytes)
  c.send(main, r, Kind::Send, ch, vec![0; 100]).unwrap();
  assert_eq!(
    c.pop_batch(main, 2 * 132, |n| (32 + n + 7) & !7, 100)
      .0
      .len(),
    1
  );
  assert_eq!(c.pop_batch(main, 1 << 20, |n| 32 + n, 100).0.len(), 4);
}

// ---- connections -----------------------------------------------------------------------------

#[derive(Debug, Default)]
struct FakeLink {
  sent: std::sync::Mutex<Vec<(Envelope, String)>>,
  closed: std::sync::atomic::AtomicBool,
}

impl crate::core::renderers::Link for FakeLink {
  fn send(&self, envelope: Envelope, channel: &str) -> bool {
    self
      .sent
      .lock()
      .unwrap()
      .push((envelope, channel.to_owned()));
    true
  }
  fn close(&self) {
    self.closed.store(true, Ordering::SeqCst);
  }
}

impl FakeLink {
  fn take(&self) -> Vec<(Envelope, String)> {
    std::mem::take(&mut *self.sent.lock().unwrap())
  }
}

fn frame(kind: Kind, channel: &str, request: RequestId, payload: &[u8]) -> (Envelope, String) {
  (
    Envelope::new(kind, 999, 0, payload.to_vec()).request(request),
    channel.to_owned(),
  )
}

#[test]
fn a_forked_renderer_gets_what_main_sent_before_it_connected() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Process).unwrap();
  let ch = c.intern("early");
  c.send_to_renderer(main, r, ch, vec![1]).unwrap();
  c.send_to_renderer(main, r, ch, vec![2]).unwrap();
  let link = Arc::new(FakeLink::default());
  assert_eq!(
    c.accept_remote(main, r, link.clone(), vec![], |_| {}),
    Ok(r)
  );
  c.send_to_renderer(main, r, ch, vec![3]).unwrap();
  let told = c.pop(main, false).0.unwrap();
  assert_eq!(
    (told.envelope.kind, told.envelope.renderer),
    (Kind::Connected, r)
  );
  let sent = link.take();
  assert_eq!(
    sent
      .iter()
      .map(|(e, ch)| (e.payload[0], ch.as_str()))
      .collect::<Vec<_>>(),
    vec![(1, "early"), (2, "early"), (3, "early")]
  );
  assert_eq!(
    c.accept_remote(main, r, link, vec![], |_| {}),
    Err(CoreError::AlreadyConnected(r))
  );
}

#[test]
fn only_a_process_renderer_of_that_main_can_be_claimed() {
  let c = core();
  let main = c.open_endpoint(None);
  let other = c.open_endpoint(None);
  let in_process = c.create_renderer(main, RendererKind::InProcess).unwrap();
  let process = c.create_renderer(main, RendererKind::Process).unwrap();
  let link: Arc<FakeLink> = Arc::default();
  assert!(c
    .accept_remote(main, in_process, link.clone(), vec![], |_| {})
    .is_err());
  assert!(c
    .accept_remote(other, process, link.clone(), vec![], |_| {})
    .is_err());
  assert!(c.accept_remote(main, 12345, link, vec![], |_| {}).is_err());
}

#[test]
fn a_process_that_connects_on_its_own_becomes_a_renderer_and_main_is_told() {
  let c = core();
  let waker = Arc::new(Counter::default());
  let main = c.open_endpoint(Some(waker.clone()));
  let link = Arc::new(FakeLink::default());
  let mut welcomed = 0;
  let id = c
    .accept_remote(main, 0, link, b"{\"pid\":7}".to_vec(), |id| welcomed = id)
    .unwrap();
  assert_eq!(welcomed, id, "the handshake is answered with the new id");
  assert_eq!(waker.get(), 1, "from a connection thread: a wake-up");
  let d = c.pop(main, false).0.unwrap();
  assert_eq!(d.envelope.kind, Kind::Connected);
  assert_eq!(d.envelope.renderer, id);
  assert_eq!(d.envelope.payload, b"{\"pid\":7}");
  assert_eq!(c.renderers_of(main), vec![id]);
}

#[test]
fn a_remote_renderers_requests_are_answered_through_its_link_with_its_own_ids() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Process).unwrap();
  let link = Arc::new(FakeLink::default());
  c.accept_remote(main, r, link.clone(), vec![], |_| {})
    .unwrap();
  assert_eq!(c.pop(main, false).0.unwrap().envelope.kind, Kind::Connected);
  let ch = c.intern("ch");
  c.set_listening(Scope::Main(main), ch, true);
  c.set_handler(Scope::Main(main), ch, true);
  c.from_remote(
    r,
    vec![
      frame(Kind::Send, "ch", 0, &[1]),
      frame(Kind::Sync, "ch", 41, &[2]),
      frame(Kind::Invoke, "ch", 42, &[3]),
      frame(Kind::Invoke, "nobody", 43, &[4]),
    ],
  )
  .unwrap();
  let ds = drain(&c, main);
  assert_eq!(ds.len(), 4);
  assert!(
    ds.iter().all(|d| d.envelope.renderer == r),
    "the frame's renderer field is ignored"
  );
  assert_eq!(ds[0].route, Route(Route::MAIN));
  assert_eq!(ds[3].route, Route(Route::UNANSWERED));
  assert_eq!(c.pending_count(main), 2);
  assert!(c.reply_sync(main, ds[1].envelope.request, Reply::value(vec![20])));
  c.settle_invoke(main, ds[2].envelope.request, Status::Ok, vec![30]);
  let sent = link.take();
  let got: Vec<(Kind, RequestId, Status)> = sent
    .iter()
    .map(|(e, _)| (e.kind, e.request, e.status))
    .collect();
  assert_eq!(
    got,
    vec![
      (Kind::InvokeReply, 43, Status::NoHandler),
      (Kind::SyncReply, 41, Status::Ok),
      (Kind::InvokeReply, 42, Status::Ok),
    ]
  );
  assert_eq!(sent[2].1, "ch");
  assert_eq!(c.pending_count(main), 0);
}

/// A main with one renderer process connected through a fake link (its Connected message
/// taken).
fn main_with_remote(c: &Core) -> (EndpointId, RendererId) {
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Process).unwrap();
  c.accept_remote(main, r, Arc::new(FakeLink::default()), vec![], |_| {})
    .unwrap();
  assert_eq!(c.pop(main, false).0.unwrap().envelope.kind, Kind::Connected);
  (main, r)
}

#[test]
fn each_frame_of_a_burst_keeps_its_own_channel() {
  let c = core();
  let (main, r) = main_with_remote(&c);
  let names = ["a", "a", "b", "a", "", "", "b"];
  for n in ["a", "b", ""] {
    let ch = c.intern(n);
    c.set_listening(Scope::Main(main), ch, true);
  }
  let frames = names
    .iter()
    .map(|n| frame(Kind::Send, n, 0, &[]))
    .collect::<Vec<_>>();
  c.from_remote(r, frames).unwrap();
  let got: Vec<String> = drain(&c, main)
    .iter()
    .map(|d| c.channel_name(d.envelope.channel).unwrap())
    .collect();
  assert_eq!(got, names);
}

#[test]
fn a_remote_renderer_cannot_send_what_only_main_sends() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Process).unwrap();
  c.accept_remote(main, r, Arc::new(FakeLink::default()), vec![], |_| {})
    .unwrap();
  for kind in [
    Kind::Message,
    Kind::InvokeReply,
    Kind::SyncReply,
    Kind::Connected,
    Kind::Gone,
    Kind::Diagnostic,
  ] {
    assert!(
      c.from_remote(r, vec![frame(kind, "x", 1, &[])]).is_err(),
      "{kind:?}"
    );
  }
}

#[test]
fn a_closed_connection_is_reported_after_the_renderers_last_messages() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Process).unwrap();
  c.accept_remote(main, r, Arc::new(FakeLink::default()), vec![], |_| {})
    .unwrap();
  let ch = c.intern("ch");
  c.set_listening(Scope::Main(main), ch, true);
  c.set_handler(Scope::Main(main), ch, true);
  c.from_remote(
    r,
    vec![
      frame(Kind::Send, "ch", 0, &[1]),
      frame(Kind::Invoke, "ch", 5, &[]),
    ],
  )
  .unwrap();
  c.remote_closed(r, b"{\"exitCode\":0}".to_vec());
  assert_eq!(c.pending_count(main), 0, "nobody is left to answer");
  let kinds: Vec<Kind> = drain(&c, main).iter().map(|d| d.envelope.kind).collect();
  assert_eq!(
    kinds,
    vec![Kind::Connected, Kind::Send, Kind::Invoke, Kind::Gone]
  );
  // until JS destroys it, sends to it go nowhere
  assert_eq!(c.send_to_renderer(main, r, ch, vec![]), Ok(false));
  c.destroy_renderer(main, r).unwrap();
  assert_eq!(
    c.send_to_renderer(main, r, ch, vec![]),
    Err(CoreError::ObjectDestroyed)
  );
}

#[test]
fn destroying_a_remote_renderer_closes_its_connection() {
  let c = core();
  let main = c.open_endpoint(None);
  let r = c.create_renderer(main, RendererKind::Process).unwrap();
  let link = Arc::new(FakeLink::default());
  c.accept_remote(main, r, link.clone(), vec![], |_| {})
    .unwrap();
  c.destroy_renderer(main, r).unwrap();
  assert!(link.closed.load(Ordering::SeqCst));
}

/// A message as a link saw it: kind, renderer, channel, payload.
type Seen = (Kind, RendererId, String, Vec<u8>);

/// A link that records which calls brought what: `send` one message, `send_batch` several.
#[derive(Debug, Default)]
struct BatchLink {
  calls: std::sync::Mutex<Vec<Vec<Seen>>>,
}

impl crate::core::renderers::Link for BatchLink {
  fn send(&self, e: Envelope, channel: &str) -> bool {
    let one = vec![(e.kind, e.renderer, channel.to_owned(), e.payload.to_vec())];
    self.calls.lock().unwrap().push(one);
    true
  }
  fn send_batch(&self, batch: &crate::core::link_batch::LinkBatch) -> bool {
    let all = batch
      .iter()
      .map(|(k, r, ch, p)| (k, r, ch.to_owned(), p.to_vec()))
      .collect();
    self.calls.lock().unwrap().push(all);
    true
  }
  fn close(&self) {}
}

#[test]
fn a_renderer_process_outbox_reaches_its_link_in_one_call_in_order() {
  let c = core();
  let host = c.open_endpoint(None);
  let link = Arc::new(BatchLink::default());
  let id = c.open_uplink(host, 77, link.clone()).unwrap();
  let (a, b) = (c.intern("a"), c.intern("bb"));
  c.send(host, id, Kind::Send, a, vec![0]).unwrap();
  let mut out = Vec::new();
  staged(&mut out, id, Kind::Send, a, &[1]);
  staged(&mut out, id, Kind::Post, b, &[2, 2, 2, 2, 2]);
  staged(&mut out, id, Kind::Send, a, &[]);
  let done = c.send_staged(host, &out);
  assert_eq!((done.routed, done.dropped, done.wake), (3, 0, false));
  c.invoke(host, id, b, vec![4]).unwrap();
  let calls = std::mem::take(&mut *link.calls.lock().unwrap());
  let s = |ch: &str| ch.to_owned();
  assert_eq!(
    calls,
    vec![
      vec![(Kind::Send, 77, s("a"), vec![0])],
      vec![
        (Kind::Send, 77, s("a"), vec![1]),
        (Kind::Post, 77, s("bb"), vec![2, 2, 2, 2, 2]),
        (Kind::Send, 77, s("a"), vec![]),
      ],
      vec![(Kind::Invoke, 77, s("bb"), vec![4])],
    ],
    "before and after it in order, the outbox in one call, main's id and the names"
  );
}

#[test]
fn an_uplinked_renderer_talks_to_main_through_its_link() {
  let c = Arc::new(core());
  let host = c.open_endpoint(None);
  let link = Arc::new(FakeLink::default());
  let id = c.open_uplink(host, 77, link.clone()).unwrap();
  let ch = c.intern("ch");
  c.send(host, id, Kind::Send, ch, vec![1]).unwrap();
  let (inv, wake) = c.invoke(host, id, ch, vec![2]).unwrap();
  assert!(!wake, "nothing local to drain");
  let sent = link.take();
  assert_eq!(sent.len(), 2);
  assert!(
    sent.iter().all(|(e, ch)| e.renderer == 77 && ch == "ch"),
    "main's id, and the channel by name"
  );
  assert_eq!(sent[1].0.request, inv);
  assert_eq!(
    c.pending_count(0),
    1,
    "owed by the main in the other process"
  );
  // the answer, and a message from main, arrive in this thread's mailbox
  c.from_uplink(
    id,
    vec![
      frame(Kind::InvokeReply, "ch", inv, &[9]),
      frame(Kind::Message, "hello", 0, &[8]),
    ],
  )
  .unwrap();
  let ds = drain(&c, host);
  assert_eq!(ds.len(), 2);
  assert_eq!(
    (
      ds[0].envelope.kind,
      ds[0].envelope.request,
      ds[0].envelope.renderer
    ),
    (Kind::InvokeReply, inv, id)
  );
  assert_eq!(
    c.channel_name(ds[1].envelope.channel).as_deref(),
    Some("hello")
  );
  // a second answer to the same invoke is a protocol error
  assert!(c
    .from_uplink(id, vec![frame(Kind::InvokeReply, "ch", inv, &[])])
    .is_err());
  // a blocking sendSync is answered by a SyncReply frame
  let c2 = c.clone();
  let link2 = link.clone();
  let answer = thread::spawn(move || loop {
    let sent = link2.take();
    if let Some((e, _)) = sent.into_iter().find(|(e, _)| e.kind == Kind::Sync) {
      c2.from_uplink(
        id,
        vec![(
          Envelope::new(Kind::SyncReply, 77, 0, vec![5]).request(e.request),
          "ch",
        )],
      )
      .unwrap();
      return;
    }
    thread::sleep(Duration::from_millis(1));
  });
  assert_eq!(
    c.sync_blocking(host, id, ch, vec![], &mut || false),
    Ok(Reply::value(vec![5]))
  );
  answer.join().unwrap();
  assert!(
    c.from_uplink(id, vec![frame(Kind::Send, "ch", 0, &[])])
      .is_err(),
    "main does not send renderer kinds"
  );
}

#[test]
fn what_main_sent_before_a_refused_frame_is_delivered_and_wakes_its_thread() {
  let c = Arc::new(core());
  let host = c.open_endpoint(None);
  let id = c
    .open_uplink(host, 77, Arc::new(FakeLink::default()))
    .unwrap();
  let waker = Arc::new(Counter::default());
  c.set_waker(host, Some(waker.clone()));
  assert!(c
    .from_uplink(
      id,
      vec![
        frame(Kind::Message, "first", 0, &[1]),
        frame(Kind::InvokeReply, "ch", 12345, &[]),
        frame(Kind::Message, "after", 0, &[2]),
      ],
    )
    .is_err());
  assert_eq!(waker.get(), 1, "woken for what came before");
  let ds = drain(&c, host);
  assert_eq!(ds.len(), 1, "nothing after the refused frame");
  assert_eq!(
    c.channel_name(ds[0].envelope.channel).as_deref(),
    Some("first")
  );
}

#[test]
fn losing_main_releases_an_uplinked_renderer() {
  let c = Arc::new(core());
  let waker = Arc::new(Counter::default());
  let host = c.open_endpoint(Some(waker.clone()));
  let link = Arc::new(FakeLink::default());
  let id = c.open_uplink(host, 3, link.clone()).unwrap();
  let ch = c.intern("ch");
  let (inv, _) = c.invoke(host, id, ch, vec![]).unwrap();
  let c2 = c.clone();
  let closer = thread::spawn(move || {
    while !link.take().iter().any(|(e, _)| e.kind == Kind::Sync) {
      thread::sleep(Duration::from_millis(1));
    }
    c2.uplink_closed(id);
  });
  assert_eq!(
    c.sync_blocking(host, id, ch, vec![], &mut || false),
    Err(CoreError::Disconnected)
  );
  closer.join().unwrap();
  assert_eq!(
    waker.get(),
    1,
    "the host's thread is woken to see the rejections"
  );
  let ds = drain(&c, host);
  let got: Vec<(Kind, Status, RequestId)> = ds
    .iter()
    .map(|d| (d.envelope.kind, d.envelope.status, d.envelope.request))
    .collect();
  assert_eq!(
    got,
    vec![
      (Kind::InvokeReply, Status::Disconnected, inv),
      (Kind::Gone, Status::Ok, 0)
    ]
  );
  assert_eq!(
    c.send(host, id, Kind::Send, ch, vec![]),
    Err(CoreError::Disconnected)
  );
  assert_eq!(c.pending_count(0), 0);
}

#[test]
fn closing_a_host_endpoint_closes_its_uplinks() {
  let c = core();
  let host = c.open_endpoint(None);
  let link = Arc::new(FakeLink::default());
  c.open_uplink(host, 3, link.clone()).unwrap();
  c.close_endpoint(host);
  assert!(link.closed.load(Ordering::SeqCst));
}

// ---- found in review ---------------------------------------------------------------------------

#[test]
fn a_push_nobody_can_be_woken_for_does_not_stall_the_mailbox() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  // from another thread, while this endpoint has no waker
  c.diagnostic(main, b"{}".to_vec());
  assert_eq!(
    c.send(main, r, Kind::Send, ch, vec![1]),
    Ok(true),
    "the next push asks for a drain"
  );
}

#[test]
fn a_ring_lost_on_a_closing_waker_is_owed_to_the_thread() {
  struct Closed;
  impl Wake for Closed {
    fn wake(&self) {}
  }
  let c = core();
  let (main, _, _) = main_with_renderer(&c);
  c.set_waker(main, Some(Arc::new(Closed)));
  c.diagnostic(main, b"{}".to_vec());
  assert!(
    c.set_waker(main, None),
    "the thread is told to drain what nobody announced"
  );
  drain(&c, main);
  assert!(!c.set_waker(main, None), "an empty mailbox owes nothing");
}

#[test]
fn a_batch_does_not_take_main_bound_messages_behind_a_renderer_bound_one() {
  let c = core();
  let (main, r, ch) = main_with_renderer(&c);
  c.send_to_renderer(main, r, ch, vec![1]).unwrap();
  c.send(main, r, Kind::Send, ch, vec![2]).unwrap();
  let (batch, _) = c.pop_batch(main, 1 << 20, |n| 32 + n, 100);
  assert_eq!(batch.len(), 1);
  assert_eq!(
    c.pop(main, true).0.unwrap().envelope.payload,
    vec![2],
    "a pump finds it"
  );
}
