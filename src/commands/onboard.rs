//! `keyless onboard`: from static keys to keyless profiles in one command.
//! Writes (or reuses) the sso-session, signs in, discovers every account
//! and role, writes one profile per role, then offers to retire the static
//! keys those profiles replace.

use std::process::ExitCode;

use crate::cli::OnboardArgs;
use crate::commands::profiles::{self, EditFiles, in_memory};
use crate::commands::{Ctx, say, shell_word};
use crate::config::resolve;
use crate::hint::Problem;
use crate::onboard::{self, DEFAULT_TEMPLATE, SyncOptions, Template};

pub fn run(args: &OnboardArgs) -> anyhow::Result<ExitCode> {
    let template_text = args.profile_template.as_deref();
    let template = match template_text {
        Some(text) => Some(Template::parse(text).map_err(Problem::usage)?),
        None => None,
    };
    if !args.start_url.starts_with("https://") && !args.start_url.starts_with("http://") {
        return Err(crate::hint::hinted(
            crate::UsageError(format!(
                "--start-url {}: not an https:// URL",
                args.start_url
            )),
            "give the AWS access portal URL, e.g. https://d-1234567890.awsapps.com/start",
        ));
    }
    let ctx = Ctx::load()?;
    let files = EditFiles::read(&ctx)?;
    let (mut config, credentials) = files.editors()?;

    let name = match &args.sso_session {
        Some(name) => name.clone(),
        None => onboard::session_for_url(&config, &args.start_url)
            .unwrap_or_else(|| onboard::session_name_from_url(&args.start_url)),
    };
    if !crate::config::ini::is_valid_identifier(&name) || name.is_empty() {
        return Err(crate::hint::hinted(
            crate::UsageError(format!("--sso-session '{name}' is not a usable name")),
            "use letters, digits, '-', '_' or '.'",
        ));
    }
    let change = onboard::ensure_sso_session(
        &mut config,
        &name,
        &args.start_url,
        &args.sso_region,
        template_text,
        args.default_region.as_deref(),
        args.pkce,
    )
    .map_err(Problem::usage)?;
    let planned = in_memory(&config, &credentials);
    let session = resolve::resolve_session(&planned, &name)?;
    let (recorded_template, recorded_region) = profiles::session_defaults(&planned, &name);
    let template = match template {
        Some(t) => t,
        None => Template::parse(recorded_template.as_deref().unwrap_or(DEFAULT_TEMPLATE))
            .map_err(Problem::usage)?,
    };
    let region = args.default_region.clone().or(recorded_region);

    say(format_args!(
        "keyless: {} sso-session '{name}' ({}, {}).",
        match change {
            onboard::SessionChange::Written => "setting up",
            _ => "using",
        },
        session.start_url,
        session.region
    ));
    let method = super::login::method(&session, false, args.no_browser);
    let found = profiles::sign_in_and_discover(&ctx, &session, Some(method), !args.no_browser)?;
    let roles: usize = found.iter().map(|a| a.roles.len()).sum();
    say(format_args!(
        "keyless: found {roles} role(s) in {} account(s).",
        found.len()
    ));

    let options = SyncOptions {
        session: &name,
        start_url: &session.start_url,
        template: &template,
        default_region: region.as_deref(),
        prune: false,
        convert: args.convert,
    };
    let report = onboard::sync_profiles(&mut config, Some(&credentials), &found, &options);
    let backup = files.write("onboard", &config, &credentials, args.dry_run)?;
    profiles::report_sync(&name, &report, args.dry_run);
    if let Some(backup) = &backup {
        say(format_args!(
            "keyless: wrote {}; the previous version is saved in {} (undo: keyless retire \
             --restore {}).",
            files.config.display,
            backup.dir.display(),
            shell_word(&backup.dir.display().to_string())
        ));
    }

    // The static keys those profiles replace.
    let ctx = Ctx::load()?;
    let retire_options = super::retire::Options {
        profiles: Vec::new(),
        maps: Vec::new(),
        session: None,
        deactivate: false,
        yes: args.yes,
        dry_run: args.dry_run,
        offer: true,
    };
    let outcome = if args.dry_run {
        // The new profiles are not written, so no replacement can be
        // proven yet: list the keys.
        let keys = {
            let (c, k) = EditFiles::read(&ctx)?.editors()?;
            let mut keys = onboard::retire::static_keys(&k);
            keys.extend(onboard::retire::static_keys(&c));
            keys
        };
        for key in &keys {
            say(format_args!(
                "keyless: dry run: would offer to retire {} of profile '{}'.",
                key.key_id, key.profile
            ));
        }
        super::retire::Outcome {
            found: keys.len(),
            ..Default::default()
        }
    } else {
        super::retire::retire(&ctx, &retire_options)?
    };

    let example = report
        .profiles
        .keys()
        .next()
        .cloned()
        .unwrap_or_else(|| "PROFILE".into());
    say(format_args!(
        "\nkeyless: onboarding {}: {} profile(s) for sso-session '{name}' ({} new), {} long-lived \
         key(s) found, {} retired{}.",
        if args.dry_run { "dry run" } else { "done" },
        report.profiles.len(),
        report.added.len(),
        outcome.found,
        outcome.retired.len(),
        if outcome.kept.is_empty() {
            String::new()
        } else {
            format!(", {} kept", outcome.kept.len())
        }
    ));
    if !args.dry_run {
        say(format_args!(
            "Next:\n  aws sts get-caller-identity --profile {}\n  keyless profiles sync        \
             (when roles change)\n  keyless scan                 (any long-lived key left?)",
            shell_word(&example)
        ));
        if !outcome.kept.is_empty() {
            say(format_args!(
                "  keyless retire --dry-run     (the keys kept, and what retiring them would change)"
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
