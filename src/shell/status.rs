//! `keyless status`: every sso-session and every cached role the state
//! file knows, with what is left of each. Pure: the command reads the state
//! file (never the keyring, never the network) and passes it in.
//!
//! The JSON form is a contract, documented in docs/status.md with a JSON
//! Schema (docs/status.schema.json); [`SCHEMA_VERSION`] changes only when a
//! field changes meaning or goes away.

use std::io::{self, Write};

use serde::Serialize;

use crate::credentials::{human_remaining, rfc3339};
use crate::store::State;

use super::prompt::EXPIRING_SECS;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    pub schema_version: u32,
    /// When this was computed (RFC 3339).
    pub now: String,
    pub sessions: Vec<SessionStatus>,
    pub roles: Vec<RoleStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SessionStatus {
    pub name: String,
    pub start_url: String,
    pub region: String,
    /// The access token is still valid.
    pub signed_in: bool,
    pub token_expires_at: Option<String>,
    pub token_remaining_secs: Option<i64>,
    /// A refresh token was issued, so keyless can renew the access token
    /// without a login (until the client registration or the portal
    /// session ends). `null`: not recorded.
    pub refresh_possible: Option<bool>,
    pub last_login: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RoleCondition {
    /// More than the reuse margin (15 minutes) left.
    Valid,
    /// Still valid, but the next use fetches new credentials.
    Expiring,
    Expired,
    /// No expiry recorded.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RoleStatus {
    pub session: String,
    pub account_id: String,
    pub role_name: String,
    pub profiles: Vec<String>,
    pub expiration: Option<String>,
    pub remaining_secs: Option<i64>,
    pub state: RoleCondition,
}

pub fn status(state: &State, now: i64) -> Status {
    let sessions = state
        .sessions
        .iter()
        .map(|(name, s)| SessionStatus {
            name: name.clone(),
            start_url: s.start_url.clone(),
            region: s.region.clone(),
            signed_in: s.token_expires_at.is_some_and(|t| t > now),
            token_expires_at: s.token_expires_at.map(rfc3339),
            token_remaining_secs: s.token_expires_at.map(|t| t - now),
            refresh_possible: s.refreshable,
            last_login: s.last_login.map(rfc3339),
        })
        .collect();
    let roles = state
        .roles
        .iter()
        .map(|r| RoleStatus {
            session: r.session.clone(),
            account_id: r.account_id.clone(),
            role_name: r.role_name.clone(),
            profiles: r.profiles.clone(),
            expiration: r.expiration.map(rfc3339),
            remaining_secs: r.expiration.map(|e| e - now),
            state: match r.expiration.map(|e| e - now) {
                None => RoleCondition::Unknown,
                Some(left) if left <= 0 => RoleCondition::Expired,
                Some(left) if left < EXPIRING_SECS => RoleCondition::Expiring,
                Some(_) => RoleCondition::Valid,
            },
        })
        .collect();
    Status {
        schema_version: SCHEMA_VERSION,
        now: rfc3339(now),
        sessions,
        roles,
    }
}

/// The one writer of `status --format json`.
pub fn write_json(status: &Status, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, status)?;
    out.write_all(b"\n")
}

/// The one writer of `status` as text.
pub fn write_text(status: &Status, out: &mut dyn Write) -> io::Result<()> {
    if status.sessions.is_empty() && status.roles.is_empty() {
        writeln!(
            out,
            "No sso-session signed in yet. Run: keyless login --sso-session NAME"
        )?;
        return Ok(());
    }
    writeln!(out, "SSO SESSIONS")?;
    if status.sessions.is_empty() {
        writeln!(out, "  (none)")?;
    }
    for s in &status.sessions {
        let token = match s.token_remaining_secs {
            Some(left) if left > 0 => format!("signed in, {} left", human_remaining(left)),
            Some(_) => "token expired".to_owned(),
            None => "not signed in".to_owned(),
        };
        let refresh = match s.refresh_possible {
            Some(true) => ", refreshable",
            Some(false) => ", no refresh token",
            None => "",
        };
        writeln!(out, "  {}  {token}{refresh}", s.name)?;
        writeln!(out, "      {} ({})", s.start_url, s.region)?;
    }
    writeln!(out, "ROLES")?;
    if status.roles.is_empty() {
        writeln!(out, "  (none cached)")?;
    }
    let profiles = |r: &RoleStatus| {
        if r.profiles.is_empty() {
            "-".to_owned()
        } else {
            r.profiles.join(",")
        }
    };
    let pw = status
        .roles
        .iter()
        .map(|r| profiles(r).len())
        .max()
        .unwrap_or(0);
    let aw = status
        .roles
        .iter()
        .map(|r| r.account_id.len() + 1 + r.role_name.len())
        .max()
        .unwrap_or(0);
    for r in &status.roles {
        let left = match r.remaining_secs {
            Some(secs) => human_remaining(secs),
            None => "unknown".to_owned(),
        };
        writeln!(
            out,
            "  {:pw$}  {:aw$}  {:8}  {}",
            profiles(r),
            format!("{}/{}", r.account_id, r.role_name),
            left,
            r.session,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::SessionState;

    #[test]
    fn sessions_and_roles_with_time_left() {
        let now = 1_800_000_000;
        let mut state = State::default();
        state.sessions.insert(
            "corp".into(),
            SessionState {
                start_url: "https://d-1234567890.awsapps.com/start".into(),
                region: "us-east-1".into(),
                token_expires_at: Some(now + 3600),
                last_login: Some(now - 60),
                refreshable: Some(true),
            },
        );
        state.sessions.insert("old".into(), SessionState::default());
        let r = state.role_mut("corp", "111122223333", "Developer");
        r.profiles = vec!["dev".into()];
        r.expiration = Some(now + 42 * 60);
        state.role_mut("corp", "111122223333", "Admin").expiration = Some(now + 60);
        state
            .role_mut("corp", "444455556666", "ReadOnly")
            .expiration = Some(now - 1);
        state.role_mut("old", "1", "R");

        let s = status(&state, now);
        assert_eq!(s.schema_version, 1);
        assert!(s.sessions[0].signed_in);
        assert_eq!(s.sessions[0].refresh_possible, Some(true));
        assert!(!s.sessions[1].signed_in);
        let states: Vec<_> = s.roles.iter().map(|r| r.state).collect();
        assert_eq!(
            states,
            [
                RoleCondition::Expiring,
                RoleCondition::Valid,
                RoleCondition::Expired,
                RoleCondition::Unknown
            ]
        );
        let mut text = Vec::new();
        write_text(&s, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains("corp  signed in, 1h00m left, refreshable"),
            "{text}"
        );
        assert!(text.contains("dev  111122223333/Developer  42m"), "{text}");
        assert!(text.contains("expired"), "{text}");

        let mut empty = Vec::new();
        write_text(&status(&State::default(), now), &mut empty).unwrap();
        assert!(String::from_utf8(empty).unwrap().contains("keyless login"));
    }
}
