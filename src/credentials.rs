//! The role-credential type, the refusal of anything that is not a
//! temporary credential, and the `credential_process` JSON output.

use std::fmt::Write as _;
use std::io;

use serde::Serialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::secret::Secret;

/// Role credentials are reused while at least this much life remains:
/// botocore re-runs `credential_process` on every access below it.
pub const REUSE_MARGIN_SECS: i64 = 15 * 60;

/// The longest role session IAM Identity Center issues (a permission set's
/// session duration is at most 12 hours), plus clock slack. An expiry
/// beyond it is not believed: it would be cached and served for ever.
pub const MAX_LIFETIME_SECS: i64 = 12 * 3600 + 10 * 60;

/// Temporary AWS credentials as returned by `GetRoleCredentials`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret<String>,
    pub session_token: Secret<String>,
    /// Epoch seconds.
    pub expiration: i64,
    pub account_id: Option<String>,
}

/// Why a credential was refused. None of these messages carries a secret.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refusal {
    #[error(
        "refusing to hand out the long-lived access key {key_id}: keyless only issues temporary \
         credentials (key IDs starting with ASIA)"
    )]
    LongTermKey { key_id: String },
    #[error(
        "refusing credentials with key ID {key_id}: it is not a temporary AWS access key ID \
         (expected ASIA followed by 16 characters)"
    )]
    NotTemporary { key_id: String },
    #[error(
        "refusing credentials for {key_id}: they carry no session token, so they are not \
         temporary credentials"
    )]
    NoSessionToken { key_id: String },
    #[error("refusing credentials for {key_id}: the secret access key is empty")]
    NoSecret { key_id: String },
    #[error(
        "refusing credentials for {key_id}: they expired at {expiration} (local clock says \
         {now})"
    )]
    Expired {
        key_id: String,
        expiration: String,
        now: String,
    },
    #[error(
        "refusing credentials for {key_id}: they claim to be valid for {}, longer than any \
         role session IAM Identity Center issues (12 hours)",
        human_remaining(*.lifetime_secs)
    )]
    ImplausibleExpiry { key_id: String, lifetime_secs: i64 },
}

impl Refusal {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        const ENDPOINT: &str = "check that the endpoint is IAM Identity Center \
            (AWS_ENDPOINT_URL_SSO, AWS_ENDPOINT_URL)";
        Some(match self {
            Refusal::LongTermKey { .. } => {
                "check that the role credentials come from IAM Identity Center".into()
            }
            Refusal::NotTemporary { .. }
            | Refusal::NoSessionToken { .. }
            | Refusal::NoSecret { .. } => ENDPOINT.into(),
            Refusal::Expired { .. } => {
                "if the clock is wrong, fix it (e.g. enable NTP); otherwise run the command again"
                    .into()
            }
            Refusal::ImplausibleExpiry { .. } => {
                format!("{ENDPOINT}, and that the system clock is right")
            }
        })
    }
}

impl Credentials {
    /// Checks that these are temporary credentials that are still valid:
    /// an `ASIA` key ID, a session token, a secret, and an expiry in the
    /// future. Long-lived keys (`AKIA…` and any other prefix) are refused.
    pub fn validate(&self, now: i64) -> Result<(), Refusal> {
        let key_id = crate::secret::mask(&self.access_key_id);
        let id = self.access_key_id.as_str();
        if id.starts_with("AKIA") {
            return Err(Refusal::LongTermKey { key_id });
        }
        let well_formed = id.len() == 20
            && id.starts_with("ASIA")
            && id[4..]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        if !well_formed {
            return Err(Refusal::NotTemporary { key_id });
        }
        if self.session_token.expose().trim().is_empty() {
            return Err(Refusal::NoSessionToken { key_id });
        }
        if self.secret_access_key.expose().trim().is_empty() {
            return Err(Refusal::NoSecret { key_id });
        }
        if self.expiration <= now {
            return Err(Refusal::Expired {
                key_id,
                expiration: rfc3339(self.expiration),
                now: rfc3339(now),
            });
        }
        let lifetime_secs = self.expiration.saturating_sub(now);
        if lifetime_secs > MAX_LIFETIME_SECS {
            return Err(Refusal::ImplausibleExpiry {
                key_id,
                lifetime_secs,
            });
        }
        Ok(())
    }

    /// Seconds of life left at `now` (negative when expired).
    pub fn remaining(&self, now: i64) -> i64 {
        self.expiration - now
    }

    /// True when these can be handed out again without a network call.
    pub fn reusable(&self, now: i64) -> bool {
        self.remaining(now) >= REUSE_MARGIN_SECS
    }

    /// Writes the `credential_process` output, one compact JSON object and
    /// a newline, straight into `out`. Call only after
    /// [`Credentials::validate`]. Any write or serialisation error is
    /// returned: nothing is ever half-printed and called a success.
    pub fn write_process_json(&self, out: &mut dyn io::Write) -> io::Result<()> {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Output<'a> {
            version: u8,
            access_key_id: &'a str,
            secret_access_key: &'a str,
            session_token: &'a str,
            expiration: String,
            #[serde(skip_serializing_if = "Option::is_none")]
            account_id: Option<&'a str>,
        }
        let output = Output {
            version: 1,
            access_key_id: &self.access_key_id,
            secret_access_key: self.secret_access_key.expose(),
            session_token: self.session_token.expose(),
            expiration: rfc3339(self.expiration),
            account_id: self.account_id.as_deref(),
        };
        serde_json::to_writer(&mut *out, &output)?;
        out.write_all(b"\n")?;
        out.flush()
    }
}

/// Epoch seconds as RFC 3339 in UTC with a `Z` (`2026-11-28T15:10:25Z`).
pub fn rfc3339(epoch_secs: i64) -> String {
    match OffsetDateTime::from_unix_timestamp(epoch_secs) {
        Ok(t) => t
            .format(&Rfc3339)
            .unwrap_or_else(|_| epoch_secs.to_string()),
        Err(_) => epoch_secs.to_string(),
    }
}

/// Current time in epoch seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A short human duration: `42m`, `3h05m`, `20s`, `expired`.
pub fn human_remaining(secs: i64) -> String {
    let mut out = String::new();
    if secs <= 0 {
        return "expired".into();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        let _ = write!(out, "{h}h{m:02}m");
    } else if m > 0 {
        let _ = write!(out, "{m}m");
    } else {
        let _ = write!(out, "{s}s");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "SENTINEL-SECRET-wJalrXUtnFEMI/K7MDENG/bPxRfiCY";
    const TOKEN: &str = "SENTINEL-TOKEN-IQoJb3JpZ2luX2VjEJr";

    fn creds(id: &str, token: &str, expiration: i64) -> Credentials {
        Credentials {
            access_key_id: id.into(),
            secret_access_key: Secret::new(SECRET.into()),
            session_token: Secret::new(token.into()),
            expiration,
            account_id: Some("111122223333".into()),
        }
    }

    #[test]
    fn accepts_temporary_credentials() {
        let c = creds("ASIAY34FZKBOKMUTVV7A", TOKEN, 2_000);
        assert_eq!(c.validate(1_000), Ok(()));
    }

    #[test]
    fn refuses_what_is_not_temporary() {
        let cases = [
            (creds("AKIAY34FZKBOKMUTVV7A", TOKEN, 2_000), "long-lived"),
            (creds("AKIAIOSFODNN7EXAMPLE", TOKEN, 2_000), "long-lived"),
            (
                creds("AROAY34FZKBOKMUTVV7A", TOKEN, 2_000),
                "not a temporary",
            ),
            (creds("ASIA123", TOKEN, 2_000), "not a temporary"),
            (creds("", TOKEN, 2_000), "not a temporary"),
            (creds("ASIAY34FZKBOKMUTVV7A", "", 2_000), "no session token"),
            (
                creds("ASIAY34FZKBOKMUTVV7A", "  ", 2_000),
                "no session token",
            ),
            (creds("ASIAY34FZKBOKMUTVV7A", TOKEN, 1_000), "expired"),
            (creds("ASIAY34FZKBOKMUTVV7A", TOKEN, 0), "expired"),
        ];
        for (c, want) in cases {
            let err = c.validate(1_000).expect_err(&c.access_key_id);
            let msg = err.to_string();
            assert!(msg.contains(want), "{msg}");
            assert!(!msg.contains(SECRET) && !msg.contains(TOKEN), "{msg}");
        }
    }

    #[test]
    fn process_json_is_what_sdks_expect() {
        let c = creds("ASIAY34FZKBOKMUTVV7A", TOKEN, 1_795_000_000);
        let mut out = Vec::new();
        c.write_process_json(&mut out).unwrap();
        let json = String::from_utf8(out).unwrap();
        assert!(json.ends_with('\n'));
        assert_eq!(json.trim_end().lines().count(), 1);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["Version"], serde_json::json!(1));
        assert_eq!(v["AccessKeyId"], "ASIAY34FZKBOKMUTVV7A");
        assert_eq!(v["SecretAccessKey"], SECRET);
        assert_eq!(v["SessionToken"], TOKEN);
        assert_eq!(v["Expiration"], "2026-11-18T11:06:40Z");
        assert_eq!(v["AccountId"], "111122223333");
    }

    #[test]
    fn a_failed_write_is_an_error_not_an_empty_success() {
        struct Full;
        impl io::Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from(io::ErrorKind::StorageFull))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let c = creds("ASIAY34FZKBOKMUTVV7A", TOKEN, 1_795_000_000);
        let err = c.write_process_json(&mut Full).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn absurd_expiries_are_refused() {
        let now = 1_795_000_000;
        let twelve_hours = creds("ASIAY34FZKBOKMUTVV7A", TOKEN, now + 12 * 3600);
        assert_eq!(twelve_hours.validate(now), Ok(()));
        for expiration in [now + 13 * 3600, 99_999_999_999_999, i64::MAX] {
            let c = creds("ASIAY34FZKBOKMUTVV7A", TOKEN, expiration);
            let err = c.validate(now).unwrap_err();
            assert!(
                matches!(err, Refusal::ImplausibleExpiry { .. }),
                "{expiration}: {err}"
            );
            assert!(err.to_string().contains("12 hours"), "{err}");
        }
    }

    #[test]
    fn reuse_margin() {
        let c = creds("ASIAY34FZKBOKMUTVV7A", TOKEN, 10_000);
        assert!(c.reusable(10_000 - REUSE_MARGIN_SECS));
        assert!(!c.reusable(10_000 - REUSE_MARGIN_SECS + 1));
    }

    #[test]
    fn debug_has_no_secret() {
        let c = creds("ASIAY34FZKBOKMUTVV7A", TOKEN, 10_000);
        let shown = format!("{c:?}");
        assert!(!shown.contains(SECRET) && !shown.contains(TOKEN), "{shown}");
    }

    #[test]
    fn human_durations() {
        assert_eq!(human_remaining(-5), "expired");
        assert_eq!(human_remaining(20), "20s");
        assert_eq!(human_remaining(42 * 60 + 3), "42m");
        assert_eq!(human_remaining(3 * 3600 + 5 * 60), "3h05m");
    }
}
