//! Python's cycle collector and the records the core makes by the thousand: a pause while
//! they are made (taken by listings, readers and, through `collector_paused`, by Python
//! code making reports), and records that hold no Python object left out of its watch.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

use pyo3::prelude::*;

use crate::python::exit;

/// Python's cycle collector, paused while many objects are made: 10,000 members are some
/// 40,000 containers that cannot form cycles, and every 700 new ones would start a
/// collection over them (100,000 OpenLM sessions started 143). Pauses nest (listings of
/// several portals at once, a report made meanwhile): the collector comes back when the
/// last ends, if it was on when the first began.
pub(crate) struct CollectorPause {
    counted: bool,
}

/// Listings under way, and whether the collector was on before the first. Changed only by
/// a thread attached to Python; atomics rather than a lock, as `gc` calls may let go of the
/// GIL, and a lock held across that could deadlock.
static PAUSES: AtomicUsize = AtomicUsize::new(0);
static WAS_ON: AtomicBool = AtomicBool::new(false);

impl CollectorPause {
    pub(crate) fn start() -> CollectorPause {
        let Some(_inside) = exit::enter() else {
            return CollectorPause { counted: false };
        };
        Python::attach(|py| {
            if PAUSES.fetch_add(1, Ordering::SeqCst) == 0 {
                let was_on = collector(py, "isenabled") && collector(py, "disable");
                WAS_ON.store(was_on, Ordering::SeqCst);
            }
        });
        CollectorPause { counted: true }
    }
}

impl Drop for CollectorPause {
    fn drop(&mut self) {
        if !self.counted {
            return;
        }
        // Once Python is exiting, the collector's state no longer matters.
        let Some(_inside) = exit::enter() else {
            return;
        };
        Python::attach(|py| {
            if PAUSES.fetch_sub(1, Ordering::SeqCst) == 1 && WAS_ON.swap(false, Ordering::SeqCst) {
                collector(py, "enable");
            }
        });
    }
}

/// A record left out of the cycle collector's watch, for records that hold no Python
/// object but strings: they can be in no cycle, and the collector would only visit them,
/// over and over (100,000 records read are 100,000 objects visited by each collection of
/// the young generation after the pause ends; PyO3's classes are all collectable).
pub(crate) fn untracked<T>(record: Bound<'_, T>) -> Bound<'_, T> {
    // SAFETY: a live object, the GIL held; only a tracked object is untracked, as CPython
    // itself untracks tuples and dicts of plain values.
    unsafe {
        if pyo3::ffi::PyObject_GC_IsTracked(record.as_ptr()) == 1 {
            pyo3::ffi::PyObject_GC_UnTrack(record.as_ptr().cast());
        }
    }
    record
}

/// Call `gc.<method>()`: whether it went through and answered true (or None).
fn collector(py: Python<'_>, method: &str) -> bool {
    py.import("gc")
        .and_then(|gc| gc.call_method0(method))
        .map(|answer| answer.is_none() || answer.is_truthy().unwrap_or(false))
        .unwrap_or(false)
}

/// ``with _core.collector_paused():``: the same pause, for Python code that makes many
/// objects holding no cycles (a report of thousands of outcomes), so that its pauses and
/// the core's nest instead of one turning the collector back on under the other.
#[pyclass(frozen, module = "gislicense._core")]
pub struct CollectorPaused(Mutex<Option<CollectorPause>>);

#[pyfunction]
pub fn collector_paused() -> CollectorPaused {
    CollectorPaused(Mutex::new(None))
}

#[pymethods]
impl CollectorPaused {
    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        let pause = CollectorPause::start();
        *slf.get().0.lock().unwrap_or_else(|e| e.into_inner()) = Some(pause);
        slf
    }

    fn __exit__(
        &self,
        _kind: &Bound<'_, PyAny>,
        _error: &Bound<'_, PyAny>,
        _trace: &Bound<'_, PyAny>,
    ) -> bool {
        let pause = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        drop(pause);
        false
    }
}
