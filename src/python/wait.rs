//! Running core futures from Python: sync calls wait with the GIL released (and stay
//! interruptible with Ctrl-C); async calls return an awaitable.

use std::future::Future;
use std::time::Duration;

use pyo3::prelude::*;

use crate::error::Error;
use crate::python::errors::{internal, to_pyerr};
use crate::runtime::runtime;

/// How often a waiting sync call looks for Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(100);

/// Run a future to completion on the shared runtime, without holding the GIL.
pub fn wait<F, T>(py: Python<'_>, future: F) -> PyResult<T>
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
                if let Err(interrupt) = py.check_signals() {
                    task.abort();
                    return Err(interrupt);
                }
            }
        }
    }
}

/// An awaitable for the running asyncio loop.
pub fn awaitable<'py, F, T>(py: Python<'py>, future: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = Result<T, Error>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    pyo3_async_runtimes::tokio::future_into_py(py, async move { future.await.map_err(to_pyerr) })
}
