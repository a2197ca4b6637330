//! The completion slot: a one-shot channel that carries one reply from the I/O thread to a
//! caller that either blocks ([`Receiver::wait`]) or awaits ([`Receiver`] is a `Future`) in any
//! executor.
//!
//! Model check with loom (every interleaving of the models in `loom_tests`):
//! `RUSTFLAGS="--cfg loom" cargo test --release --lib oneshot`
//!
//! # Design
//!
//! After the `oneshot` crate's design: [`channel`] makes ONE heap allocation, a [`Slot`] that
//! holds a state byte, a cell for the value and a cell for the waiter (the parked
//! [`Thread`](std::thread::Thread) or the task's [`Waker`]). Each endpoint holds a raw pointer
//! to it; whichever endpoint leaves last frees it. Who may touch which cell is decided by the
//! state alone:
//!
//! | state          | value cell                       | waiter cell                         |
//! |----------------|----------------------------------|-------------------------------------|
//! | `EMPTY`        | sender's (it may be writing)     | receiver's (it may be writing one)  |
//! | `RECEIVING`    | sender's                         | holds a waiter; owned by whoever wins the CAS out of `RECEIVING` |
//! | `UNPARKING`    | sender's                         | sender's (it is moving the waiter out) |
//! | `MESSAGE`      | holds the value; receiver's      | empty                               |
//! | `DISCONNECTED` | empty; the endpoint left owns all and frees the slot when it goes  | empty |
//!
//! Transitions (S = sender, R = receiver):
//! - S sends: writes the value, then `EMPTY → MESSAGE`, or `RECEIVING → UNPARKING`, moves the
//!   waiter out, stores `MESSAGE` and only then wakes the waiter (the slot may already be freed
//!   by then; the waiter is a local value). Seeing `DISCONNECTED` it takes the value back,
//!   frees the slot and returns `Err(value)`.
//! - S dropped unsent: the same with `DISCONNECTED` in place of `MESSAGE`; seeing
//!   `DISCONNECTED` it frees the slot.
//! - R registers: writes a waiter while the state is `EMPTY`, then `EMPTY → RECEIVING`. If the
//!   sender finished first (the CAS finds `MESSAGE`/`DISCONNECTED`) it drops its own waiter.
//! - R replaces or withdraws its waiter (a new waker, a timed-out wait, a drop):
//!   `RECEIVING → EMPTY` gives it the waiter back. `UNPARKING` is a few instructions long: R
//!   spins until the sender has stored the final state.
//! - R takes the value on `MESSAGE` and stores `DISCONNECTED` (it is now the only owner); R
//!   dropped frees the slot on `MESSAGE` (dropping the value) or `DISCONNECTED`, and otherwise
//!   leaves `DISCONNECTED` for the sender to find.
//!
//! `UNPARKING` exists so that no endpoint reads the waiter cell after publishing a final state:
//! the receiver may free the slot the moment it sees `MESSAGE` or `DISCONNECTED`.
//!
//! Memory ordering: every transition that hands cells to the other side is a `Release`, every
//! load or CAS that takes them over is an `Acquire`; each atomic operation says which edge it is.
#![allow(unsafe_code)] // The one module allowed `unsafe`: raw shared slot, checked with loom.
#![deny(unsafe_op_in_unsafe_fn)]

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::sync::Ordering::{Acquire, Relaxed, Release};
use crate::sync::{spin_loop, thread, AtomicU8, UnsafeCell};

#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(all(test, loom))]
mod loom_tests;

/// Both endpoints alive, no value, no waiter published.
const EMPTY: u8 = 0;
/// Both endpoints alive, no value, a waiter is stored in the waiter cell.
const RECEIVING: u8 = 1;
/// The sender is moving the waiter out; `MESSAGE` or `DISCONNECTED` follows at once.
const UNPARKING: u8 = 2;
/// The value is stored and the sender is gone.
const MESSAGE: u8 = 3;
/// One endpoint is gone (or the value was taken): the other owns everything.
const DISCONNECTED: u8 = 4;

/// Checks `wait()` makes in a busy loop before parking. Off: in `benches/handle.rs`
/// (`ping_pong/wait_spin_N`, a round trip between two threads, on the 2-core machine shared
/// with other work) parking at once took 1.7-2.4 µs a round trip, while spinning 100, 1 000 or
/// 10 000 times ranged from 0.4 µs to 23 µs depending on whether both threads had a core. A
/// real reply comes from a Redis round trip (tens of µs), and a spinning caller takes the core
/// the I/O thread needs to produce it.
const WAIT_SPINS: u32 = 0;

/// The park budget that means "no deadline".
const FOREVER: Duration = Duration::MAX;

/// The receiver's way to be woken.
enum Waiter {
    /// A thread blocked in [`Receiver::wait`] / [`Receiver::wait_deadline`].
    Thread(thread::Thread),
    /// A task that polled the [`Receiver`] as a future.
    Task(Waker),
}

impl Waiter {
    /// The waiter for the calling thread (`None`) or for the given task.
    fn new(waker: Option<&Waker>) -> Self {
        match waker {
            Some(waker) => Waiter::Task(waker.clone()),
            None => Waiter::Thread(thread::current()),
        }
    }

    fn wake(self) {
        match self {
            Waiter::Thread(thread) => thread.unpark(),
            Waiter::Task(waker) => waker.wake(),
        }
    }
}

/// The one shared allocation.
struct Slot<T> {
    state: AtomicU8,
    value: UnsafeCell<MaybeUninit<T>>,
    waiter: UnsafeCell<MaybeUninit<Waiter>>,
    /// Loom reports the slot as leaked if no endpoint frees it.
    #[cfg(loom)]
    leak: loom::alloc::Track<()>,
    /// Loom only: cleared by `free`, read before every cell access, so loom reports a use
    /// after free (or a double free) as a data race on this cell or a failed assertion.
    #[cfg(loom)]
    alive: UnsafeCell<bool>,
}

impl<T> Slot<T> {
    fn new() -> Self {
        Slot {
            state: AtomicU8::new(EMPTY),
            value: UnsafeCell::new(MaybeUninit::uninit()),
            waiter: UnsafeCell::new(MaybeUninit::uninit()),
            #[cfg(loom)]
            leak: loom::alloc::Track::new(()),
            #[cfg(loom)]
            alive: UnsafeCell::new(true),
        }
    }

    /// Loom only: asserts the slot was not freed, as a read loom can order against `free`.
    fn check_alive(&self) {
        #[cfg(loom)]
        // SAFETY: a plain read; loom itself reports it if it races with `free`'s write.
        self.alive.with(|alive| assert!(unsafe { *alive }, "oneshot slot used after free"));
    }

    /// # Safety
    /// The caller owns the value cell (see the module table) and it holds no value.
    unsafe fn write_value(&self, value: T) {
        self.check_alive();
        // SAFETY: exclusive access to an empty cell is the caller's contract.
        self.value.with_mut(|cell| unsafe { cell.write(MaybeUninit::new(value)) });
    }

    /// # Safety
    /// The caller owns the value cell and it holds a value, which is moved out.
    unsafe fn take_value(&self) -> T {
        self.check_alive();
        // SAFETY: the cell is initialised and ours; reading moves the value out, and the
        // caller's state change records that the cell is empty again.
        self.value.with_mut(|cell| unsafe { cell.read().assume_init() })
    }

    /// # Safety
    /// The caller owns the value cell and it holds a value, which is dropped in place.
    unsafe fn drop_value(&self) {
        self.check_alive();
        // SAFETY: as for `take_value`; the value is dropped exactly once, here.
        self.value.with_mut(|cell| unsafe { (*cell).assume_init_drop() });
    }

    /// # Safety
    /// The caller owns the waiter cell and it holds no waiter.
    unsafe fn write_waiter(&self, waiter: Waiter) {
        self.check_alive();
        // SAFETY: exclusive access to an empty cell is the caller's contract.
        self.waiter.with_mut(|cell| unsafe { cell.write(MaybeUninit::new(waiter)) });
    }

    /// # Safety
    /// The caller owns the waiter cell and it holds a waiter, which is moved out.
    unsafe fn take_waiter(&self) -> Waiter {
        self.check_alive();
        // SAFETY: the cell is initialised and ours; after this read it counts as empty.
        self.waiter.with_mut(|cell| unsafe { cell.read().assume_init() })
    }

    /// Whether the stored waiter is a waker that wakes the same task as `waker`.
    ///
    /// # Safety
    /// The caller owns the waiter cell and it holds a waiter.
    unsafe fn task_will_wake(&self, waker: &Waker) -> bool {
        self.check_alive();
        // SAFETY: the cell is initialised and nobody else may touch it now.
        self.waiter.with(|cell| match unsafe { (*cell).assume_init_ref() } {
            Waiter::Task(stored) => stored.will_wake(waker),
            Waiter::Thread(_) => false,
        })
    }

    /// Publishes the waiter just written while the state is `EMPTY`.
    ///
    /// `Ok` when the sender will wake it; `Err(state)` (`MESSAGE` or `DISCONNECTED`) when the
    /// sender finished first, in which case the waiter has been taken back and dropped.
    ///
    /// # Safety
    /// Only the receiver calls this, with the waiter cell written and the state last seen as
    /// `EMPTY` or moved to `EMPTY` by the receiver.
    unsafe fn publish_waiter(&self) -> Result<(), u8> {
        // ORDERING: success is Release so the sender, whose CAS out of RECEIVING is Acquire,
        // sees the waiter written. Failure is Acquire: it may find MESSAGE, whose value the
        // caller reads next.
        match self.state.compare_exchange(EMPTY, RECEIVING, Release, Acquire) {
            Ok(_) => Ok(()),
            Err(state) => {
                debug_assert!(state == MESSAGE || state == DISCONNECTED, "state {state}");
                // SAFETY: from EMPTY the sender can only reach MESSAGE or DISCONNECTED, neither
                // of which lets it touch the waiter cell: the waiter is still ours.
                drop(unsafe { self.take_waiter() });
                Err(state)
            }
        }
    }

    /// Takes the value after the receiver saw `MESSAGE`; the receiver is then the only owner.
    ///
    /// # Safety
    /// Only the receiver calls this, after an Acquire load or CAS returned `MESSAGE`.
    unsafe fn take_message(&self) -> T {
        // SAFETY: MESSAGE, seen with Acquire, means the value is written and visible, the
        // sender is gone and the cell is the receiver's.
        let value = unsafe { self.take_value() };
        // ORDERING: Relaxed: the sender is gone, only the receiver reads the state from now on.
        self.state.store(DISCONNECTED, Relaxed);
        value
    }
}

/// Frees the slot.
///
/// # Safety
/// `slot` came from [`channel`], both cells are empty, neither endpoint will touch it again,
/// and every access by the other endpoint happens-before this call (the caller saw the other
/// side's last state change with Acquire).
unsafe fn free<T>(slot: NonNull<Slot<T>>) {
    #[cfg(loom)]
    {
        // SAFETY: the slot is still allocated (it never is deallocated under loom).
        let slot_ref = unsafe { slot.as_ref() };
        slot_ref.check_alive();
        // SAFETY: a plain write; loom reports it if it races with the other side's accesses.
        slot_ref.alive.with_mut(|alive| unsafe { *alive = false });
        // SAFETY: the tracker is dropped once, here: `alive` was true and is now false.
        unsafe { std::ptr::drop_in_place(std::ptr::addr_of_mut!((*slot.as_ptr()).leak)) };
        // The memory itself is leaked on purpose (a few bytes per loom iteration), so that a
        // buggy late access meets the `alive` check instead of freed memory.
    }
    #[cfg(not(loom))]
    {
        // SAFETY: the pointer came from `Box::leak` in `channel`; the contract says this is
        // the last use. `Slot` has no `Drop`, so the (empty) cells are not read.
        drop(unsafe { Box::from_raw(slot.as_ptr()) });
    }
}

/// Waits out the short `UNPARKING` window: spin a little, then yield.
struct Backoff(u32);

impl Backoff {
    fn new() -> Self {
        Backoff(0)
    }

    fn snooze(&mut self) {
        if self.0 < 6 {
            for _ in 0..1u32 << self.0 {
                spin_loop();
            }
            self.0 += 1;
        } else {
            thread::yield_now();
        }
    }
}

fn state_name(state: u8) -> &'static str {
    match state {
        EMPTY => "Empty",
        RECEIVING => "Receiving",
        UNPARKING => "Unparking",
        MESSAGE => "Message",
        DISCONNECTED => "Disconnected",
        _ => "Invalid",
    }
}

/// Creates a completion slot: the [`Sender`] half goes to the I/O thread, the [`Receiver`] half
/// to the caller. Makes one heap allocation, freed by whichever half goes last.
///
/// # Examples
///
/// ```
/// use redpoll::__bench::channel;
///
/// let (tx, rx) = channel();
/// std::thread::spawn(move || tx.send(42).unwrap());
/// assert_eq!(rx.wait(), Ok(42));
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let slot = NonNull::from(Box::leak(Box::new(Slot::new())));
    (Sender { slot, _marker: PhantomData }, Receiver { slot, _marker: PhantomData })
}

/// The sending half: completes the slot once with [`send`](Sender::send). Dropping it unsent
/// closes the slot (the receiver sees [`Closed`]).
pub struct Sender<T> {
    slot: NonNull<Slot<T>>,
    /// Invariant in `T`: a covariant sender would let a short-lived value be sent into a slot
    /// typed for a longer-lived one.
    _marker: PhantomData<fn(T) -> T>,
}

/// The receiving half: [`wait`](Receiver::wait) blocks the thread, `.await` yields the task.
/// Dropping it at any time is safe and drops a value that was sent.
pub struct Receiver<T> {
    slot: NonNull<Slot<T>>,
    /// The receiver may own (and drop) a `T`.
    _marker: PhantomData<T>,
}

// SAFETY: the halves move a `T` from one thread to another, so `T: Send` is required and
// enough; all shared state is behind the state atomic.
unsafe impl<T: Send> Send for Sender<T> {}
// SAFETY: `&Sender` only allows `is_closed`, an atomic load.
unsafe impl<T: Send> Sync for Sender<T> {}
// SAFETY: as for `Sender`.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: `&Receiver` only allows `is_ready`, an atomic load.
unsafe impl<T: Send> Sync for Receiver<T> {}

// The receiver is never pinned in place: its state lives in the heap slot.
impl<T> Unpin for Receiver<T> {}

impl<T> Sender<T> {
    fn slot(&self) -> &Slot<T> {
        // SAFETY: the slot lives until the last endpoint leaves. The receiver frees it only
        // after seeing MESSAGE or DISCONNECTED, which the sender writes as its last act (from
        // `send`/`drop`, both of which consume it): while `self` exists, the slot does.
        unsafe { self.slot.as_ref() }
    }

    /// Completes the slot with `value` and wakes the waiting thread or task. Never blocks.
    ///
    /// # Errors
    ///
    /// `Err(value)` when the receiver is gone; the value is handed back, not dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::__bench::channel;
    ///
    /// let (tx, rx) = channel::<String>();
    /// drop(rx);
    /// assert_eq!(tx.send("late".to_owned()), Err("late".to_owned()));
    /// ```
    pub fn send(self, value: T) -> Result<(), T> {
        let this = ManuallyDrop::new(self);
        let ptr = this.slot;
        let slot = this.slot();
        // ORDERING: Acquire: DISCONNECTED means the receiver left; its accesses to the slot
        // must happen-before we free it.
        let mut state = slot.state.load(Acquire);
        if state == DISCONNECTED {
            // SAFETY: the receiver is gone (the receiver only writes DISCONNECTED while the
            // sender is alive when it drops) and never touches the slot again.
            unsafe { free(ptr) };
            return Err(value);
        }
        // SAFETY: the value cell is the sender's until it publishes MESSAGE.
        unsafe { slot.write_value(value) };
        loop {
            match state {
                // ORDERING: success Release publishes the value to the receiver's Acquire;
                // failure Acquire as for the first load.
                EMPTY => match slot.state.compare_exchange(EMPTY, MESSAGE, Release, Acquire) {
                    Ok(_) => return Ok(()),
                    Err(actual) => state = actual,
                },
                // ORDERING: success Acquire pairs with the receiver's Release publication of
                // the waiter, which we read next; failure Acquire as for the first load.
                RECEIVING => {
                    match slot.state.compare_exchange(RECEIVING, UNPARKING, Acquire, Acquire) {
                        Ok(_) => {
                            // SAFETY: winning RECEIVING -> UNPARKING gives us the stored waiter.
                            let waiter = unsafe { slot.take_waiter() };
                            // ORDERING: Release publishes the value (and the emptied waiter
                            // cell) to the receiver, which may free the slot right after.
                            slot.state.store(MESSAGE, Release);
                            waiter.wake();
                            return Ok(());
                        }
                        Err(actual) => state = actual,
                    }
                }
                DISCONNECTED => {
                    // SAFETY: the receiver left (seen with Acquire) and never reads the value
                    // cell without MESSAGE; the value we wrote is still there and ours.
                    let value = unsafe { slot.take_value() };
                    // SAFETY: the receiver is gone; both cells are empty.
                    unsafe { free(ptr) };
                    return Err(value);
                }
                _ => unreachable!("oneshot sender saw state {}", state_name(state)),
            }
        }
    }

    /// Whether the receiver is gone, so the reply is no longer wanted.
    pub fn is_closed(&self) -> bool {
        // ORDERING: Relaxed: a hint; nothing is read on the strength of it.
        self.slot().state.load(Relaxed) == DISCONNECTED
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let ptr = self.slot;
        let slot = self.slot();
        // ORDERING: Acquire: on DISCONNECTED we free the slot after the receiver's accesses.
        let mut state = slot.state.load(Acquire);
        loop {
            match state {
                // ORDERING: Release hands the slot to the receiver, which frees it after an
                // Acquire load; failure Acquire as for the first load.
                EMPTY => match slot.state.compare_exchange(EMPTY, DISCONNECTED, Release, Acquire) {
                    Ok(_) => return,
                    Err(actual) => state = actual,
                },
                // ORDERING: success Acquire to read the waiter the receiver published.
                RECEIVING => {
                    match slot.state.compare_exchange(RECEIVING, UNPARKING, Acquire, Acquire) {
                        Ok(_) => {
                            // SAFETY: winning RECEIVING -> UNPARKING gives us the stored waiter.
                            let waiter = unsafe { slot.take_waiter() };
                            // ORDERING: Release: the receiver may free the slot once it sees
                            // this, so our read of the waiter cell must happen-before.
                            slot.state.store(DISCONNECTED, Release);
                            waiter.wake();
                            return;
                        }
                        Err(actual) => state = actual,
                    }
                }
                DISCONNECTED => {
                    // SAFETY: the receiver is gone (seen with Acquire) and left both cells
                    // empty; we are the last endpoint.
                    unsafe { free(ptr) };
                    return;
                }
                _ => unreachable!("oneshot sender saw state {}", state_name(state)),
            }
        }
    }
}

impl<T> Receiver<T> {
    fn slot(&self) -> &Slot<T> {
        // SAFETY: the slot lives until the last endpoint leaves. The sender frees it only after
        // seeing DISCONNECTED written by a *dropped* receiver (a receiver that took the value
        // writes DISCONNECTED too, but the sender is gone by then): while `self` exists, the
        // slot does.
        unsafe { self.slot.as_ref() }
    }

    /// Blocks the calling thread until the value is sent or the sender is dropped.
    ///
    /// # Errors
    ///
    /// [`Closed`] when the sender was dropped without sending, or the value was already taken.
    pub fn wait(self) -> Result<T, Closed> {
        self.wait_with_spin(WAIT_SPINS)
    }

    /// [`wait`](Receiver::wait) that first checks for the value `spins` times in a busy loop
    /// before parking the thread (for measuring whether spinning pays; `wait` uses the
    /// default).
    ///
    /// # Errors
    ///
    /// As for [`wait`](Receiver::wait).
    #[doc(hidden)]
    pub fn wait_with_spin(self, spins: u32) -> Result<T, Closed> {
        match self.block(spins, || Some(FOREVER)) {
            Ok(value) => Ok(value),
            Err(WaitError::Closed) => Err(Closed),
            Err(WaitError::Timeout(_)) => unreachable!("a wait without deadline timed out"),
        }
    }

    /// Blocks until the value is sent, the sender is dropped, or `deadline` passes.
    ///
    /// # Errors
    ///
    /// [`WaitError::Timeout`] gives the receiver back (the slot stays usable: wait again,
    /// poll it, or drop it); [`WaitError::Closed`] as [`Closed`] for [`wait`](Receiver::wait).
    ///
    /// # Examples
    ///
    /// ```
    /// use redpoll::__bench::{channel, WaitError};
    /// use std::time::{Duration, Instant};
    ///
    /// let (tx, rx) = channel();
    /// let soon = Instant::now() + Duration::from_millis(5);
    /// let Err(WaitError::Timeout(rx)) = rx.wait_deadline(soon) else { panic!("no timeout") };
    /// tx.send(7).unwrap();
    /// assert_eq!(rx.wait().ok(), Some(7));
    /// ```
    pub fn wait_deadline(self, deadline: Instant) -> Result<T, WaitError<Self>> {
        self.block(WAIT_SPINS, move || {
            deadline.checked_duration_since(Instant::now()).filter(|left| !left.is_zero())
        })
    }

    /// Takes the value if it is there, without blocking.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] when nothing was sent yet; [`TryRecvError::Closed`] when the
    /// sender was dropped unsent or the value was already taken.
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let slot = self.slot();
        // ORDERING: Acquire pairs with the sender's Release of MESSAGE (the value).
        match slot.state.load(Acquire) {
            // SAFETY: we are the receiver and saw MESSAGE with Acquire.
            MESSAGE => Ok(unsafe { slot.take_message() }),
            DISCONNECTED => Err(TryRecvError::Closed),
            // EMPTY, RECEIVING, and UNPARKING (the final state is a few instructions away).
            _ => Err(TryRecvError::Empty),
        }
    }

    /// Whether [`try_recv`](Receiver::try_recv) would return at once with a value or
    /// [`TryRecvError::Closed`] (that is, waiting would not block).
    pub fn is_ready(&self) -> bool {
        // ORDERING: Relaxed: a hint; whoever then takes the value loads with Acquire.
        matches!(self.slot().state.load(Relaxed), MESSAGE | DISCONNECTED)
    }

    /// Returns the result if it is there; otherwise stores (or refreshes) the waiter for the
    /// given task (`Some`) or the calling thread (`None`) so the sender will wake it.
    fn poll_register(&mut self, waker: Option<&Waker>) -> Poll<Result<T, Closed>> {
        let slot = self.slot();
        // ORDERING: Acquire pairs with the sender's Release of MESSAGE/DISCONNECTED.
        let mut state = slot.state.load(Acquire);
        let mut backoff = Backoff::new();
        loop {
            match state {
                // SAFETY: we are the receiver and saw MESSAGE with Acquire.
                MESSAGE => return Poll::Ready(Ok(unsafe { slot.take_message() })),
                DISCONNECTED => return Poll::Ready(Err(Closed)),
                UNPARKING => {
                    backoff.snooze();
                    // ORDERING: as for the first load.
                    state = slot.state.load(Acquire);
                }
                EMPTY => {
                    // SAFETY: in EMPTY the waiter cell is the receiver's, and it is empty
                    // (the receiver only leaves EMPTY by publishing a waiter or dropping it).
                    unsafe { slot.write_waiter(Waiter::new(waker)) };
                    // SAFETY: we are the receiver, the waiter is written, the state was EMPTY.
                    match unsafe { slot.publish_waiter() } {
                        Ok(()) => return Poll::Pending,
                        Err(actual) => state = actual,
                    }
                }
                // A waiter is stored (an earlier poll, maybe from another task): take the cell
                // back, keep the waiter if it wakes the same task, replace it otherwise.
                // ORDERING: success Acquire (the cell was last written by us, but a failure
                // may find MESSAGE, whose value we read next).
                RECEIVING => {
                    match slot.state.compare_exchange(RECEIVING, EMPTY, Acquire, Acquire) {
                        Ok(_) => {
                            // SAFETY: winning RECEIVING -> EMPTY gives the receiver the waiter
                            // cell, which holds the waiter it published.
                            let same = waker.is_some_and(|w| unsafe { slot.task_will_wake(w) });
                            if !same {
                                // SAFETY: as above; the cell is empty between the two calls.
                                unsafe {
                                    drop(slot.take_waiter());
                                    slot.write_waiter(Waiter::new(waker));
                                }
                            }
                            // SAFETY: we are the receiver, a waiter is written, the state is EMPTY.
                            match unsafe { slot.publish_waiter() } {
                                Ok(()) => return Poll::Pending,
                                Err(actual) => state = actual,
                            }
                        }
                        Err(actual) => state = actual,
                    }
                }
                _ => unreachable!("oneshot receiver saw state {}", state_name(state)),
            }
        }
    }

    /// Withdraws the waiter after a timed-out wait. `None`: withdrawn, the slot is as before
    /// the wait. `Some`: the sender finished first; its result.
    fn unregister(&mut self) -> Option<Result<T, Closed>> {
        let slot = self.slot();
        let mut backoff = Backoff::new();
        loop {
            // ORDERING: as in `poll_register`'s RECEIVING arm.
            match slot.state.compare_exchange(RECEIVING, EMPTY, Acquire, Acquire) {
                Ok(_) => {
                    // SAFETY: winning RECEIVING -> EMPTY gives us our waiter back.
                    drop(unsafe { slot.take_waiter() });
                    return None;
                }
                Err(UNPARKING) => backoff.snooze(),
                // SAFETY: we are the receiver and saw MESSAGE with Acquire.
                Err(MESSAGE) => return Some(Ok(unsafe { slot.take_message() })),
                Err(DISCONNECTED) => return Some(Err(Closed)),
                // Nothing registered: nothing to withdraw.
                Err(_) => return None,
            }
        }
    }

    /// The blocking wait: spin `spins` times, then park for as long as `remaining` allows
    /// (`Some(FOREVER)`: no limit; `None`: time is up).
    fn block(
        mut self,
        spins: u32,
        mut remaining: impl FnMut() -> Option<Duration>,
    ) -> Result<T, WaitError<Self>> {
        for _ in 0..spins {
            if self.is_ready() {
                break;
            }
            spin_loop();
        }
        let Some(mut budget) = remaining() else {
            return match self.try_recv() {
                Ok(value) => Ok(value),
                Err(TryRecvError::Closed) => Err(WaitError::Closed),
                Err(TryRecvError::Empty) => Err(WaitError::Timeout(self)),
            };
        };
        if let Poll::Ready(result) = self.poll_register(None) {
            return result.map_err(|Closed| WaitError::Closed);
        }
        loop {
            if budget == FOREVER {
                thread::park();
            } else {
                thread::park_timeout(budget);
            }
            // RECEIVING or UNPARKING after a wake-up means a spurious wake-up, a timer, or a
            // sender about to unpark us: our waiter is still stored, park again.
            match self.try_recv() {
                Ok(value) => return Ok(value),
                Err(TryRecvError::Closed) => return Err(WaitError::Closed),
                Err(TryRecvError::Empty) => {}
            }
            match remaining() {
                Some(left) => budget = left,
                None => {
                    return match self.unregister() {
                        None => Err(WaitError::Timeout(self)),
                        Some(result) => result.map_err(|Closed| WaitError::Closed),
                    }
                }
            }
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, Closed>;

    /// Ready with the value, or with [`Closed`] when the sender was dropped unsent (also on a
    /// poll after the value was taken). Pending stores the context's waker, replacing the one
    /// of an earlier poll unless it wakes the same task.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.get_mut().poll_register(Some(cx.waker()))
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let ptr = self.slot;
        let slot = self.slot();
        // ORDERING: Acquire: MESSAGE/DISCONNECTED hand us the value and the slot to free.
        let mut state = slot.state.load(Acquire);
        let mut backoff = Backoff::new();
        loop {
            match state {
                // ORDERING: success Release hands the slot (including our waiter cell, emptied
                // by us) to the sender, which frees it; failure Acquire as for the first load.
                EMPTY => match slot.state.compare_exchange(EMPTY, DISCONNECTED, Release, Acquire) {
                    Ok(_) => return,
                    Err(actual) => state = actual,
                },
                // ORDERING: as in `poll_register`'s RECEIVING arm.
                RECEIVING => {
                    match slot.state.compare_exchange(RECEIVING, EMPTY, Acquire, Acquire) {
                        Ok(_) => {
                            // SAFETY: winning RECEIVING -> EMPTY gives us our waiter back.
                            drop(unsafe { slot.take_waiter() });
                            state = EMPTY;
                        }
                        Err(actual) => state = actual,
                    }
                }
                UNPARKING => {
                    backoff.snooze();
                    // ORDERING: as for the first load.
                    state = slot.state.load(Acquire);
                }
                MESSAGE => {
                    // SAFETY: MESSAGE seen with Acquire: the value is ours and the sender gone.
                    unsafe { slot.drop_value() };
                    // SAFETY: the sender is gone and both cells are now empty.
                    unsafe { free(ptr) };
                    return;
                }
                DISCONNECTED => {
                    // SAFETY: the sender is gone (it wrote DISCONNECTED, seen with Acquire),
                    // or we took the value ourselves; both cells are empty.
                    unsafe { free(ptr) };
                    return;
                }
                _ => unreachable!("oneshot receiver saw state {}", state_name(state)),
            }
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ORDERING: Relaxed: for display only.
        let state = self.slot().state.load(Relaxed);
        f.debug_struct("Sender").field("state", &state_name(state)).finish()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // ORDERING: Relaxed: for display only.
        let state = self.slot().state.load(Relaxed);
        f.debug_struct("Receiver").field("state", &state_name(state)).finish()
    }
}

/// The sender was dropped without sending (or the value was already taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Closed;

impl fmt::Display for Closed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the reply slot was closed without a value")
    }
}

impl std::error::Error for Closed {}

/// Why [`Receiver::try_recv`] returned no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryRecvError {
    /// Nothing sent yet; the sender is still there.
    Empty,
    /// The sender was dropped without sending, or the value was already taken.
    Closed,
}

/// Why [`Receiver::wait_deadline`] returned no value.
#[derive(Debug)]
pub enum WaitError<R> {
    /// The deadline passed first; here is the receiver back, still usable.
    Timeout(R),
    /// The sender was dropped without sending, or the value was already taken.
    Closed,
}
