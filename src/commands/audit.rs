//! `keyless audit`: long-lived access keys across accounts, measured.
//!
//! Orchestration only: pick the accounts (Identity Center portal,
//! Organizations, one profile, or credential-report files), get the
//! credentials to enter each, collect ([`crate::audit::collect`]),
//! evaluate, render on stdout, and turn the result into the exit code
//! (0 nothing over a threshold, 1 findings, 2 something could not be
//! audited).

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;

use crate::hint::HintExt;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::UsageError;
use crate::audit::collect::collect;
use crate::audit::render::{self, Baseline};
use crate::audit::{self, AccountData, AccountInput, Options, People, report};
use crate::aws::{self, identitystore, organizations, sts::Sts};
use crate::cli::{AuditArgs, AuditFormat};
use crate::commands::Ctx;
use crate::config::resolve::RolePlan;

/// Where the accounts come from.
enum Source<'a> {
    Portal { session: &'a str, role: &'a str },
    Organization { profile: &'a str, role: &'a str },
    Profile(&'a str),
    Reports(&'a [std::path::PathBuf]),
}

/// Entry point from the CLI: the real stdout and stderr.
#[allow(clippy::disallowed_methods)] // the one stdout writer of this command
pub fn main(args: &AuditArgs) -> anyhow::Result<ExitCode> {
    // The one deliberate stdout writer of `audit`: the report.
    let mut out = std::io::stdout().lock();
    let stderr = std::io::stderr();
    let progress = stderr.is_terminal();
    let mut err = stderr.lock();
    run(args, &mut out, &mut err, progress)
}

pub fn run(
    args: &AuditArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: bool,
) -> anyhow::Result<ExitCode> {
    let source = source(args)?;
    if args.concurrency == 0 || args.account_timeout == 0 {
        return Err(
            UsageError("--concurrency and --account-timeout must be at least 1".into()).into(),
        );
    }
    if args.max_age < 1 || args.max_unused < 1 {
        return Err(UsageError("--max-age and --max-unused are days, at least 1".into()).into());
    }
    let now = OffsetDateTime::now_utc();
    let as_of = match &args.as_of {
        Some(text) => parse_date(text).ok_or_else(|| {
            crate::hint::hinted(
                UsageError(format!("--as-of '{text}' is not a date")),
                "write YYYY-MM-DD or an RFC 3339 time",
            )
        })?,
        None => now,
    };
    let mut options = Options::new(as_of);
    options.max_age_days = args.max_age;
    options.max_unused_days = args.max_unused;
    options.exempt_paths = args.exempt_path.clone();
    if let Some(path) = &args.people {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("audit: cannot read the people file {}", path.display()))?;
        let people = People::parse(&text);
        if people.is_empty() {
            return Err(crate::hint::hinted(
                anyhow::anyhow!("audit: the people file {} names nobody", path.display()),
                "give one user name or e-mail a line",
            ));
        }
        options.people = Some(people);
    }
    if let Some(store) = &args.identity_store_id {
        options.people = Some(identity_store_people(store, args.profile.as_deref())?);
    }
    let baseline = match &args.baseline {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("audit: cannot read the baseline {}", path.display()))?;
            Some(
                Baseline::parse(&text)
                    .with_context(|| format!("audit: baseline {}", path.display()))?,
            )
        }
        None => None,
    };

    let mut bar = Progress::new(progress);
    let inputs = match gather(&source, args, &mut |input: &AccountInput, total| {
        bar.tick(input, total)
    }) {
        Ok(inputs) => inputs,
        Err(e) => {
            bar.clear();
            writeln!(err, "{}", crate::error_report(&e.context("audit")))?;
            return Ok(ExitCode::from(2));
        }
    };
    bar.clear();

    let snap = audit::evaluate(&inputs, &options, now);
    match args.format {
        AuditFormat::Text => render::text(out, &snap, baseline.as_ref())?,
        AuditFormat::Json => render::json(out, &snap, baseline.as_ref())?,
        AuditFormat::Csv => render::csv(out, &snap, baseline.as_ref())?,
    }
    out.flush()?;

    for account in snap.accounts.iter().filter(|a| a.error.is_some()) {
        writeln!(
            err,
            "keyless: audit: account {}: {}",
            account.account_id,
            account.error.as_deref().unwrap_or_default()
        )?;
    }
    for n in &snap.not_evaluated {
        writeln!(
            err,
            "keyless: audit: not evaluated: {}: {}",
            n.kind.id(),
            n.reason
        )?;
    }
    let failing = snap.failing_findings();
    writeln!(
        err,
        "keyless: audit: {} account(s) audited, {} could not be; {failing} finding(s) over a threshold",
        snap.accounts.len() - snap.errors(),
        snap.errors()
    )?;
    Ok(if snap.errors() > 0 || snap.accounts.is_empty() {
        ExitCode::from(2)
    } else if failing > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn source(args: &AuditArgs) -> anyhow::Result<Source<'_>> {
    match (
        &args.sso_session,
        &args.role_name,
        &args.profile,
        args.organization,
        &args.assume_role_name,
        args.from_report.is_empty(),
    ) {
        (Some(session), Some(role), None, false, None, true) => {
            Ok(Source::Portal { session, role })
        }
        (None, None, Some(profile), true, Some(role), true) => {
            Ok(Source::Organization { profile, role })
        }
        (None, None, Some(profile), false, None, true) => Ok(Source::Profile(profile)),
        (None, None, None, false, None, false) => Ok(Source::Reports(&args.from_report)),
        _ => Err(crate::hint::hinted(
            UsageError("audit needs to know where the accounts come from".into()),
            "give --sso-session S --role-name R, --profile P --organization \
             --assume-role-name R, --profile P, or --from-report FILE…",
        )),
    }
}

/// The users of the identity store `store`, listed with the credentials
/// and region of `profile`, or the default ones.
fn identity_store_people(store: &str, profile: Option<&str>) -> anyhow::Result<People> {
    let entries = super::block_on(async {
        let config = aws::load(profile, true).await;
        identitystore::people(&config, store).await
    })?;
    let with = match profile {
        Some(p) => format!("profile '{p}'"),
        None => "the default credentials".to_string(),
    };
    let entries = entries
        .with_context(|| {
            format!("audit: cannot list the users of identity store {store} with {with}")
        })
        .hint(
            "the credentials need identitystore:ListUsers, and the region must be Identity \
             Center's (the profile's region or AWS_REGION); or give the people with --people FILE",
        )?;
    let people = People::from_entries(entries.iter().map(String::as_str));
    if people.is_empty() {
        return Err(crate::hint::hinted(
            anyhow::anyhow!("audit: identity store {store} has no users"),
            "check the ID (`aws sso-admin list-instances`), or give the people with --people FILE",
        ));
    }
    Ok(people)
}

/// `2027-03-01` (midnight UTC) or an RFC 3339 time.
fn parse_date(text: &str) -> Option<OffsetDateTime> {
    if let Ok(t) = OffsetDateTime::parse(text, &Rfc3339) {
        return Some(t);
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, &format)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

/// Collects every account of `source`. An error here means no account
/// could be audited at all (the list of accounts could not be had).
fn gather(
    source: &Source<'_>,
    args: &AuditArgs,
    done: &mut dyn FnMut(&AccountInput, usize),
) -> anyhow::Result<Vec<AccountInput>> {
    let concurrency = args.concurrency;
    let per_account = Duration::from_secs(args.account_timeout);
    match *source {
        Source::Reports(files) => Ok(from_reports(files)),
        Source::Profile(profile) => super::block_on(async {
            let config = aws::load(Some(profile), true).await;
            let account = Sts::new(&config)
                .account()
                .await
                .with_context(|| format!("cannot use profile '{profile}'"))
                .with_hint(|| {
                    format!(
                        "check its credentials (`aws sts get-caller-identity --profile {profile}`)"
                    )
                })?;
            Ok::<_, anyhow::Error>(
                collect(
                    &config,
                    vec![account],
                    1,
                    per_account,
                    |_| async { Ok(None) },
                    |i| done(i, 1),
                )
                .await,
            )
        })?,
        Source::Organization { profile, role } => super::block_on(async {
            let config = aws::load(Some(profile), true).await;
            let accounts = organizations::accounts(&config)
                .await
                .with_context(|| {
                    format!("cannot list the organization's accounts with profile '{profile}'")
                })
                .hint("use a profile of the management account or of a delegated administrator")?;
            let ids: Vec<String> = accounts.into_iter().map(|a| a.id).collect();
            let total = ids.len();
            let sts = Sts::new(&config);
            let sts = &sts;
            Ok::<_, anyhow::Error>(
                collect(
                    &config,
                    ids,
                    concurrency,
                    per_account,
                    |account| async move {
                        let arn = format!("arn:aws:iam::{account}:role/{role}");
                        sts.assume_role(&arn).await.map(Some).map_err(|e| {
                            format!(
                                "{e}; check that {arn} exists and trusts the profile's identity"
                            )
                        })
                    },
                    |i| done(i, total),
                )
                .await,
            )
        })?,
        Source::Portal { session, role } => portal(session, role, concurrency, per_account, done),
    }
}

/// The Identity Center route: the accounts the signed-in user sees, each
/// entered with `role` through keyless's own role-credential path (keyring
/// cache, locks, refresh).
fn portal(
    session_name: &str,
    role: &str,
    concurrency: usize,
    per_account: Duration,
    done: &mut dyn FnMut(&AccountInput, usize),
) -> anyhow::Result<Vec<AccountInput>> {
    let ctx = Ctx::load()?;
    let session = ctx.session_for(Some(session_name), None)?;
    let login_command = ctx.login_command(&session, None);
    // Signed in? Asked before the async runtime starts, which also opens
    // the keyring connection outside it, as credential-process does.
    if crate::store::load_token(&ctx.store(&session), &session.name)?.is_none() {
        return Err(crate::hint::hinted(
            anyhow::anyhow!(
                "not signed in to sso-session '{}' (or the session expired)",
                session.name
            ),
            format!("run `{login_command}`"),
        ));
    }
    ctx.with_auth(&session, None, async |auth| {
        let token = auth.access_token(&session, None).await?;
        let accounts = auth
            .identity_center
            .accounts(&token)
            .await
            .context("cannot list the accounts of the portal")?;
        let ids: Vec<String> = accounts.into_iter().map(|a| a.account_id).collect();
        let total = ids.len();
        let config = aws::load(None, false).await;
        let session = &session;
        Ok::<_, anyhow::Error>(
            collect(
                &config,
                ids,
                concurrency,
                per_account,
                |account_id| async move {
                    let plan = RolePlan {
                        profile: None,
                        session: session.clone(),
                        account_id,
                        role_name: role.to_string(),
                        auto_login: false,
                    };
                    let creds = auth
                        .role_credentials(&plan)
                        .await
                        .map_err(|e| format!("role {role}: {e}"))?;
                    let expiry = u64::try_from(creds.expiration)
                        .ok()
                        .map(|s| SystemTime::UNIX_EPOCH + Duration::from_secs(s));
                    Ok(Some(aws_sdk_iam::config::Credentials::new(
                        creds.access_key_id.clone(),
                        creds.secret_access_key.expose().clone(),
                        Some(creds.session_token.expose().clone()),
                        expiry,
                        "keyless",
                    )))
                },
                |i| done(i, total),
            )
            .await,
        )
    })?
}

/// The offline route: each file's rows, grouped by the account in their
/// ARNs. A file that cannot be read is an account in error, named by path.
fn from_reports(files: &[std::path::PathBuf]) -> Vec<AccountInput> {
    let mut inputs: Vec<AccountInput> = Vec::new();
    for file in files {
        match read_report(file) {
            Ok(rows) => {
                for row in rows {
                    match inputs.iter_mut().find(|i| i.account_id == row.account_id) {
                        Some(AccountInput {
                            result: Ok(data), ..
                        }) => data.report.push(row),
                        _ => inputs.push(AccountInput {
                            account_id: row.account_id.clone(),
                            result: Ok(AccountData {
                                report: vec![row],
                                ..Default::default()
                            }),
                        }),
                    }
                }
            }
            Err(message) => inputs.push(AccountInput {
                account_id: file.display().to_string(),
                result: Err(message),
            }),
        }
    }
    inputs
}

fn read_report(file: &Path) -> Result<Vec<report::ReportRow>, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    report::parse(&text).map_err(|e| {
        format!(
            "{}: {e} (get one with: aws iam generate-credential-report, then aws iam get-credential-report)",
            file.display()
        )
    })
}

/// A one-line progress count on stderr, only on a terminal.
struct Progress {
    enabled: bool,
    done: usize,
    errors: usize,
    drawn: bool,
}

impl Progress {
    fn new(enabled: bool) -> Progress {
        Progress {
            enabled,
            done: 0,
            errors: 0,
            drawn: false,
        }
    }

    fn tick(&mut self, input: &AccountInput, total: usize) {
        self.done += 1;
        self.errors += usize::from(input.result.is_err());
        if self.enabled {
            super::progress(format_args!(
                "\rkeyless: audit: {}/{total} accounts ({} could not be audited)",
                self.done, self.errors
            ));
            self.drawn = true;
        }
    }

    fn clear(&mut self) {
        if self.drawn {
            super::progress(format_args!("\r\x1b[2K"));
            self.drawn = false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_date;
    use time::macros::datetime;

    #[test]
    fn dates() {
        assert_eq!(
            parse_date("2027-03-01"),
            Some(datetime!(2027-03-01 00:00 UTC))
        );
        assert_eq!(
            parse_date("2027-03-01T12:00:00Z"),
            Some(datetime!(2027-03-01 12:00 UTC))
        );
        assert_eq!(parse_date("March"), None);
        assert_eq!(parse_date("2027-13-01"), None);
    }
}
