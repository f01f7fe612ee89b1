//! The user's next step, kept apart from the error it belongs to.
//!
//! Every error is printed as `keyless: <what failed>: <why>` and, when
//! there is a next step, a second line `hint: <what to do>`. Errors made in
//! place carry their hint with [`hinted`] or [`HintExt`]; parsers of option
//! and setting values return a [`Problem`]; the typed errors of the modules
//! below answer [`hint_of`] themselves.

use std::error::Error;
use std::fmt;

/// An error with the next step for the user. It displays as the error it
/// wraps, and its sources are that error's, so the error chain reads as
/// if it were not there.
pub(crate) struct Hinted {
    error: anyhow::Error,
    hint: String,
}

impl fmt::Display for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.error, f)
    }
}

impl fmt::Debug for Hinted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}\nhint: {}", self.error, self.hint)
    }
}

impl Error for Hinted {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        self.error.source()
    }
}

/// `error`, with `hint` as the next step.
pub(crate) fn hinted(error: impl Into<anyhow::Error>, hint: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Hinted {
        error: error.into(),
        hint: hint.into(),
    })
}

/// `.hint(…)` on a result, as `.context(…)` is.
pub(crate) trait HintExt<T> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T>;
    fn with_hint<H: Into<String>>(self, hint: impl FnOnce() -> H) -> anyhow::Result<T>;
}

impl<T, E: Into<anyhow::Error>> HintExt<T> for Result<T, E> {
    fn hint(self, hint: impl Into<String>) -> anyhow::Result<T> {
        self.map_err(|e| hinted(e, hint))
    }

    fn with_hint<H: Into<String>>(self, hint: impl FnOnce() -> H) -> anyhow::Result<T> {
        self.map_err(|e| hinted(e, hint()))
    }
}

/// A message and, when there is one, its next step: what the parsers of
/// option and setting values return. The caller decides what it is (a
/// usage error, a policy option, a config problem); the hint goes with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub what: String,
    pub hint: Option<String>,
}

impl Problem {
    pub(crate) fn new(what: impl Into<String>, hint: impl Into<String>) -> Problem {
        Problem {
            what: what.into(),
            hint: Some(hint.into()),
        }
    }

    /// The same problem, its message after `prefix` (`--exempt-path: `).
    pub(crate) fn prefixed(self, prefix: impl fmt::Display) -> Problem {
        Problem {
            what: format!("{prefix}{}", self.what),
            ..self
        }
    }

    /// As a usage error (exit 2), with its hint.
    pub(crate) fn usage(self) -> anyhow::Error {
        let usage = crate::UsageError(self.what);
        match self.hint {
            Some(hint) => hinted(usage, hint),
            None => usage.into(),
        }
    }

    fn hint(&self) -> Option<String> {
        self.hint.clone()
    }
}

impl From<String> for Problem {
    fn from(what: String) -> Problem {
        Problem { what, hint: None }
    }
}

impl From<&str> for Problem {
    fn from(what: &str) -> Problem {
        what.to_string().into()
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.what)
    }
}

impl Error for Problem {}

/// `error: hint` on one line, for places that show an error as one item
/// of several (`keyless doctor`'s fixes).
pub(crate) fn inline(error: &dyn fmt::Display, hint: Option<String>) -> String {
    match hint {
        Some(hint) => format!("{error}: {hint}"),
        None => error.to_string(),
    }
}

/// The hint one error in a chain gives, if any.
fn hint_of(cause: &(dyn Error + 'static)) -> Option<String> {
    if let Some(h) = cause.downcast_ref::<Hinted>() {
        return Some(h.hint.clone());
    }
    macro_rules! typed {
        ($($ty:ty),* $(,)?) => {
            $(if let Some(e) = cause.downcast_ref::<$ty>() {
                return e.hint();
            })*
        };
    }
    typed!(
        Problem,
        crate::auth::AuthError,
        crate::store::StoreError,
        crate::store::lock::LockError,
        crate::store::state::StateError,
        crate::identity_center::ApiError,
        crate::identity_center::device::DeviceFlowError,
        crate::identity_center::pkce::PkceError,
        crate::credentials::Refusal,
        crate::config::ConfigError,
        crate::ini_edit::EditError,
        crate::aws::AwsError,
        crate::audit::report::ReportError,
        crate::audit::render::BaselineError,
        crate::scan::baseline::BaselineError,
        crate::policy::document::PolicyError,
    );
    None
}

/// The next step for an error: the outermost hint in its chain, which is
/// the one given with the most knowledge of what the user was doing.
pub(crate) fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(hint_of)
}

/// Whether `err` is, or wraps, a `T`, looking through hints.
pub(crate) fn is<T: Error + Send + Sync + 'static>(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.is::<T>()
            || c.downcast_ref::<Hinted>()
                .is_some_and(|h| h.error.is::<T>())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn a_hint_keeps_the_chain_and_is_found_under_context() {
        let err: anyhow::Result<()> = Err(anyhow::anyhow!("the file is gone"));
        let err = err
            .hint("run keyless scan")
            .context("cannot read the baseline")
            .unwrap_err();
        assert_eq!(
            crate::error_chain(&err),
            "cannot read the baseline: the file is gone"
        );
        assert_eq!(hint(&err).as_deref(), Some("run keyless scan"));
    }

    #[test]
    fn the_outermost_hint_wins_and_no_hint_is_none() {
        let inner = hinted(anyhow::anyhow!("denied"), "inner step");
        let outer = hinted(inner.context("cannot sign in"), "outer step");
        assert_eq!(hint(&outer).as_deref(), Some("outer step"));
        assert_eq!(crate::error_chain(&outer), "cannot sign in: denied");
        assert_eq!(hint(&anyhow::anyhow!("plain")), None);
    }

    #[test]
    fn the_report_is_one_line_and_a_hint_line_for_typed_errors_too() {
        let err = anyhow::Error::new(crate::auth::AuthError::LoginRequired {
            session: "corp".into(),
            command: "keyless login --sso-session corp".into(),
        })
        .context("cannot get credentials for profile 'dev'");
        assert_eq!(
            crate::error_report(&err),
            "keyless: cannot get credentials for profile 'dev': not signed in to sso-session \
             'corp' (or the session expired)\nhint: run `keyless login --sso-session corp`"
        );
        let plain = anyhow::Error::new(crate::store::StoreError::Platform {
            op: "reading",
            name: "v1/session/corp".into(),
            detail: "boom".into(),
        });
        assert!(!crate::error_report(&plain).contains('\n'));
    }

    #[test]
    fn a_wrapped_type_is_still_seen() {
        let err = hinted(crate::UsageError("bad".into()), "see --help");
        assert!(is::<crate::UsageError>(&err));
        assert!(!is::<std::io::Error>(&err));
    }
}
