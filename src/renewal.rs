//! Renewing a credential, one way for every client (as httpx's `Auth.auth_flow` does it): a
//! Portal token and an OpenLM session are each held in a [`Renewable`], renewed one renewal at
//! a time, and a request whose credential the server rejects is sent once more with a new one.
//! Credentials the server refuses are not offered again: each refusal of a password counts
//! toward locking its account.

use std::future::Future;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::http::Response;

/// How a client makes its credential, and what it says when the server rejects one.
pub(crate) trait Renew {
    /// A token, a session id.
    type Credential: ?Sized;
    /// What the credential is called in log lines: "token", "session".
    const NAME: &'static str;
    /// What renewing it is called in log lines: "signing in again".
    const RENEWING: &'static str;

    /// Whether a credential in hand is renewed before it is used (a token near its expiry).
    /// By default a credential serves until the server rejects it.
    fn is_due(&self, _credential: &Self::Credential) -> bool {
        false
    }

    /// Whether a new credential can be made here; a token given by the caller cannot.
    fn can_renew(&self) -> bool {
        true
    }

    /// A new credential: sign in, log in.
    async fn renew(&self) -> Result<Arc<Self::Credential>>;

    /// Whether the server's refusal of the credentials (an authentication error from
    /// `renew`: a wrong password, a revoked refresh token, a refused client secret) stands
    /// for the client's life. By default it does: asked again, the server would refuse again.
    fn refusal_is_final(&self) -> bool {
        true
    }

    /// The error for a rejection that renewing does not answer: the credential cannot be
    /// renewed, or the server rejected a new one too. `url` and `message` are the server's.
    fn rejected(&self, url: String, message: String) -> Error;
}

/// A client's credential. One renewal at a time: requests that find it stale wait for that
/// renewal and use what it made, or get the refusal it met.
pub(crate) struct Renewable<C: ?Sized> {
    held: Mutex<Option<Arc<C>>>,
    /// The server's refusal of the credentials, once it refused them: every later renewal
    /// gets it without asking again (a scheduled job with a stale password would otherwise
    /// lock its account).
    refused: Mutex<Option<Error>>,
    renewing: tokio::sync::Mutex<()>,
}

impl<C: ?Sized> Renewable<C> {
    pub(crate) fn new(held: Option<Arc<C>>) -> Self {
        Renewable {
            held: Mutex::new(held),
            refused: Mutex::new(None),
            renewing: tokio::sync::Mutex::new(()),
        }
    }

    pub(crate) fn current(&self) -> Option<Arc<C>> {
        self.held.lock().ok().and_then(|held| held.clone())
    }

    /// The credential to use now: the one held, or a new one when none is held or it is due.
    pub(crate) async fn get<S>(&self, source: &S) -> Result<Arc<C>>
    where
        S: Renew<Credential = C>,
    {
        match self.current() {
            Some(held) if !source.is_due(&held) => Ok(held),
            stale => self.renew(source, stale.as_ref()).await,
        }
    }

    /// A new credential in place of `stale`, the one the caller saw (None: whatever is held).
    /// When another request replaced it meanwhile, the replacement serves: requests that saw
    /// the same stale credential renew it once. Once the server has refused the credentials,
    /// that refusal is the answer, and nothing is sent.
    pub(crate) async fn renew<S>(&self, source: &S, stale: Option<&Arc<C>>) -> Result<Arc<C>>
    where
        S: Renew<Credential = C>,
    {
        let _one_at_a_time = self.renewing.lock().await;
        if let Some(refusal) = self.refusal() {
            return Err(refusal);
        }
        if let Some(held) = self.current() {
            let replaced = stale.is_none_or(|stale| !Arc::ptr_eq(stale, &held));
            if replaced && !source.is_due(&held) {
                return Ok(held);
            }
        }
        let renewed = match source.renew().await {
            Ok(renewed) => renewed,
            Err(err) => {
                // A network failure may pass, and is tried again by the next request.
                if matches!(err, Error::Authentication { .. }) && source.refusal_is_final() {
                    self.remember_refusal(&err, S::NAME);
                }
                return Err(err);
            }
        };
        if let Ok(mut held) = self.held.lock() {
            *held = Some(renewed.clone());
        }
        Ok(renewed)
    }

    fn refusal(&self) -> Option<Error> {
        self.refused.lock().ok().and_then(|refused| refused.clone())
    }

    /// Keep the refusal for every later request, and drop the credential it was to replace:
    /// requests sent with that one would only be rejected.
    fn remember_refusal(&self, refusal: &Error, name: &str) {
        log::info!("{refusal}; these credentials are not offered again for a new {name}");
        if let Ok(mut refused) = self.refused.lock() {
            *refused = Some(refusal.clone());
        }
        if let Ok(mut held) = self.held.lock() {
            *held = None;
        }
    }

    /// Send a request with the credential and read the reply. When `read` says the server
    /// rejected the credential (an `Error::TokenExpired`), it is renewed and the request sent
    /// once more; a rejection that renewing does not answer is `source.rejected`.
    pub(crate) async fn with_renewal<S, T, Fut>(
        &self,
        source: &S,
        send: impl Fn(Arc<C>) -> Fut,
        read: impl Fn(&Response) -> Result<T>,
    ) -> Result<T>
    where
        S: Renew<Credential = C>,
        Fut: Future<Output = Result<Response>>,
    {
        let credential = self.get(source).await?;
        let first = send(credential.clone()).await?;
        let (url, message) = match read(&first) {
            Err(Error::TokenExpired { url, message }) => (url, message),
            answered => return answered,
        };
        if !source.can_renew() {
            return Err(source.rejected(url, message));
        }
        log::info!(
            "{url} rejected the {} ({message}); {}",
            S::NAME,
            S::RENEWING
        );
        let renewed = self.renew(source, Some(&credential)).await?;
        let mut again = send(renewed).await?;
        // The rejected attempt may have been a retry after an answer was lost: the lost one
        // may have done it, so a refusal of the repeat proves nothing either.
        again.after_lost_answer |= first.after_lost_answer;
        match read(&again) {
            Err(Error::TokenExpired { url, message }) => Err(source.rejected(url, message)),
            answered => answered,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    /// Makes the credentials "1", "2"..., in turn; or, while `failing` holds an error,
    /// counts the attempt and fails with it.
    struct Source {
        made: AtomicUsize,
        renewable: bool,
        failing: Mutex<Option<Error>>,
    }

    impl Source {
        fn new(renewable: bool) -> Source {
            Source {
                made: AtomicUsize::new(0),
                renewable,
                failing: Mutex::new(None),
            }
        }

        fn failing(err: Error) -> Source {
            let source = Source::new(true);
            *source.failing.lock().unwrap() = Some(err);
            source
        }
    }

    impl Renew for Source {
        type Credential = str;
        const NAME: &'static str = "token";
        const RENEWING: &'static str = "signing in again";

        fn can_renew(&self) -> bool {
            self.renewable
        }

        async fn renew(&self) -> Result<Arc<str>> {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let n = self.made.fetch_add(1, Ordering::SeqCst) + 1;
            match self.failing.lock().unwrap().clone() {
                Some(err) => Err(err),
                None => Ok(Arc::from(n.to_string())),
            }
        }

        fn rejected(&self, url: String, message: String) -> Error {
            Error::Authentication { url, message }
        }
    }

    fn response(after_lost_answer: bool) -> Response {
        Response {
            url: "https://example.com/x".into(),
            status: 200,
            content_type: String::new(),
            location: None,
            retry_after: None,
            body: Default::default(),
            after_lost_answer,
        }
    }

    /// A reply read as the server accepting only `accepted`: the body is the credential sent.
    fn read_accepting(accepted: &str) -> impl Fn(&Response) -> Result<bool> + '_ {
        move |response| {
            if response.body == accepted.as_bytes() {
                Ok(response.after_lost_answer)
            } else {
                Err(Error::TokenExpired {
                    url: response.url.clone(),
                    message: "Invalid token.".into(),
                })
            }
        }
    }

    fn send_echo(lost: bool) -> impl Fn(Arc<str>) -> std::future::Ready<Result<Response>> {
        move |credential| {
            let mut reply = response(lost);
            reply.body = credential.as_bytes().to_vec().into();
            std::future::ready(Ok(reply))
        }
    }

    #[tokio::test]
    async fn requests_that_saw_the_same_stale_credential_renew_it_once() {
        let source = Source::new(true);
        let held = Renewable::new(Some(Arc::from("0")));
        let stale = held.current().unwrap();
        let renewals: Vec<_> = (0..10).map(|_| held.renew(&source, Some(&stale))).collect();
        for renewed in futures::future::join_all(renewals).await {
            assert_eq!(&*renewed.unwrap(), "1");
        }
        assert_eq!(source.made.load(Ordering::SeqCst), 1);
    }

    fn wrong_password() -> Error {
        Error::Authentication {
            url: "https://example.com/generateToken".into(),
            message: "Invalid username or password.".into(),
        }
    }

    #[tokio::test]
    async fn a_refused_sign_in_is_sent_once_for_every_waiting_request_and_every_later_one() {
        let source = Source::failing(wrong_password());
        let held = Renewable::new(None);
        let waiting: Vec<_> = (0..20).map(|_| held.get(&source)).collect();
        for refused in futures::future::join_all(waiting).await {
            assert_eq!(refused.unwrap_err().kind(), "authentication");
        }
        // Later requests, and a sign-in asked for outright, get the same refusal unsent.
        let later = held
            .with_renewal(&source, send_echo(false), read_accepting("1"))
            .await
            .unwrap_err();
        assert!(later.to_string().contains("Invalid username or password."));
        assert!(held.renew(&source, None).await.is_err());
        assert_eq!(source.made.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_refusal_to_renew_a_rejected_credential_is_met_once() {
        let source = Source::failing(wrong_password());
        let held = Renewable::new(Some(Arc::from("0")));
        let requests: Vec<_> = (0..20)
            .map(|_| held.with_renewal(&source, send_echo(false), read_accepting("1")))
            .collect();
        for refused in futures::future::join_all(requests).await {
            assert_eq!(refused.unwrap_err().kind(), "authentication");
        }
        assert_eq!(source.made.load(Ordering::SeqCst), 1);
        assert!(
            held.current().is_none(),
            "the rejected credential is not sent again"
        );
    }

    #[tokio::test]
    async fn a_network_failure_is_tried_again_by_the_next_request() {
        let unreachable = Error::Transport {
            url: "https://example.com/generateToken".into(),
            cause: "connection refused".into(),
        };
        let source = Source::failing(unreachable);
        let held = Renewable::new(None);
        assert_eq!(held.get(&source).await.unwrap_err().kind(), "transport");
        assert_eq!(held.get(&source).await.unwrap_err().kind(), "transport");
        assert_eq!(source.made.load(Ordering::SeqCst), 2);
        *source.failing.lock().unwrap() = None;
        assert_eq!(&*held.get(&source).await.unwrap(), "3");
    }

    #[tokio::test]
    async fn a_rejected_request_is_repeated_once_with_a_new_credential() {
        let source = Source::new(true);
        let held = Renewable::new(Some(Arc::from("0")));
        let accepted = held
            .with_renewal(&source, send_echo(false), read_accepting("1"))
            .await;
        assert!(accepted.is_ok());
        // Rejected again after the renewal: the source says why, with no third attempt.
        let err = held
            .with_renewal(&source, send_echo(false), read_accepting("never"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "authentication");
        assert_eq!(source.made.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_credential_that_cannot_be_renewed_is_rejected_as_it_is() {
        let source = Source::new(false);
        let held = Renewable::new(Some(Arc::from("0")));
        let err = held
            .with_renewal(&source, send_echo(false), read_accepting("1"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "authentication");
        assert_eq!(source.made.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_lost_answer_before_the_rejection_carries_to_the_repeat() {
        let source = Source::new(true);
        let held = Renewable::new(Some(Arc::from("0")));
        let sends = AtomicUsize::new(0);
        // The first exchange lost an answer before it was rejected; the repeat did not.
        let send = |credential: Arc<str>| {
            let lost = sends.fetch_add(1, Ordering::SeqCst) == 0;
            send_echo(lost)(credential)
        };
        let after_lost_answer = held
            .with_renewal(&source, send, read_accepting("1"))
            .await
            .unwrap();
        assert!(after_lost_answer);
    }
}
