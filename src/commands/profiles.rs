//! `keyless profiles sync`, and what `onboard` and `retire` share with it:
//! reading the two AWS files for editing, signing in and discovering, and
//! writing the edits (or showing them as a diff) after a backup.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{ProfilesArgs, ProfilesCommand, ProfilesSyncArgs};
use crate::commands::{Ctx, say, warn};
use crate::config::AwsFiles;
use crate::config::ini::FileKind;
use crate::config::resolve::{self, SsoSession};
use crate::ini_edit::{AwsFileText, Editor};
use crate::onboard::backup::Backup;
use crate::onboard::{
    self, DEFAULT_TEMPLATE, Discovered, MANAGED_KEY, REGION_KEY, SyncOptions, SyncReport,
    TEMPLATE_KEY, Template, discover,
};

pub fn run(args: &ProfilesArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        ProfilesCommand::Sync(sync) => run_sync(sync),
    }
}

/// Both AWS files, as read for editing.
pub struct EditFiles {
    pub config: AwsFileText,
    pub credentials: AwsFileText,
}

impl EditFiles {
    pub fn read(ctx: &Ctx) -> anyhow::Result<EditFiles> {
        let read = |kind| {
            let path = ctx.env.path(kind);
            let display = ctx.env.display_path(&path);
            AwsFileText::read(kind, &path, display)
        };
        Ok(EditFiles {
            config: read(FileKind::Config)?,
            credentials: read(FileKind::Credentials)?,
        })
    }

    /// Editors for both files; a byte-order mark is warned about once.
    pub fn editors(&self) -> anyhow::Result<(Editor, Editor)> {
        let config = self.config.editor()?;
        let credentials = self.credentials.editor()?;
        for (editor, file) in [(&config, &self.config), (&credentials, &self.credentials)] {
            if editor.bom() {
                warn(format_args!(
                    "keyless: warning: {path} starts with a UTF-8 byte-order mark, which the AWS \
                     CLI and botocore cannot read. keyless kept it; remove it by saving the file \
                     as UTF-8 without BOM, e.g. sed -i '1s/^\\xEF\\xBB\\xBF//' {path}",
                    path = file.display
                ));
            }
        }
        Ok((config, credentials))
    }

    /// Writes the files whose text changed, after a backup; with
    /// `dry_run`, prints the diff on stdout instead and writes nothing.
    /// Returns the backup.
    pub fn write(
        &self,
        command: &str,
        config: &Editor,
        credentials: &Editor,
        dry_run: bool,
    ) -> anyhow::Result<Option<Backup>> {
        let changes = self.changes(config, credentials);
        if dry_run {
            print_diff(&changes)?;
            return Ok(None);
        }
        if changes.is_empty() {
            return Ok(None);
        }
        let backup = Backup::create(&backup_root()?, command, &now_rfc3339(), &changes)
            .context("cannot save a backup of the AWS files, so nothing was changed")?;
        write_all(&changes, &backup)?;
        Ok(Some(backup))
    }

    /// `(file, new bytes)` for each file whose bytes change.
    pub fn changes(&self, config: &Editor, credentials: &Editor) -> Vec<(&AwsFileText, Vec<u8>)> {
        [(&self.config, config), (&self.credentials, credentials)]
            .into_iter()
            .filter_map(|(file, editor)| {
                let new = editor.render().into_bytes();
                (new != file.bytes()).then_some((file, new))
            })
            .collect()
    }
}

/// Writes each file (each refuses if it changed on disk since it was read).
pub fn write_all(changes: &[(&AwsFileText, Vec<u8>)], backup: &Backup) -> anyhow::Result<()> {
    for (index, (file, bytes)) in changes.iter().enumerate() {
        if let Err(e) = file.write(bytes) {
            if index == 0 {
                return Err(e.into());
            }
            let then = e.hint().map(|h| format!(", then {h}")).unwrap_or_default();
            let undo = format!(
                "{} was already written: undo it with `keyless retire --restore {}`{then}",
                changes[0].0.display,
                backup.dir.display()
            );
            return Err(crate::hint::hinted(e, undo));
        }
    }
    Ok(())
}

#[allow(clippy::disallowed_methods)] // the dry-run diff is this command's data
fn print_diff(changes: &[(&AwsFileText, Vec<u8>)]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    for (file, new) in changes {
        out.write_all(onboard::diff(file.bytes(), new, &file.display).as_bytes())?;
    }
    out.flush()?;
    say(format_args!(
        "keyless: dry run: {} file(s) would change; nothing was written.",
        changes.len()
    ));
    Ok(())
}

/// Where backups go: `backups/` in keyless's state directory.
pub fn backup_root() -> anyhow::Result<PathBuf> {
    Ok(crate::store::StateFile::from_env()?.dir().join("backups"))
}

pub fn now_rfc3339() -> String {
    crate::credentials::rfc3339(crate::credentials::now())
}

/// The AWS files as they would read after the edits (without a BOM, which
/// keyless warns about but reads past).
pub fn in_memory(config: &Editor, credentials: &Editor) -> AwsFiles {
    let strip = |text: String| {
        text.strip_prefix('\u{feff}')
            .map(str::to_string)
            .unwrap_or(text)
    };
    AwsFiles::from_bytes(
        strip(config.render()).as_bytes(),
        strip(credentials.render()).as_bytes(),
    )
}

/// Signs in to `session` when needed (`interactive`), or requires a valid
/// sign-in, then discovers its accounts and roles. Progress is shown only
/// on a terminal.
pub fn sign_in_and_discover(
    ctx: &Ctx,
    session: &SsoSession,
    interactive: Option<crate::commands::login::Method>,
    open_browser: bool,
) -> anyhow::Result<Vec<Discovered>> {
    let show = std::io::stderr().is_terminal() && !crate::commands::quiet();
    let mut ui = crate::terminal::TerminalUi::stderr(open_browser);
    let found = ctx.with_auth(session, None, async |auth| {
        if let Some(method) = interactive {
            crate::commands::login::sign_in(ctx, auth, session, method, &mut ui, true).await?;
        }
        let token = auth.access_token(session, None).await?;
        let mut progress = |done: usize, total: usize| {
            if show {
                crate::commands::progress(format_args!(
                    "\rkeyless: discovering roles: {done}/{total} accounts"
                ));
            }
        };
        let found = discover::discover(auth.identity_center, &token, &mut progress).await;
        if show {
            crate::commands::progress(format_args!("\r\x1b[K"));
        }
        found.context("cannot discover the accounts and roles")
    })??;
    Ok(found)
}

/// The template and default region recorded in the sso-session, if any.
pub fn session_defaults(files: &AwsFiles, session: &str) -> (Option<String>, Option<String>) {
    let section = files.sso_session(session);
    let get = |key| section.and_then(|s| s.get(key)).map(str::to_string);
    (get(TEMPLATE_KEY), get(REGION_KEY))
}

/// Prints what a sync did, on stderr.
pub fn report_sync(session: &str, report: &SyncReport, dry_run: bool) {
    let would = if dry_run { "would be " } else { "" };
    say(format_args!(
        "keyless: sso-session '{session}': {} profile(s) {would}added, {} {would}updated, {} \
         unchanged, {} {would}converted.",
        report.added.len(),
        report.updated.len(),
        report.unchanged.len(),
        report.converted.len()
    ));
    for (wanted, given) in &report.renamed {
        say(format_args!(
            "keyless: the name '{wanted}' is taken by a profile keyless did not write, so the new \
             profile is '{given}'."
        ));
    }
    if !report.gone.is_empty() && report.pruned.is_empty() {
        say(format_args!(
            "keyless: no longer assigned in Identity Center, kept: {}. Remove them with keyless \
             profiles sync --sso-session {session} --prune",
            report.gone.join(", ")
        ));
    }
    if !report.pruned.is_empty() {
        say(format_args!(
            "keyless: removed (no longer assigned): {}.",
            report.pruned.join(", ")
        ));
    }
    if !report.convertible.is_empty() {
        say(format_args!(
            "keyless: AWS-CLI SSO profiles of this sso-session that keyless can take over (their \
             names stay): {}. Run with --convert to do so.",
            report.convertible.join(", ")
        ));
    }
}

/// The sso-sessions to sync: the one named, else those with managed
/// profiles, else the only one.
fn sessions_to_sync(files: &AwsFiles, asked: Option<&str>) -> anyhow::Result<Vec<String>> {
    if let Some(name) = asked {
        return Ok(vec![name.to_string()]);
    }
    let mut managed: Vec<String> = files
        .profiles()
        .filter_map(|p| p.get(MANAGED_KEY).map(str::to_string))
        .collect();
    managed.sort();
    managed.dedup();
    if !managed.is_empty() {
        return Ok(managed);
    }
    Ok(vec![only_sso_session(files, "profiles sync")?])
}

/// The one sso-session of the config file, for `purpose`; a usage error
/// naming the way forward when there is none or more than one.
pub fn only_sso_session(files: &AwsFiles, purpose: &str) -> anyhow::Result<String> {
    let all: Vec<String> = files.sso_sessions().map(|s| s.name.clone()).collect();
    match all.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(crate::hint::hinted(
            crate::UsageError(format!(
                "{purpose} needs an [sso-session] in the config file"
            )),
            "set one up with `keyless onboard --start-url URL --sso-region REGION`",
        )),
        many => Err(crate::hint::hinted(
            crate::UsageError(format!(
                "{purpose}: several sso-sessions ({})",
                many.join(", ")
            )),
            "name one with --sso-session NAME",
        )),
    }
}

fn run_sync(args: &ProfilesSyncArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    let files = EditFiles::read(&ctx)?;
    let (mut config, credentials) = files.editors()?;
    let current = in_memory(&config, &credentials);
    let sessions = sessions_to_sync(&current, args.sso_session.as_deref())?;
    let mut reports = Vec::new();
    for name in &sessions {
        let session = resolve::resolve_session(&current, name)?;
        let (template, region) = session_defaults(&current, name);
        let template = Template::parse(template.as_deref().unwrap_or(DEFAULT_TEMPLATE))
            .map_err(anyhow::Error::new)
            .with_context(|| format!("[sso-session {name}] {TEMPLATE_KEY}"))?;
        let found = sign_in_and_discover(&ctx, &session, None, false)?;
        let options = SyncOptions {
            session: name,
            start_url: &session.start_url,
            template: &template,
            default_region: region.as_deref(),
            prune: args.prune,
            convert: args.convert,
        };
        let report = onboard::sync_profiles(&mut config, Some(&credentials), &found, &options);
        reports.push((name, report));
    }
    let backup = files.write("profiles-sync", &config, &credentials, args.dry_run)?;
    for (name, report) in &reports {
        report_sync(name, report, args.dry_run);
    }
    if let Some(backup) = backup {
        say(format_args!(
            "keyless: wrote {}; the previous version is saved in {} (undo: keyless retire \
             --restore {}).",
            files.config.display,
            backup.dir.display(),
            crate::commands::shell_word(&backup.dir.display().to_string())
        ));
    }
    Ok(ExitCode::SUCCESS)
}
