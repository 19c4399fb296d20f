//! Python's exit, made safe for the runtime's threads. A thread of ours that takes the GIL
//! while the interpreter finalizes is ended by CPython with `pthread_exit`, which unwinds
//! through Rust frames and aborts the process: a script whose last `await` finished a
//! moment before the thread that woke its event loop let go of the GIL would die with
//! SIGABRT on exit. So every way a runtime thread calls into Python (waking an event loop,
//! logging) goes through [`enter`], and an `atexit` hook ([`before_exit`]) closes that door
//! and waits for the threads already inside.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pyo3::prelude::*;

static CLOSING: AtomicBool = AtomicBool::new(false);
static INSIDE: AtomicUsize = AtomicUsize::new(0);

/// The longest the exit waits for threads inside Python (one event-loop wake-up or log line).
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// Leave to call into Python from a runtime thread; None once Python is exiting.
pub struct Inside(());

impl Drop for Inside {
    fn drop(&mut self) {
        INSIDE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Counted in before looking at the door: either the exit hook sees this thread inside and
/// waits for it, or this thread sees the door closed and stays out.
pub fn enter() -> Option<Inside> {
    INSIDE.fetch_add(1, Ordering::SeqCst);
    let inside = Inside(());
    if CLOSING.load(Ordering::SeqCst) {
        return None;
    }
    Some(inside)
}

/// Registered with `atexit`: no runtime thread calls into Python from now on; those inside
/// are waited for, with the GIL released so that they can finish.
#[pyfunction]
pub fn before_exit(py: Python<'_>) {
    CLOSING.store(true, Ordering::SeqCst);
    py.detach(|| {
        let until = Instant::now() + EXIT_WAIT;
        while INSIDE.load(Ordering::SeqCst) > 0 && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}
