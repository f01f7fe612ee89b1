//! Our parser and merge, checked against the AWS SDK for Rust's own
//! (`aws-runtime`'s `env_config`) on fixed and generated files: the same
//! files are refused, and accepted files yield the same profiles,
//! sso-sessions and values.

use std::collections::BTreeSet;

use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_runtime::env_config::section::EnvConfigSections;
use aws_runtime::env_config::source;
use aws_types::os_shim_internal::{Env as SdkEnv, Fs};
use proptest::prelude::*;

use super::AwsFiles;

fn sdk(config: &str, credentials: &str) -> Result<EnvConfigSections, String> {
    let files = EnvConfigFiles::builder()
        .with_contents(EnvConfigFileKind::Config, config)
        .with_contents(EnvConfigFileKind::Credentials, credentials)
        .build();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .map_err(|e| e.to_string())?;
    let source = runtime
        .block_on(source::load(
            &SdkEnv::from_slice(&[]),
            &Fs::from_slice(&[]),
            &files,
        ))
        .map_err(|e| e.to_string())?;
    EnvConfigSections::parse(source).map_err(|e| e.to_string())
}

/// Keys the generator writes (and some it does not), as the SDK would be
/// asked for them.
const VOCABULARY: &[&str] = &["k", "key", "region", "a b", "a", "sso", "sso_session", "x"];

/// `Err` describes the first difference.
fn compare(config: &str, credentials: &str) -> Result<(), String> {
    let ours = AwsFiles::from_texts(config, credentials);
    let theirs = sdk(config, credentials);
    let (theirs, ours_ok) = match (theirs, ours.check()) {
        (Ok(theirs), Ok(())) => (theirs, true),
        (Err(_), Err(_)) => return Ok(()),
        (Ok(_), Err(e)) => return Err(format!("we refuse, the SDK accepts: {e}")),
        (Err(e), Ok(())) => return Err(format!("the SDK refuses, we accept: {e}")),
    };
    debug_assert!(ours_ok);
    let their_profiles: BTreeSet<&str> = theirs.profiles().collect();
    let our_profiles: BTreeSet<&str> = ours.profiles().map(|p| p.name.as_str()).collect();
    if their_profiles != our_profiles {
        return Err(format!(
            "profiles: SDK {their_profiles:?}, ours {our_profiles:?}"
        ));
    }
    let their_sessions: BTreeSet<&str> = theirs.sso_sessions().collect();
    let our_sessions: BTreeSet<&str> = ours.sso_sessions().map(|s| s.name.as_str()).collect();
    if their_sessions != our_sessions {
        return Err(format!(
            "sso-sessions: SDK {their_sessions:?}, ours {our_sessions:?}"
        ));
    }
    for name in &our_profiles {
        let (Some(their), Some(our)) = (theirs.get_profile(name), ours.profile(name)) else {
            return Err(format!("profile {name} missing"));
        };
        let keys = our
            .settings
            .keys()
            .map(String::as_str)
            .chain(VOCABULARY.iter().copied());
        for key in keys {
            if their.get(key) != our.get(key) {
                return Err(format!(
                    "profile {name} key {key:?}: SDK {:?}, ours {:?}",
                    their.get(key),
                    our.get(key)
                ));
            }
        }
    }
    for name in &our_sessions {
        let (Some(their), Some(our)) = (theirs.sso_session(name), ours.sso_session(name)) else {
            return Err(format!("sso-session {name} missing"));
        };
        let keys = our
            .settings
            .keys()
            .map(String::as_str)
            .chain(VOCABULARY.iter().copied());
        for key in keys {
            if their.get(key) != our.get(key) {
                return Err(format!("sso-session {name} key {key:?} differs"));
            }
        }
    }
    Ok(())
}

#[test]
fn fixed_cases_match_the_sdk() {
    let cases: &[(&str, &str)] = &[
        ("", ""),
        ("[profile a]\nk = v\n", "[a]\nk = w\nx = y\n"),
        (
            "[default]\nk = 1\n[profile default]\nx = 2\n",
            "[default]\nregion = r\n",
        ),
        ("[profile default]\nx = 2\n[default]\nk = 1\n", ""),
        (
            "[profile a]\n[profile a]\nk = 1\nk = 2\n[profile b]\n[profile a]\nk = 3\n",
            "",
        ),
        (
            "[a]\nk = v\n[profile a b]\n[profile a!]\n",
            "[profile a]\nk = v\n[a b]\n[]\n",
        ),
        ("[profile a] ; c\nk = v ; c\nx = a#b\nregion = r # c\n", ""),
        (
            "[profile a]#c\nK=V\n  more\n\tand more ; kept\n  # indented\n",
            "",
        ),
        ("[profile a]\nk = v\n  [profile b]\n", ""),
        ("[profile a]\r\nk = v\r\n\r\nx = w\r", ""),
        (
            "[services s]\nsso =\n  endpoint_url = http://h ; c\n  Region=x\n",
            "",
        ),
        (
            "[sso-session s]\nsso_region = r\nsso_start_url = u\n[profile a]\nsso_session = s\n",
            "",
        ),
        ("[profile a]\na b = c\nk = =\n", ""),
        // refused by both
        ("[profile a\nk = v\n", ""),
        ("[profile a] x\n", ""),
        ("k = v\n[profile a]\n", ""),
        ("[profile a]\n  x\n", ""),
        ("[profile a]\nwords\n", ""),
        ("[profile a]\n= v\n", ""),
        ("[profile a]\nk =\n  no pair\n", ""),
        ("  k = v\n", ""),
        ("", "k = v\n"),
        ("\u{FEFF}[profile a]\n", ""),
    ];
    for (config, credentials) in cases {
        if let Err(difference) = compare(config, credentials) {
            panic!("{config:?} / {credentials:?}: {difference}");
        }
    }
}

fn line() -> impl Strategy<Value = String> {
    prop_oneof![
        // one spelling per section name: the SDK merges different
        // spellings of one name in hash order, which is not reproducible
        Just("[profile a]"),
        Just("[profile b] ; c"),
        Just("[default]"),
        Just("[profile default]"),
        Just("[sso-session s]"),
        Just("[services x]"),
        Just("[a]"),
        Just("[profile a!]"),
        Just("[profile c"),
        Just("k = v"),
        Just("K=V ;c"),
        Just("key = v#x"),
        Just("region =   "),
        Just("a b = c"),
        Just("sso = "),
        Just("= v"),
        Just("novalue"),
        Just("region = us-east-1 # c"),
        Just("  x = y"),
        Just("\tfoo"),
        Just("  # c"),
        Just("   "),
        Just("# c"),
        Just("; c"),
        Just(""),
    ]
    .prop_map(str::to_owned)
}

fn file() -> impl Strategy<Value = String> {
    (proptest::collection::vec(line(), 0..12), any::<bool>())
        .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn generated_files_match_the_sdk(config in file(), credentials in file()) {
        if let Err(difference) = compare(&config, &credentials) {
            prop_assert!(false, "{:?} / {:?}: {}", config, credentials, difference);
        }
    }
}
