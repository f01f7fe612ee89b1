//! The device-authorization polling loop (IDENTITY-CENTER.md §1.5) as an
//! explicit state machine with an injected clock, so each server answer is
//! tested on its own and no test waits in real time.
//!
//! One `CreateToken` attempt is made at once (the client may already be
//! authorised); then the loop polls every `interval` seconds (5 when the
//! server sends none). `slow_down` adds 5 seconds for the rest of the flow.
//! The server's `expiresIn` is also a deadline on our side, so the loop
//! ends even if the server never says the code expired.

use std::future::Future;
use std::time::Duration;

use super::{ApiError, ApiErrorKind};

pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(5);
pub const SLOW_DOWN_STEP: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DeviceFlowError {
    #[error("the sign-in request was denied in the browser")]
    Denied,
    #[error("the sign-in request expired after {secs} seconds without being approved")]
    Expired { secs: u64 },
    #[error(transparent)]
    Api(#[from] ApiError),
}

impl DeviceFlowError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            DeviceFlowError::Denied => Some(
                "run the login again, check that the code shown matches the one in the browser, \
                 and approve it"
                    .into(),
            ),
            DeviceFlowError::Expired { .. } => {
                Some("run the login again, and approve it in the browser in time".into())
            }
            DeviceFlowError::Api(e) => e.hint(),
        }
    }
}

/// Time as the loop sees it.
pub trait Clock {
    /// Time since the device authorization started.
    fn elapsed(&self) -> Duration;
    fn sleep(&mut self, duration: Duration) -> impl Future<Output = ()>;
}

#[derive(Debug, Clone)]
pub struct Poller {
    interval: Duration,
    deadline: Duration,
}

impl Poller {
    pub fn new(interval: Option<u64>, expires_in: u64) -> Poller {
        Poller {
            interval: interval
                .map(Duration::from_secs)
                .unwrap_or(DEFAULT_INTERVAL),
            deadline: Duration::from_secs(expires_in),
        }
    }

    /// How long to wait before the next poll, after a non-token answer at
    /// `elapsed`; or why the flow ends.
    pub fn after(
        &mut self,
        answer: &ApiError,
        elapsed: Duration,
    ) -> Result<Duration, DeviceFlowError> {
        match answer.kind {
            ApiErrorKind::AuthorizationPending => {}
            ApiErrorKind::SlowDown => self.interval += SLOW_DOWN_STEP,
            ApiErrorKind::ExpiredToken => return Err(self.expired()),
            ApiErrorKind::AccessDenied => return Err(DeviceFlowError::Denied),
            _ => return Err(DeviceFlowError::Api(answer.clone())),
        }
        if elapsed >= self.deadline {
            return Err(self.expired());
        }
        // Never sleep past the deadline: one last poll lands on it.
        Ok(self.interval.min(self.deadline - elapsed))
    }

    fn expired(&self) -> DeviceFlowError {
        DeviceFlowError::Expired {
            secs: self.deadline.as_secs(),
        }
    }
}

/// Polls with `attempt` until it yields a token, the user denies, or the
/// authorization expires. `attempt` is called once immediately.
pub async fn poll<T, F, Fut, C>(
    mut poller: Poller,
    clock: &mut C,
    mut attempt: F,
) -> Result<T, DeviceFlowError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
    C: Clock,
{
    loop {
        match attempt().await {
            Ok(token) => return Ok(token),
            Err(answer) => {
                let wait = poller.after(&answer, clock.elapsed())?;
                clock.sleep(wait).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    struct FakeClock {
        now: Duration,
        sleeps: Vec<u64>,
    }

    impl Clock for FakeClock {
        fn elapsed(&self) -> Duration {
            self.now
        }
        async fn sleep(&mut self, duration: Duration) {
            self.sleeps.push(duration.as_secs());
            self.now += duration;
        }
    }

    fn err(kind: ApiErrorKind) -> ApiError {
        ApiError {
            operation: "CreateToken",
            kind,
            message: None,
        }
    }

    /// Runs the loop against scripted answers; returns the outcome, the
    /// sleeps between polls and the number of polls.
    fn run(
        interval: Option<u64>,
        expires_in: u64,
        answers: Vec<Result<&'static str, ApiErrorKind>>,
        pending_forever: bool,
    ) -> (Result<&'static str, DeviceFlowError>, Vec<u64>, usize) {
        let mut clock = FakeClock {
            now: Duration::ZERO,
            sleeps: vec![],
        };
        let mut answers: VecDeque<_> = answers.into();
        let mut polls = 0;
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let result = rt.block_on(poll(Poller::new(interval, expires_in), &mut clock, || {
            polls += 1;
            let next = answers.pop_front().unwrap_or(if pending_forever {
                Err(ApiErrorKind::AuthorizationPending)
            } else {
                Ok("never")
            });
            async move { next.map_err(err) }
        }));
        (result, clock.sleeps, polls)
    }

    use ApiErrorKind::*;

    #[test]
    fn immediate_approval_polls_once() {
        let (r, sleeps, polls) = run(Some(1), 600, vec![Ok("tok")], false);
        assert_eq!(r.unwrap(), "tok");
        assert!(sleeps.is_empty());
        assert_eq!(polls, 1);
    }

    #[test]
    fn slow_down_adds_five_seconds_for_the_rest_of_the_flow() {
        let answers = vec![
            Err(AuthorizationPending),
            Err(SlowDown),
            Err(AuthorizationPending),
            Ok("tok"),
        ];
        let (r, sleeps, polls) = run(Some(1), 600, answers, false);
        assert_eq!(r.unwrap(), "tok");
        assert_eq!(sleeps, vec![1, 6, 6]);
        assert_eq!(polls, 4);
    }

    #[test]
    fn missing_interval_defaults_to_five_seconds() {
        let (r, sleeps, _) = run(None, 600, vec![Err(AuthorizationPending), Ok("tok")], false);
        assert_eq!(r.unwrap(), "tok");
        assert_eq!(sleeps, vec![5]);
    }

    #[test]
    fn denial_is_fatal() {
        let (r, _, polls) = run(
            Some(1),
            600,
            vec![Err(AuthorizationPending), Err(AccessDenied)],
            false,
        );
        assert!(matches!(r, Err(DeviceFlowError::Denied)));
        assert_eq!(polls, 2);
    }

    #[test]
    fn server_expiry_is_fatal() {
        let (r, _, _) = run(Some(1), 600, vec![Err(ExpiredToken)], false);
        let msg = r.unwrap_err().to_string();
        assert!(msg.contains("expired after 600 seconds"), "{msg}");
    }

    #[test]
    fn client_side_deadline_ends_a_server_that_never_expires() {
        let (r, sleeps, polls) = run(Some(2), 9, vec![], true);
        assert!(matches!(r, Err(DeviceFlowError::Expired { secs: 9 })));
        // polls at 0, 2, 4, 6, 8, then a last one exactly at the deadline
        assert_eq!(sleeps, vec![2, 2, 2, 2, 1]);
        assert_eq!(polls, 6);
    }

    #[test]
    fn other_errors_stop_the_loop() {
        let (r, _, _) = run(Some(1), 600, vec![Err(Server { status: 500 })], false);
        assert!(matches!(r, Err(DeviceFlowError::Api(_))));
    }
}
