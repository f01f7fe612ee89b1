//! `keyless policy scp|rcp|alert`: generate a guardrail, check it, print it.
//!
//! Orchestration only: map the command line onto [`crate::policy`]'s
//! options, turn a bad option value into a usage error (exit 2), print
//! notes and (with `--explain`) explanations on stderr and the checked
//! document on stdout.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::UsageError;
use crate::cli::{AlertFormat, AlertRule, PolicyArgs, PolicyCommand, ScpPart};
use crate::policy::alert::{self, AlertOptions};
use crate::policy::rcp::{self, RcpOptions};
use crate::policy::scp::{self, Part, ScpOptions};
use crate::policy::{PolicyError, write_document, write_explanations};

/// Entry point from the CLI: the real stdout and stderr.
#[allow(clippy::disallowed_methods)] // the policy document's one stdout writer
pub(crate) fn main(args: &PolicyArgs) -> anyhow::Result<ExitCode> {
    // The one deliberate stdout writer of `policy`: the document.
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    run(args, &mut out, &mut err)
}

pub(crate) fn run(
    args: &PolicyArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let (name, generated, explain) = match &args.command {
        PolicyCommand::Scp(a) => (
            "policy scp",
            scp::generate(&ScpOptions {
                exempt_path: a.exempt_path.clone(),
                allow_roles: a.allow_role.clone(),
                only: a
                    .only
                    .iter()
                    .map(|p| match p {
                        ScpPart::Usage => Part::Usage,
                        ScpPart::Issuance => Part::Issuance,
                        ScpPart::Root => Part::Root,
                    })
                    .collect(),
                max_size: a.max_size,
            }),
            a.explain,
        ),
        PolicyCommand::Rcp(a) => (
            "policy rcp",
            rcp::generate(&RcpOptions {
                exempt_path: a.exempt_path.clone(),
                max_size: a.max_size,
            }),
            a.explain,
        ),
        PolicyCommand::Alert(a) => (
            "policy alert",
            alert::generate(&AlertOptions {
                format: match a.format {
                    AlertFormat::Pattern => alert::Format::Pattern,
                    AlertFormat::Cloudformation => alert::Format::CloudFormation,
                    AlertFormat::Terraform => alert::Format::Terraform,
                },
                central_bus: a.central_bus.clone(),
                sns_topic_name: a.sns_topic_name.clone(),
                rules: a
                    .rule
                    .iter()
                    .map(|r| match r {
                        AlertRule::Issuance => alert::Rule::Issuance,
                        AlertRule::Denied => alert::Rule::Denied,
                    })
                    .collect(),
            }),
            a.explain,
        ),
    };
    let generated = generated.map_err(|e| failure(name, e))?;
    for note in &generated.notes {
        writeln!(err, "keyless: {name}: note: {note}")?;
    }
    if explain {
        write_explanations(err, &generated)?;
    }
    write_document(out, &generated).with_context(|| format!("{name}: cannot write the output"))?;
    Ok(ExitCode::SUCCESS)
}

/// A bad option value is a usage error (exit 2); a generated document that
/// fails its own checks is a bug (exit 1).
fn failure(name: &str, error: PolicyError) -> anyhow::Error {
    if error.is_usage() {
        let usage = UsageError(format!("{name}: {error}"));
        match error.hint() {
            Some(hint) => crate::hint::hinted(usage, hint),
            None => usage.into(),
        }
    } else {
        crate::hint::hinted(
            anyhow::Error::new(error).context(format!(
                "{name}: the generated document failed its own checks, so nothing was printed"
            )),
            "this is a bug in keyless: please report it with the command line used",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn run_line(line: &[&str]) -> (anyhow::Result<ExitCode>, String, String) {
        let mut argv = vec!["keyless", "policy"];
        argv.extend_from_slice(line);
        let cli = crate::cli::Cli::try_parse_from(argv).unwrap();
        let crate::cli::Command::Policy(args) = cli.command else {
            unreachable!()
        };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let result = run(&args, &mut out, &mut err);
        (
            result,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn scp_prints_the_document_and_explains_on_stderr() {
        let (result, out, err) = run_line(&["scp", "--explain"]);
        assert_eq!(result.unwrap(), ExitCode::SUCCESS);
        assert!(
            out.starts_with(r#"{"Version":"2012-10-17""#) && out.ends_with("}\n"),
            "{out}"
        );
        assert_eq!(out.lines().count(), 1);
        for sid in [scp::SID_USAGE, scp::SID_ISSUANCE, scp::SID_ROOT] {
            assert!(err.contains(&format!("{sid}: (")), "{err}");
        }
        assert!(
            err.contains("keyless: policy scp: note: no --allow-role"),
            "{err}"
        );
        let (_, _, quiet) = run_line(&["scp", "--only", "usage,root"]);
        assert_eq!(quiet, "");
    }

    #[test]
    fn bad_values_are_usage_errors_naming_the_option() {
        for (line, expected) in [
            (
                &["scp", "--exempt-path", "/"][..],
                "policy scp: --exempt-path: ",
            ),
            (
                &["scp", "--allow-role", "BreakGlass"][..],
                "policy scp: --allow-role BreakGlass: ",
            ),
            (&["rcp", "--max-size", "0"][..], "policy rcp: --max-size 0"),
            (
                &[
                    "alert",
                    "--central-bus",
                    "arn:aws:sns:us-east-1:111122223333:t",
                ][..],
                "policy alert: --central-bus",
            ),
        ] {
            let (result, out, _) = run_line(line);
            let error = result.unwrap_err();
            assert!(crate::hint::is::<UsageError>(&error), "{line:?}: {error:#}");
            assert!(error.to_string().starts_with(expected), "{error}");
            assert_eq!(out, "", "nothing printed on a refusal");
        }
    }
}
