//! Running core futures from Python. Every binding returns a [`Call`]: a pending call that
//! the facade either waits for (sync: GIL released, interruptible with Ctrl-C) or awaits
//! (asyncio). So each operation is bound once, and its sync and async forms cannot drift.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyCFunction;
use pyo3::IntoPyObjectExt;

use crate::error::Error;
use crate::python::errors::{internal, to_pyerr};
use crate::python::exit;
use crate::runtime::runtime;

/// How often a waiting sync call looks for Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Makes the Python value of a finished call; runs with the GIL held.
type Convert = Box<dyn for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, PyAny>> + Send>;

type Pending = Pin<Box<dyn Future<Output = Result<Ready, Error>> + Send>>;

/// A finished call's result, made into a Python value only once the GIL is held.
struct Ready(Convert);

impl<'py> IntoPyObject<'py> for Ready {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        (self.0)(py)
    }
}

/// A call to the core, not yet started: ``call.wait()`` runs it and blocks, ``await call``
/// runs it on the asyncio loop. Either may be done once.
#[pyclass(frozen, module = "gislicense._core")]
pub struct Call {
    pending: Mutex<Option<Pending>>,
}

impl Call {
    /// A call whose result becomes a Python value through `IntoPyObject`.
    pub fn new<F, T>(future: F) -> Call
    where
        F: Future<Output = Result<T, Error>> + Send + 'static,
        T: for<'py> IntoPyObject<'py> + Send + 'static,
    {
        let pending: Pending = Box::pin(async move {
            let value = future.await?;
            let convert: Convert = Box::new(move |py| value.into_bound_py_any(py));
            Ok(Ready(convert))
        });
        Call {
            pending: Mutex::new(Some(pending)),
        }
    }

    /// A call that fails at once, for input refused before anything is sent.
    pub fn failed(error: Error) -> Call {
        Call::new(async move { Err::<(), Error>(error) })
    }

    fn take(&self) -> PyResult<Pending> {
        let mut slot = self.pending.lock().unwrap_or_else(|e| e.into_inner());
        slot.take()
            .ok_or_else(|| PyRuntimeError::new_err("this call was already run; make it again"))
    }
}

#[pymethods]
impl Call {
    /// Run the call and wait for its result; `tick`, when given, is called (in this
    /// thread) every tenth of a second meanwhile, and once more at the end: a progress
    /// display. An exception it raises stops the call, as Ctrl-C does.
    #[pyo3(signature = (tick=None))]
    pub fn wait<'py>(
        &self,
        py: Python<'py>,
        tick: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let ready = wait(py, self.take()?, tick.as_ref())?;
        if let Some(tick) = &tick {
            tick.call0()?;
        }
        ready.into_pyobject(py)
    }

    /// Run the call on the runtime; an asyncio future of the running loop gets its result.
    /// Cancelling that future (a cancelled task) aborts the call.
    fn __await__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let pending = self.take()?;
        let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
        let future = event_loop.call_method0("create_future")?;
        let (loop_ref, future_ref) = (event_loop.unbind(), future.clone().unbind());
        let task = runtime().spawn(async move {
            let result = pending.await;
            settle_later(loop_ref, future_ref, result);
        });
        let abort = task.abort_handle();
        let on_done = PyCFunction::new_closure(py, None, None, move |args, _| {
            if args.get_item(0)?.call_method0("cancelled")?.is_truthy()? {
                abort.abort();
            }
            PyResult::Ok(())
        })?;
        future.call_method1("add_done_callback", (on_done,))?;
        future.call_method0("__await__")
    }
}

/// From a runtime thread: hand the result to the event loop, which sets it on the future
/// unless the future is done (cancelled) already. Nothing is done once Python is exiting.
fn settle_later(event_loop: Py<PyAny>, future: Py<PyAny>, result: Result<Ready, Error>) {
    let Some(_inside) = exit::enter() else {
        // Python objects may not be released without the interpreter: leave them be.
        std::mem::forget((event_loop, future));
        return;
    };
    Python::attach(|py| {
        let (ok, value) = match result.map_err(to_pyerr) {
            Ok(ready) => match ready.into_pyobject(py) {
                Ok(value) => (true, value.unbind()),
                Err(err) => (false, err.into_value(py).into_any()),
            },
            Err(err) => (false, err.into_value(py).into_any()),
        };
        let settle = wrap_pyfunction!(settle, py);
        let sent = settle.and_then(|settle| {
            event_loop.call_method1(py, "call_soon_threadsafe", (settle, future, ok, value))
        });
        // A loop closed in the meantime has no one waiting for the result.
        drop(sent);
    });
}

/// On the event loop: the call's result or exception onto its future, unless cancelled.
#[pyfunction]
fn settle(future: &Bound<'_, PyAny>, ok: bool, value: &Bound<'_, PyAny>) -> PyResult<()> {
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    let method = if ok { "set_result" } else { "set_exception" };
    future.call_method1(method, (value,))?;
    Ok(())
}

/// Run a future to completion on the shared runtime, without holding the GIL, calling
/// `tick` between looks for Ctrl-C.
fn wait<F, T>(py: Python<'_>, future: F, tick: Option<&Bound<'_, PyAny>>) -> PyResult<T>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: Send + 'static,
{
    let mut task = runtime().spawn(future);
    loop {
        let finished = py.detach(|| {
            runtime().block_on(async { tokio::time::timeout(SIGNAL_CHECK, &mut task).await })
        });
        match finished {
            Ok(Ok(result)) => return result.map_err(to_pyerr),
            Ok(Err(join_error)) => return Err(internal(join_error)),
            Err(_still_running) => {
                let stop = py
                    .check_signals()
                    .and_then(|()| tick.map_or(Ok(()), |t| t.call0().map(drop)));
                if let Err(stopped) = stop {
                    task.abort();
                    return Err(stopped);
                }
            }
        }
    }
}
