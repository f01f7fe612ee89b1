//! Credentials in the process environment (`AWS_ACCESS_KEY_ID`…): every AWS
//! tool uses them before any profile.

use super::{Finding, KeyPrefix, Kind, Origin, key_finding, key_sentence, keyid};

/// What the scanner keeps of the environment's credentials: the key ID and
/// whether a secret and a session token are set. Never the secret values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvCredentials {
    /// `AWS_ACCESS_KEY_ID`, when set and not empty.
    pub access_key_id: Option<String>,
    /// `AWS_SECRET_ACCESS_KEY` is set and not empty.
    pub has_secret: bool,
    /// `AWS_SESSION_TOKEN` (or the older `AWS_SECURITY_TOKEN`) is set and not
    /// empty.
    pub has_session_token: bool,
}

impl EnvCredentials {
    /// Reads the three variables through `get`, keeping only the key ID
    /// and two booleans.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> EnvCredentials {
        let set = |name: &str| get(name).is_some_and(|v| !v.trim().is_empty());
        EnvCredentials {
            access_key_id: get("AWS_ACCESS_KEY_ID")
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty()),
            has_secret: set("AWS_SECRET_ACCESS_KEY"),
            has_session_token: set("AWS_SESSION_TOKEN") || set("AWS_SECURITY_TOKEN"),
        }
    }
}

const UNSET_FIX: &str = "unset AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN, \
    remove them from your shell startup files and CI settings, and use a keyless profile \
    (`credential_process = keyless credential-process --profile P`, or \
    `keyless exec --profile P -- CMD` for tools without profile support)";

/// The findings for the environment's credentials.
pub fn findings(env: &EnvCredentials) -> Vec<Finding> {
    let Some(id) = env.access_key_id.as_deref() else {
        return Vec::new();
    };
    let prefix = KeyPrefix::of(id).filter(|_| keyid::looks_like_key_id(id));
    let Some(prefix) = prefix else {
        if !env.has_secret {
            return Vec::new();
        }
        // Not an AWS key ID; maybe a local emulator's. Do not print it: it
        // could be a secret pasted into the wrong variable.
        let shown = keyid::looks_like_key_id(id).then(|| id.to_string());
        return vec![Finding {
            origin: Origin::Environment,
            file: None,
            line: None,
            column: None,
            profile: None,
            account: None,
            kind: Kind::UnrecognisedStaticKey,
            severity: Kind::UnrecognisedStaticKey.default_severity(),
            long_lived: false,
            message: match shown {
                Some(_) => "AWS_ACCESS_KEY_ID holds static credentials whose key ID has no AWS \
                            prefix (a placeholder or a local emulator's key?)"
                    .to_string(),
                None => "AWS_ACCESS_KEY_ID does not look like a key ID (value not shown: it \
                         may be a secret in the wrong variable)"
                    .to_string(),
            },
            key_id: shown,
            fix: UNSET_FIX.to_string(),
            secret_digest: None,
        }];
    };
    // Temporary keys with their token are how short-lived credentials are
    // meant to reach a tool (`keyless exec` sets exactly these): not a finding.
    if prefix == KeyPrefix::Temporary && env.has_session_token {
        return Vec::new();
    }
    let mut f = key_finding(Origin::Environment, id, prefix, env.has_session_token);
    let account = f.account.clone().unwrap_or(keyid::Account::Unknown);
    let secret = if env.has_secret {
        "with AWS_SECRET_ACCESS_KEY"
    } else {
        "without AWS_SECRET_ACCESS_KEY"
    };
    f.message = format!(
        "AWS_ACCESS_KEY_ID holds a {} {secret}; every AWS tool started from this environment \
         uses it before any profile",
        key_sentence(f.kind, &account)
    );
    f.fix = UNSET_FIX.to_string();
    vec![f]
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> EnvCredentials {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        EnvCredentials::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn long_term_key_in_the_environment() {
        let found = findings(&env(&[
            ("AWS_ACCESS_KEY_ID", "AKIARZPUZDIKGB2VALC4"),
            ("AWS_SECRET_ACCESS_KEY", "SENTINEL-secret"),
        ]));
        assert_eq!(found.len(), 1);
        let f = &found[0];
        assert_eq!(f.kind, Kind::LongTermKey);
        assert!(f.long_lived);
        assert_eq!(f.origin, Origin::Environment);
        assert_eq!(f.key_id.as_deref(), Some("AKIARZPUZDIKGB2VALC4"));
        assert_eq!(
            f.account.as_ref().and_then(|a| a.id()),
            Some("123456789012")
        );
        assert!(f.message.contains("account 123456789012"), "{}", f.message);
        assert!(!format!("{f:?}").contains("SENTINEL"));
    }

    #[test]
    fn temporary_key_with_token_is_fine_without_token_is_broken() {
        assert!(
            findings(&env(&[
                ("AWS_ACCESS_KEY_ID", "ASIAY34FZKBOKMUTVV7A"),
                ("AWS_SECRET_ACCESS_KEY", "s"),
                ("AWS_SESSION_TOKEN", "t"),
            ]))
            .is_empty()
        );
        let found = findings(&env(&[
            ("AWS_ACCESS_KEY_ID", "ASIAY34FZKBOKMUTVV7A"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_SESSION_TOKEN", "  "),
        ]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::TemporaryKeyWithoutToken);
        assert!(!found[0].long_lived);
    }

    #[test]
    fn nothing_set_or_empty() {
        assert!(findings(&env(&[])).is_empty());
        assert!(findings(&env(&[("AWS_ACCESS_KEY_ID", "")])).is_empty());
        assert!(findings(&env(&[("AWS_SECRET_ACCESS_KEY", "x")])).is_empty());
    }

    #[test]
    fn a_secret_in_the_key_id_variable_is_not_printed() {
        let sentinel = "wJalrXUtnFEMI/K7MDENG/SENTINELxRfiCYzzzz";
        let found = findings(&env(&[
            ("AWS_ACCESS_KEY_ID", sentinel),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].kind, Kind::UnrecognisedStaticKey);
        assert_eq!(found[0].key_id, None);
        assert!(!format!("{:?}", found[0]).contains("SENTINEL"));
    }

    #[test]
    fn emulator_key_is_low() {
        let found = findings(&env(&[
            ("AWS_ACCESS_KEY_ID", "LOCALSTACKTEST00"),
            ("AWS_SECRET_ACCESS_KEY", "x"),
        ]));
        assert_eq!(found[0].kind, Kind::UnrecognisedStaticKey);
        assert_eq!(found[0].key_id.as_deref(), Some("LOCALSTACKTEST00"));
        assert!(!found[0].long_lived);
    }
}
