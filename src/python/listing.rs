//! Member listings read as their pages arrive: each reply is read without Python into its
//! members' texts and the fields the listing checks (`python/member.rs`), then each member
//! is wrapped (as `gislicense.User`) while other pages are still on their way; a member's
//! dict is made from its text when it is first used. Python's cycle collector is paused
//! until the last wrapper exists.
//!
//! A page is read after its request has let go of its place among the requests in flight,
//! on a thread of its own, so that the runtime thread goes on sending the next requests
//! meanwhile. Read inside the request's place, as it once was, each wave of requests waited
//! for the previous wave's pages to be read.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyList;
use serde_json::Value;
use tokio::sync::Semaphore;

use crate::error::{Error, Result};
use crate::http::{Effect, Response};
use crate::portal::client::{Portal, Root};
use crate::portal::envelope::{self, number};
use crate::portal::paging::{self, ItemKey, Listing};
use crate::portal::users::MemberSearch;
use crate::python::collector::CollectorPause;
use crate::python::exit;
use crate::python::json::KeyStrings;
use crate::python::member::{self, MemberPage};

/// Every member a search finds, each made by `wrap` from its `ListedMember`, in the
/// server's order.
pub async fn members(
    portal: &Portal,
    search: &MemberSearch,
    wrap: &Py<PyAny>,
) -> Result<Vec<Py<PyAny>>> {
    let _paused = CollectorPause::start();
    let wrap = Arc::new(Python::attach(|py| wrap.clone_ref(py)));
    let keys = Arc::new(KeyStrings::default());
    let listing = |search| PyListing {
        portal,
        search,
        wrap: wrap.clone(),
        keys: keys.clone(),
        requests: Semaphore::new(paging::PAGE_CONCURRENCY),
        reading: Arc::new(Semaphore::new(1)),
    };
    let items = paging::search(portal.url(), search, &listing).await?;
    let kept = search.kept(items, |item| item.role_id.as_deref());
    Ok(kept.into_iter().map(|item| item.object).collect())
}

/// Python objects that become a list when they reach Python.
pub struct PyObjects(pub Vec<Py<PyAny>>);

impl<'py> IntoPyObject<'py> for PyObjects {
    type Target = PyList;
    type Output = Bound<'py, PyList>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.0)
    }
}

/// A listed member: what tells it from the others (its user name), its role id when the
/// search keeps members by role (see `MemberSearch::only_role`), and its wrapper.
struct PyItem {
    key: Option<String>,
    role_id: Option<String>,
    object: Py<PyAny>,
}

#[derive(Default)]
struct PyPage {
    total: Option<Value>,
    next_start: Option<Value>,
    items: Vec<PyItem>,
}

struct PyListing<'a> {
    portal: &'a Portal,
    search: MemberSearch,
    wrap: Arc<Py<PyAny>>,
    /// The field names of the members' dicts, made once for the whole listing.
    keys: Arc<KeyStrings>,
    /// Requests in flight: as many as any listing has.
    requests: Semaphore,
    /// Pages being read: one at a time, in the order they came.
    reading: Arc<Semaphore>,
}

impl Listing for PyListing<'_> {
    type Page = PyPage;
    type Item = PyItem;

    async fn page(&self, start: usize) -> Result<PyPage> {
        let fields = paging::page_fields(&self.search.params, start);
        let request = self.requests.acquire().await;
        // A reply that cannot be an error envelope (no "error" or "status" in it) is taken
        // as bytes, to be read once the request's place is free; any other is judged and
        // read here, by the envelope check, as every portal reply is.
        let read = |response: &Response| match maybe_marked(response) {
            false => Ok(Reply::Bytes(response.clone())),
            true => self.read(response).map(Reply::Page),
        };
        let reply = self
            .portal
            .call_reading(Root::Sharing, self.search.path, &fields, Effect::Read, read)
            .await?;
        drop(request);
        match reply {
            Reply::Page(page) => Ok(page),
            Reply::Bytes(response) => self.read_apart(response).await,
        }
    }

    fn pages_at_once(&self) -> usize {
        // Room for a wave of pages waiting to be read while the next wave is sent.
        2 * paging::PAGE_CONCURRENCY
    }

    fn total(&self, page: &PyPage) -> Option<i64> {
        number(page.total.as_ref())
    }

    fn next_start(&self, page: &PyPage) -> Option<i64> {
        number(page.next_start.as_ref())
    }

    fn take(&self, page: &mut PyPage) -> Vec<PyItem> {
        std::mem::take(&mut page.items)
    }

    fn item_key(&self) -> ItemKey {
        ItemKey::MEMBERS
    }

    fn key<'i>(&self, item: &'i PyItem) -> Option<&'i str> {
        item.key.as_deref()
    }

    fn path(&self) -> &str {
        self.search.path
    }
}

/// A reply as `PyListing::page` receives it.
enum Reply {
    Page(PyPage),
    Bytes(Response),
}

/// Whether a successful reply may carry an error envelope's marks: the words `"error"` or
/// `"status"` anywhere in it (a member's text may hold them too; such a page is only read
/// sooner). An unsuccessful reply is always judged at once.
fn maybe_marked(response: &Response) -> bool {
    let body = &response.body[..];
    // One pass over the quotes: what follows each is compared, not the whole page twice.
    let marked = body.iter().enumerate().any(|(at, &b)| {
        b == b'"' && {
            let after = &body[at + 1..];
            after.starts_with(b"error\"") || after.starts_with(b"status\"")
        }
    });
    !response.is_success() || marked
}

impl PyListing<'_> {
    /// A reply's members, wrapped, or the error it stands for.
    fn read(&self, response: &Response) -> Result<PyPage> {
        read_reply(
            response,
            &self.wrap,
            &self.keys,
            self.search.list_key,
            self.search.only_role.is_some(),
        )
    }

    /// A reply taken as bytes, read on a blocking thread, after the pages that came before it.
    async fn read_apart(&self, response: Response) -> Result<PyPage> {
        let url = response.url.clone();
        let reading = self.reading.clone().acquire_owned().await;
        let (wrap, keys, list_key) = (self.wrap.clone(), self.keys.clone(), self.search.list_key);
        let role_ids = self.search.only_role.is_some();
        let read = tokio::task::spawn_blocking(move || {
            let _reading = reading;
            read_reply(&response, &wrap, &keys, list_key, role_ids)
        });
        read.await.unwrap_or_else(|err| {
            Err(Error::Transport {
                url,
                cause: format!("reading the page stopped: {err}"),
            })
        })
    }
}

/// A reply's members, each wrapped, or the error it stands for: the page is read without
/// Python, then attached only to wrap its members.
fn read_reply(
    response: &Response,
    wrap: &Py<PyAny>,
    keys: &Arc<KeyStrings>,
    list_key: &str,
    role_ids: bool,
) -> Result<PyPage> {
    let page = envelope::check_read(response, |_| {
        let page = member::read_page(&response.body, list_key, role_ids)?;
        (!page.marked).then_some(page)
    })?;
    let MemberPage {
        total,
        next_start,
        members,
        marked: _,
    } = page;
    let Some(_inside) = exit::enter() else {
        return Err(Error::Transport {
            url: response.url.clone(),
            cause: "the listing stopped: Python is exiting".into(),
        });
    };
    let items = Python::attach(|py| {
        let wrap = wrap.bind(py);
        members
            .into_iter()
            .map(|mut member| {
                let (key, role_id) = (member.key.take(), member.role_id.take());
                let object = wrap.call1((member.into_py(py, keys)?,))?.unbind();
                Ok(PyItem {
                    key,
                    role_id,
                    object,
                })
            })
            .collect::<PyResult<Vec<_>>>()
    })
    .map_err(|err| response.unreadable(format!("a member could not be made: {err}")))?;
    Ok(PyPage {
        total,
        next_start,
        items,
    })
}
