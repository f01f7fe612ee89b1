//! `keyless doctor`: checks that explain themselves, each problem with its
//! fix. The checks are pure functions over what the command gathered (the
//! keyring's answer, the AWS files, the server's clock, how programs
//! resolve on PATH); the command does the I/O.
//!
//! The config checks reuse what already detects each problem: profile
//! resolution (which refuses `sso_*` keys next to `credential_process`
//! and static keys) and the scanner (static keys shadowing a profile).

pub mod clock;

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::resolve::{self, Request};
use crate::config::{AwsFiles, FileKind};
use crate::scan::{Finding, Kind};
use crate::store::{StoreError, StoreKind};

pub const SCHEMA_VERSION: u32 = 1;
/// Clock skew up to this is fine.
pub const SKEW_OK_SECS: i64 = 60;
/// Above this, signed requests and token expiries go wrong (SigV4 allows
/// five minutes).
pub const SKEW_FAIL_SECS: i64 = 5 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    /// Worth knowing; does not fail the run.
    Warn,
    /// Needs fixing: exit 1.
    Fail,
    /// Could not be checked here (offline, nothing to check).
    Skip,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Warn => "warn",
            Outcome::Fail => "FAIL",
            Outcome::Skip => "skip",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which check: `store`, `config`, `profile`, `shadowing`, `clock`, `path`.
    pub check: &'static str,
    pub outcome: Outcome,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    fn new(check: &'static str, outcome: Outcome, summary: impl Into<String>) -> Check {
        Check {
            check,
            outcome,
            summary: summary.into(),
            fix: None,
        }
    }

    fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    pub schema_version: u32,
    /// No check failed.
    pub ok: bool,
    pub checks: Vec<Check>,
}

impl Report {
    pub fn new(checks: Vec<Check>) -> Report {
        Report {
            schema_version: SCHEMA_VERSION,
            ok: checks.iter().all(|c| c.outcome != Outcome::Fail),
            checks,
        }
    }
}

/// The store keyless uses here answered a read: which one it is, and
/// (for the kernel keyring) how long tokens last in it.
pub fn store_check(kind: StoreKind, answer: Result<(), StoreError>, note: Option<&str>) -> Check {
    match (answer, kind) {
        (Ok(()), StoreKind::SecretService) if cfg!(target_os = "linux") => Check::new(
            "store",
            Outcome::Ok,
            "secrets are kept in the Secret Service (role credentials also in the kernel \
             keyring, as a hot cache)",
        ),
        (Ok(()), StoreKind::SecretService) => {
            Check::new("store", Outcome::Ok, "secrets are kept in the OS keyring")
        }
        (Ok(()), StoreKind::Keyutils) => Check::new(
            "store",
            Outcome::Ok,
            format!(
                "secrets are kept in the kernel keyring (keyutils){}",
                note.map(|n| format!("; {n}")).unwrap_or_default()
            ),
        ),
        (Err(e), _) => Check::new("store", Outcome::Fail, "the OS keyring cannot be used")
            .fix(crate::hint::inline(&e, e.hint())),
    }
}

/// Whether a profile is one keyless serves: keyless's own keys, or a
/// `credential_process` that runs keyless.
fn is_keyless_profile(files: &AwsFiles, name: &str) -> bool {
    let Some(p) = files.profile(name) else {
        return false;
    };
    p.settings.keys().any(|k| k.starts_with("keyless_"))
        || p.get("credential_process")
            .and_then(program_of)
            .is_some_and(|prog| runs_keyless(&prog))
}

/// The files parse, and every keyless profile resolves to a role.
pub fn config_checks(files: &AwsFiles) -> Vec<Check> {
    let mut checks = Vec::new();
    if let Err(e) = files.check() {
        checks.push(
            Check::new(
                "config",
                Outcome::Fail,
                "the AWS files do not parse as the SDKs read them",
            )
            .fix(format!("{e}; correct that line")),
        );
        return checks;
    }
    for (file, issue) in files.issues() {
        checks.push(
            Check::new(
                "config",
                Outcome::Warn,
                format!("{} line {}: {}", file.display, issue.line, issue.message),
            )
            .fix("tidy that line: other AWS tools may read the file differently"),
        );
    }
    let names: Vec<String> = files
        .profiles()
        .map(|p| p.name.clone())
        .filter(|n| is_keyless_profile(files, n))
        .collect();
    if names.is_empty() {
        checks.push(
            Check::new("profile", Outcome::Skip, "no profile uses keyless yet")
                .fix("add a profile with `credential_process = keyless credential-process --profile NAME`, as in the README"),
        );
    }
    for name in names {
        match resolve::resolve_role(files, &Request::Profile(name.clone())) {
            Ok(plan) => checks.push(Check::new(
                "profile",
                Outcome::Ok,
                format!(
                    "profile '{name}': {}/{} through sso-session '{}'",
                    plan.account_id, plan.role_name, plan.session.name
                ),
            )),
            Err(e) => checks.push(
                Check::new(
                    "profile",
                    Outcome::Fail,
                    format!("profile '{name}' does not resolve"),
                )
                .fix(crate::hint::inline(&e, e.hint())),
            ),
        }
    }
    if !checks.iter().any(|c| c.check == "config") {
        checks.insert(
            0,
            Check::new(
                "config",
                Outcome::Ok,
                format!(
                    "{} and {} parse",
                    files.file(FileKind::Config).display,
                    files.file(FileKind::Credentials).display
                ),
            ),
        );
    }
    checks
}

/// Static-key profiles shadowing a keyless (or SSO) profile, as the
/// scanner finds them.
pub fn shadowing_checks(findings: &[Finding]) -> Vec<Check> {
    let shadowed: Vec<Check> = findings
        .iter()
        .filter(|f| f.kind == Kind::ShadowedProfile)
        .map(|f| Check::new("shadowing", Outcome::Fail, f.message.clone()).fix(f.fix.clone()))
        .collect();
    if shadowed.is_empty() {
        vec![Check::new(
            "shadowing",
            Outcome::Ok,
            "no static-key profile shadows a credential_process or SSO profile",
        )]
    } else {
        shadowed
    }
}

/// The OIDC endpoint of every sso-session region (environment override
/// first, as the SDK resolves it), with the sessions using it.
pub fn clock_endpoints(
    files: &AwsFiles,
    get: impl Fn(&str) -> Option<String>,
) -> BTreeMap<String, Vec<String>> {
    let override_url = ["AWS_ENDPOINT_URL_SSO_OIDC", "AWS_ENDPOINT_URL"]
        .into_iter()
        .find_map(|k| get(k).filter(|v| !v.is_empty()));
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for section in files.sso_sessions() {
        let Some(region) = section.get("sso_region").filter(|r| !r.is_empty()) else {
            continue;
        };
        let url = override_url
            .clone()
            .unwrap_or_else(|| format!("https://oidc.{region}.amazonaws.com"));
        out.entry(url).or_default().push(section.name.clone());
    }
    out
}

/// The clock check, not run.
pub fn clock_skipped(why: &str) -> Check {
    Check::new("clock", Outcome::Skip, format!("clock not checked ({why})"))
}

/// The local clock against one server's `Date`.
pub fn clock_check(url: &str, answer: Result<i64, String>, local_now: i64) -> Check {
    match answer {
        Err(why) => Check::new(
            "clock",
            Outcome::Skip,
            format!("clock not checked: {url} could not be reached ({why})"),
        )
        .fix("run `keyless doctor` again when online"),
        Ok(server) => {
            let skew = local_now - server;
            let (outcome, how) = match skew.abs() {
                s if s <= SKEW_OK_SECS => (Outcome::Ok, "agrees with"),
                s if s <= SKEW_FAIL_SECS => (Outcome::Warn, "is off from"),
                _ => (Outcome::Fail, "is far off from"),
            };
            let ahead = if skew >= 0 { "ahead" } else { "behind" };
            let check = Check::new(
                "clock",
                outcome,
                format!("the system clock {how} {url} ({}s {ahead})", skew.abs()),
            );
            if outcome == Outcome::Ok {
                check
            } else {
                check.fix("synchronise the clock (enable NTP: `timedatectl set-ntp true`)")
            }
        }
    }
}

/// The program a `credential_process` line runs: its first word, as a
/// POSIX shell would read it (quotes removed).
pub fn program_of(line: &str) -> Option<String> {
    let line = line.trim_start();
    let mut out = String::new();
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    for c in chars.by_ref() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => break,
            (_, c) => out.push(c),
        }
    }
    (!out.is_empty()).then_some(out)
}

fn runs_keyless(program: &str) -> bool {
    let base = Path::new(program)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or(program);
    base == "keyless" || base == "keyless.exe"
}

/// The keyless that `credential_process` lines run exists, and is the one
/// found on PATH. `resolve` maps a program word to the file it runs
/// (canonical), as the shell would find it; `on_path` is what `keyless`
/// resolves to.
pub fn path_checks(files: &AwsFiles, resolve: &dyn Fn(&str) -> Option<PathBuf>) -> Vec<Check> {
    let programs = keyless_programs(files);
    if programs.is_empty() {
        return vec![Check::new(
            "path",
            Outcome::Skip,
            "no credential_process line runs keyless",
        )];
    }
    let on_path = resolve("keyless");
    let mut checks = Vec::new();
    for (prog, profiles) in programs {
        let who = format!("credential_process of {}", quoted_list(&profiles));
        match (resolve(&prog), &on_path) {
            (None, _) => checks.push(
                Check::new(
                    "path",
                    Outcome::Fail,
                    format!("{who} runs `{prog}`, which is not found"),
                )
                .fix(match &on_path {
                    Some(found) => format!(
                        "write the full path in credential_process: {} credential-process …",
                        found.display()
                    ),
                    None => "install keyless on PATH, or write its full path in \
                                 credential_process"
                        .to_owned(),
                }),
            ),
            (Some(target), Some(found)) if target != *found => checks.push(
                Check::new(
                    "path",
                    Outcome::Warn,
                    format!(
                        "{who} runs {}, but `keyless` on PATH is {}",
                        target.display(),
                        found.display()
                    ),
                )
                .fix(
                    "keep one keyless: remove the other copy, or point credential_process at \
                      the one on PATH",
                ),
            ),
            (Some(target), _) => checks.push(Check::new(
                "path",
                Outcome::Ok,
                format!("{who} runs {}", target.display()),
            )),
        }
    }
    checks
}

/// The keyless programs that `credential_process` lines run, each with the
/// profiles that run it.
fn keyless_programs(files: &AwsFiles) -> BTreeMap<String, Vec<String>> {
    let mut programs: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in files.profiles() {
        if let Some(prog) = p.get("credential_process").and_then(program_of)
            && runs_keyless(&prog)
        {
            programs.entry(prog).or_default().push(p.name.clone());
        }
    }
    programs
}

/// On Linux, `keyless` answers only cache hits and hands everything else
/// to `keyless-full` beside it: each keyless that a `credential_process`
/// line runs must have it. `exists` says whether a file is there.
pub fn companion_checks(
    files: &AwsFiles,
    resolve: &dyn Fn(&str) -> Option<PathBuf>,
    exists: &dyn Fn(&Path) -> bool,
) -> Vec<Check> {
    let mut checks = Vec::new();
    for (prog, profiles) in keyless_programs(files) {
        let Some(target) = resolve(&prog) else {
            continue; // path_checks reports it
        };
        let full = target.with_file_name(crate::front::FULL_BINARY);
        let who = format!("credential_process of {}", quoted_list(&profiles));
        checks.push(if exists(&full) {
            Check::new(
                "companion",
                Outcome::Ok,
                format!(
                    "{} is beside {}",
                    crate::front::FULL_BINARY,
                    target.display()
                ),
            )
        } else {
            Check::new(
                "companion",
                Outcome::Fail,
                format!(
                    "{who} runs {}, which has no {} beside it: only cache hits will work",
                    target.display(),
                    crate::front::FULL_BINARY
                ),
            )
            .fix(format!(
                "reinstall keyless, or copy {} of the same release into {}",
                crate::front::FULL_BINARY,
                full.parent().unwrap_or(Path::new(".")).display()
            ))
        });
    }
    checks
}

fn quoted_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let noun = if names.len() == 1 {
        "profile"
    } else {
        "profiles"
    };
    format!("{noun} {}", quoted.join(", "))
}

/// The one writer of `doctor --format json`.
pub fn write_json(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, report)?;
    writeln!(out)
}

/// The one writer of `doctor` as text.
pub fn write_text(report: &Report, out: &mut dyn Write) -> io::Result<()> {
    for c in &report.checks {
        writeln!(out, "{:4}  {:9}  {}", c.outcome.label(), c.check, c.summary)?;
        if let Some(fix) = &c.fix
            && c.outcome != Outcome::Ok
        {
            writeln!(out, "      {:9}  fix: {fix}", "")?;
        }
    }
    let failed = report
        .checks
        .iter()
        .filter(|c| c.outcome == Outcome::Fail)
        .count();
    if failed == 0 {
        writeln!(out, "All checks passed.")
    } else {
        writeln!(out, "{failed} problem(s) to fix.")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = "[sso-session corp]\nsso_start_url = https://d-1234567890.awsapps.com/start\nsso_region = eu-west-1\n\n\
        [profile dev]\ncredential_process = keyless credential-process --profile dev\n\
        keyless_sso_session = corp\nkeyless_account_id = 111122223333\nkeyless_role_name = Developer\n\n\
        [profile broken]\ncredential_process = '/opt/key less/keyless' credential-process --profile broken\n\
        sso_session = corp\nkeyless_sso_session = corp\nkeyless_account_id = 111122223333\nkeyless_role_name = Developer\n\n\
        [profile other]\nregion = us-east-1\n";

    #[test]
    fn profiles_resolve_or_say_why() {
        let files = AwsFiles::from_texts(CONFIG, "");
        let checks = config_checks(&files);
        let dev = checks.iter().find(|c| c.summary.contains("'dev'")).unwrap();
        assert_eq!(dev.outcome, Outcome::Ok, "{dev:?}");
        let broken = checks
            .iter()
            .find(|c| c.summary.contains("'broken'"))
            .unwrap();
        assert_eq!(broken.outcome, Outcome::Fail);
        assert!(broken.fix.as_ref().unwrap().contains("sso_"), "{broken:?}");
        assert!(!checks.iter().any(|c| c.summary.contains("'other'")));
        assert!(!Report::new(checks).ok);

        let bad = AwsFiles::from_texts("[profile x\n", "");
        let checks = config_checks(&bad);
        assert_eq!(checks[0].outcome, Outcome::Fail, "{checks:?}");
    }

    #[test]
    fn clock_skew_is_judged() {
        let url = "https://oidc.eu-west-1.amazonaws.com";
        assert_eq!(clock_check(url, Ok(1000), 1010).outcome, Outcome::Ok);
        assert_eq!(clock_check(url, Ok(1000), 880).outcome, Outcome::Warn);
        let far = clock_check(url, Ok(1000), 2000);
        assert_eq!(far.outcome, Outcome::Fail);
        assert!(far.summary.contains("1000s ahead"), "{far:?}");
        assert_eq!(
            clock_check(url, Err("offline".into()), 0).outcome,
            Outcome::Skip
        );

        let files = AwsFiles::from_texts(CONFIG, "");
        let eps = clock_endpoints(&files, |_| None);
        assert_eq!(eps[url], ["corp"]);
        let eps = clock_endpoints(&files, |k| {
            (k == "AWS_ENDPOINT_URL_SSO_OIDC").then(|| "http://127.0.0.1:9".to_string())
        });
        assert!(eps.contains_key("http://127.0.0.1:9"));
    }

    #[test]
    fn the_keyless_that_profiles_run() {
        assert_eq!(
            program_of("keyless credential-process").as_deref(),
            Some("keyless")
        );
        assert_eq!(
            program_of("  '/opt/key less/keyless' x").as_deref(),
            Some("/opt/key less/keyless")
        );
        assert_eq!(
            program_of("\"C:\\k\\keyless.exe\" x").as_deref(),
            Some("C:\\k\\keyless.exe")
        );
        assert_eq!(program_of(""), None);

        let files = AwsFiles::from_texts(CONFIG, "");
        let here = PathBuf::from("/usr/bin/keyless");
        let same = |p: &str| (p == "keyless").then(|| here.clone());
        let checks = path_checks(&files, &same);
        let missing = checks
            .iter()
            .find(|c| c.summary.contains("/opt/key less"))
            .unwrap();
        assert_eq!(missing.outcome, Outcome::Fail);
        assert!(missing.fix.as_ref().unwrap().contains("/usr/bin/keyless"));
        assert!(checks.iter().any(|c| c.outcome == Outcome::Ok));

        let other = |p: &str| {
            Some(PathBuf::from(if p == "keyless" {
                "/usr/bin/keyless"
            } else {
                "/opt/keyless"
            }))
        };
        let checks = path_checks(&files, &other);
        assert!(
            checks.iter().any(|c| c.outcome == Outcome::Warn),
            "{checks:?}"
        );

        let none = AwsFiles::from_texts("[profile a]\nregion = x\n", "");
        assert_eq!(path_checks(&none, &same)[0].outcome, Outcome::Skip);
    }

    #[test]
    fn the_keyless_a_profile_runs_needs_keyless_full_beside_it() {
        let files = AwsFiles::from_texts(
            "[profile a]\ncredential_process = keyless credential-process --profile a\n\
             [profile b]\ncredential_process = /home/me/bin/keyless credential-process --profile b\n",
            "",
        );
        let resolve = |p: &str| {
            Some(PathBuf::from(if p == "keyless" {
                "/usr/bin/keyless"
            } else {
                p
            }))
        };
        let exists = |p: &Path| p == Path::new("/usr/bin/keyless-full");
        let checks = companion_checks(&files, &resolve, &exists);
        assert_eq!(checks.len(), 2, "{checks:?}");
        let ok = checks.iter().find(|c| c.outcome == Outcome::Ok).unwrap();
        assert!(ok.summary.contains("/usr/bin/keyless"), "{ok:?}");
        let missing = checks.iter().find(|c| c.outcome == Outcome::Fail).unwrap();
        assert!(
            missing.summary.contains("/home/me/bin/keyless"),
            "{missing:?}"
        );
        assert!(missing.summary.contains("'b'"), "{missing:?}");
        assert!(
            missing.fix.as_deref().unwrap().contains("/home/me/bin"),
            "{missing:?}"
        );
    }

    #[test]
    fn text_shows_fixes() {
        let report = Report::new(vec![
            Check::new("store", Outcome::Ok, "fine"),
            Check::new("clock", Outcome::Fail, "off").fix("enable NTP"),
        ]);
        let mut out = Vec::new();
        write_text(&report, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("FAIL  clock      off"), "{text}");
        assert!(text.contains("fix: enable NTP"), "{text}");
        assert!(text.contains("1 problem(s)"), "{text}");
    }
}
