//! Retirement planning: which static keys the AWS files hold, which keyless
//! profile can replace each (same account), and the edits that move a key
//! out of the files.

use crate::config::ini::FileKind;
use crate::ini_edit::{Editor, NewSection};
use crate::scan::keyid::{self, Account, KeyPrefix};
use crate::secret::Secret;

/// The properties that make up a static key.
pub const KEY_PROPERTIES: [&str; 3] = [
    "aws_access_key_id",
    "aws_secret_access_key",
    "aws_session_token",
];

/// One long-lived key in one section of one file.
pub struct StaticKey {
    pub profile: String,
    pub file: FileKind,
    pub section: usize,
    pub key_id: String,
    pub secret: Secret<String>,
    pub account: Account,
}

/// `P=ACCOUNT/ROLE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapping {
    pub profile: String,
    pub account_id: String,
    pub role_name: String,
}

impl Mapping {
    pub fn parse(text: &str) -> Result<Mapping, String> {
        let bad = || {
            format!(
                "--map {text}: write it as PROFILE=ACCOUNT/ROLE, e.g. --map \
                 work=111122223333/Developer"
            )
        };
        let (profile, target) = text.split_once('=').ok_or_else(bad)?;
        let (account, role) = target.split_once('/').ok_or_else(bad)?;
        if profile.is_empty() || role.is_empty() || role.contains('/') {
            return Err(bad());
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!(
                "--map {text}: '{account}' is not an AWS account ID (12 digits)"
            ));
        }
        Ok(Mapping {
            profile: profile.to_string(),
            account_id: account.to_string(),
            role_name: role.to_string(),
        })
    }
}

/// Every long-lived access key in `editor`'s profile sections.
pub fn static_keys(editor: &Editor) -> Vec<StaticKey> {
    let mut keys = Vec::new();
    for (index, section) in editor.sections().iter().enumerate() {
        let (Some(profile), Some(key_id)) = (section.profile(), section.get("aws_access_key_id"))
        else {
            continue;
        };
        let key_id = key_id.trim();
        let long_lived = KeyPrefix::of(key_id).is_some_and(KeyPrefix::is_long_lived);
        if !long_lived {
            continue;
        }
        keys.push(StaticKey {
            profile: profile.to_string(),
            file: editor.kind(),
            section: index,
            key_id: key_id.to_string(),
            secret: Secret::new(
                section
                    .get("aws_secret_access_key")
                    .unwrap_or_default()
                    .trim()
                    .to_string(),
            ),
            account: keyid::decode_account(key_id),
        });
    }
    keys
}

/// The keyless profiles in `config` for `account_id`, managed ones first,
/// then by name; `except` (profiles being retired) are left out.
pub fn replacements(config: &Editor, account_id: &str, except: &[String]) -> Vec<String> {
    let mut found: Vec<(bool, String)> = config
        .sections()
        .iter()
        .filter_map(|s| {
            let name = s.profile()?;
            let keyless = s
                .get("credential_process")
                .is_some_and(|c| c.split_whitespace().any(|w| w.ends_with("keyless")))
                && s.get("keyless_account_id") == Some(account_id)
                && s.get("aws_access_key_id").is_none();
            (keyless && !except.iter().any(|e| e == name))
                .then(|| (s.get(super::MANAGED_KEY).is_none(), name.to_string()))
        })
        .collect();
    found.sort();
    found.dedup();
    found.into_iter().map(|(_, name)| name).collect()
}

/// Removes `key` from its file: its key properties go; a section left with
/// no other property goes with them.
pub fn remove_key(editor: &mut Editor, key: &StaticKey) {
    let section = &editor.sections()[key.section];
    let others = section
        .props
        .iter()
        .any(|p| !KEY_PROPERTIES.contains(&p.key.as_str()));
    if others {
        for property in KEY_PROPERTIES {
            editor.remove_key(key.section, property);
        }
    } else {
        editor.remove_section(key.section);
    }
}

/// Points profile `mapping.profile` in `config` at Identity Center, keeping
/// its name (and any keys of its own, such as `region`).
pub fn map_profile(config: &mut Editor, mapping: &Mapping, session: &str) {
    let keys = super::managed_keys(
        &mapping.profile,
        session,
        &mapping.account_id,
        &mapping.role_name,
    );
    match config.profile_sections(&mapping.profile).last().copied() {
        Some(index) => {
            for key in super::SSO_KEYS {
                config.remove_key(index, key);
            }
            for (key, value) in keys {
                config.set(index, &key, &value);
            }
        }
        None => config.append(NewSection {
            header: super::profile_header(&mapping.profile),
            props: keys,
        }),
    }
}

/// "2 h ago", "3 days ago", "just now".
pub fn ago(seconds: i64) -> String {
    match seconds {
        s if s < 60 => "just now".to_string(),
        s if s < 3600 => format!("{} min ago", s / 60),
        s if s < 2 * 86400 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CREDS: &str = "# my keys\n[default]\naws_access_key_id = AKIAQX3WGPWQ2A3ZA7XB\n\
        aws_secret_access_key = abc/def\n\n[work]\naws_access_key_id = AKIAQX3WGPWQ2A3ZA7XC\n\
        aws_secret_access_key = x\nregion = eu-west-1\n\n[temp]\naws_access_key_id = ASIAQX3WGPWQ2A3ZA7XB\n\
        aws_secret_access_key = y\naws_session_token = z\n";

    #[test]
    fn finds_long_lived_keys_only_and_removes_them() {
        let mut editor = Editor::new(CREDS.as_bytes(), FileKind::Credentials, "c").unwrap();
        let keys = static_keys(&editor);
        let names: Vec<_> = keys.iter().map(|k| k.profile.as_str()).collect();
        assert_eq!(names, ["default", "work"]);
        assert!(matches!(keys[0].account, Account::Decoded(_)));
        for key in &keys {
            remove_key(&mut editor, key);
        }
        assert_eq!(
            editor.render(),
            "[work]\nregion = eu-west-1\n\n[temp]\naws_access_key_id = ASIAQX3WGPWQ2A3ZA7XB\n\
             aws_secret_access_key = y\naws_session_token = z\n"
        );
    }

    #[test]
    fn mappings_parse_or_say_how_to_write_them() {
        let m = Mapping::parse("work=111122223333/Developer").unwrap();
        assert_eq!(m.account_id, "111122223333");
        for bad in [
            "work",
            "work=1111/Dev",
            "=111122223333/D",
            "w=111122223333/",
            "w=111122223333",
        ] {
            assert!(Mapping::parse(bad).unwrap_err().contains("--map"), "{bad}");
        }
    }

    #[test]
    fn replacements_are_keyless_profiles_of_the_account() {
        let config = "[profile a]\ncredential_process = keyless credential-process --profile a\n\
            keyless_account_id = 111122223333\n\n\
            [profile b]\ncredential_process = /usr/bin/keyless credential-process --profile b\n\
            keyless_account_id = 111122223333\nkeyless_managed = corp\n\n\
            [profile c]\ncredential_process = other-tool\nkeyless_account_id = 111122223333\n\n\
            [profile d]\ncredential_process = keyless credential-process --profile d\n\
            keyless_account_id = 444455556666\n";
        let editor = Editor::new(config.as_bytes(), FileKind::Config, "c").unwrap();
        assert_eq!(replacements(&editor, "111122223333", &[]), ["b", "a"]);
        assert_eq!(replacements(&editor, "111122223333", &["b".into()]), ["a"]);
        assert!(replacements(&editor, "999999999999", &[]).is_empty());
    }

    #[test]
    fn ago_reads_like_a_person() {
        assert_eq!(ago(5), "just now");
        assert_eq!(ago(7200), "2 h ago");
        assert_eq!(ago(86400 * 10), "10 days ago");
    }
}
