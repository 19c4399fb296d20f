//! Fault injection: random faults at configured rates, and queued faults for the next requests.

use std::collections::VecDeque;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use crate::error::{Error, Result};

/// A fault the sandbox can inject into one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// A protocol-level error reply (OpenLM `Error`), HTTP 200.
    Error,
    /// HTTP 500 with an HTML body, as a crashed web server gives.
    Http500,
    /// HTTP 503, as an overloaded server or proxy gives.
    Http503,
    /// The connection is closed without any reply.
    Drop,
    /// The reply comes, but late (`slow_seconds`).
    Slow,
    /// The server does what was asked, then the connection is closed before the reply:
    /// the answer is lost though the change was made (only queued, with `fail_next`).
    DropAfter,
}

impl FaultKind {
    pub const ALL: [FaultKind; 6] = [
        FaultKind::Error,
        FaultKind::Http500,
        FaultKind::Http503,
        FaultKind::Drop,
        FaultKind::Slow,
        FaultKind::DropAfter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Error => "error",
            FaultKind::Http500 => "http500",
            FaultKind::Http503 => "http503",
            FaultKind::Drop => "drop",
            FaultKind::Slow => "slow",
            FaultKind::DropAfter => "drop_after",
        }
    }

    pub fn parse(name: &str) -> Result<FaultKind> {
        FaultKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| {
                Error::invalid(format!(
                    "unknown fault {name:?}; faults are error, http500, http503, drop, slow, drop_after"
                ))
            })
    }
}

/// Rates (0 to 1) of each fault, drawn independently for every request.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRates {
    pub error: f64,
    pub http500: f64,
    pub http503: f64,
    pub drop: f64,
    pub slow: f64,
    pub slow_delay: Duration,
}

impl Default for FaultRates {
    fn default() -> Self {
        FaultRates {
            error: 0.0,
            http500: 0.0,
            http503: 0.0,
            drop: 0.0,
            slow: 0.0,
            slow_delay: Duration::from_secs(2),
        }
    }
}

impl FaultRates {
    pub fn check(&self) -> Result<()> {
        let rates = [self.error, self.http500, self.http503, self.drop, self.slow];
        if rates.iter().any(|r| !(0.0..=1.0).contains(r)) {
            return Err(Error::invalid("fault rates must be between 0 and 1"));
        }
        if rates.iter().sum::<f64>() > 1.0 + 1e-9 {
            return Err(Error::invalid("fault rates must add up to at most 1"));
        }
        Ok(())
    }
}

/// A fault waiting for the next request that matches.
#[derive(Debug, Clone)]
struct Queued {
    kind: FaultKind,
    /// Only requests for this operation (case-insensitive); any when None.
    operation: Option<String>,
}

#[derive(Debug)]
pub struct Faults {
    rates: FaultRates,
    queued: VecDeque<Queued>,
    rng: SmallRng,
}

impl Faults {
    pub fn new(rates: FaultRates, seed: u64) -> Faults {
        Faults {
            rates,
            queued: VecDeque::new(),
            rng: SmallRng::seed_from_u64(seed ^ 0x5eed_fa17),
        }
    }

    pub fn rates(&self) -> &FaultRates {
        &self.rates
    }

    pub fn set_rates(&mut self, rates: FaultRates) -> Result<()> {
        rates.check()?;
        self.rates = rates;
        Ok(())
    }

    pub fn queue(&mut self, kind: FaultKind, count: usize, operation: Option<String>) {
        for _ in 0..count {
            self.queued.push_back(Queued {
                kind,
                operation: operation.clone(),
            });
        }
    }

    pub fn clear(&mut self) {
        self.queued.clear();
        self.rates = FaultRates {
            slow_delay: self.rates.slow_delay,
            ..FaultRates::default()
        };
    }

    /// The fault for a request to `operation`, if any.
    pub fn next(&mut self, operation: &str) -> Option<FaultKind> {
        let position = self.queued.iter().position(|q| {
            q.operation
                .as_deref()
                .is_none_or(|op| op.eq_ignore_ascii_case(operation))
        });
        if let Some(position) = position {
            return self.queued.remove(position).map(|q| q.kind);
        }
        let roll: f64 = self.rng.random();
        let r = &self.rates;
        let mut threshold = 0.0;
        for (kind, rate) in [
            (FaultKind::Error, r.error),
            (FaultKind::Http500, r.http500),
            (FaultKind::Http503, r.http503),
            (FaultKind::Drop, r.drop),
            (FaultKind::Slow, r.slow),
        ] {
            threshold += rate;
            if roll < threshold {
                return Some(kind);
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_faults_go_to_matching_requests_first() {
        let mut faults = Faults::new(FaultRates::default(), 1);
        faults.queue(FaultKind::Http503, 2, Some("CloseApplication".into()));
        assert_eq!(faults.next("GetActiveProducts"), None);
        assert_eq!(faults.next("closeapplication"), Some(FaultKind::Http503));
        assert_eq!(faults.next("CloseApplication"), Some(FaultKind::Http503));
        assert_eq!(faults.next("CloseApplication"), None);
    }

    #[test]
    fn rates_are_drawn_at_about_their_frequency() {
        let mut faults = Faults::new(
            FaultRates {
                drop: 0.25,
                ..FaultRates::default()
            },
            7,
        );
        let drops = (0..10_000)
            .filter(|_| faults.next("x") == Some(FaultKind::Drop))
            .count();
        assert!((2_200..2_800).contains(&drops), "{drops}");
    }

    #[test]
    fn bad_rates_are_refused() {
        assert!(FaultRates {
            error: 1.5,
            ..FaultRates::default()
        }
        .check()
        .is_err());
        assert!(FaultRates {
            error: 0.6,
            drop: 0.6,
            ..FaultRates::default()
        }
        .check()
        .is_err());
        assert!(FaultKind::parse("explode").is_err());
    }
}
