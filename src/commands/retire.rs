//! `keyless retire`: moves long-lived keys out of the AWS files once a
//! keyless profile for the same account has returned credentials; with
//! `--deactivate` also sets them Inactive in IAM; `--restore` undoes it.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use anyhow::Context;
use aws_sdk_iam::config::{Credentials as SdkCredentials, SharedCredentialsProvider};

use crate::aws::{self, iam::Iam, sts::Sts};
use crate::cli::RetireArgs;
use crate::commands::profiles::{EditFiles, in_memory, write_all};
use crate::commands::{Ctx, block_on, say, shell_word, warn};
use crate::config::ini::FileKind;
use crate::config::resolve::{Request, resolve_role};
use crate::ini_edit::{AwsFileText, Editor};
use crate::onboard::backup::{Backup, DeactivatedKey, sha256};
use crate::onboard::retire::{self as plan, Mapping, StaticKey};
use crate::scan::keyid::Account;

/// What to retire and how.
pub struct Options {
    pub profiles: Vec<String>,
    pub maps: Vec<Mapping>,
    pub session: Option<String>,
    pub deactivate: bool,
    pub yes: bool,
    pub dry_run: bool,
    /// Called from `onboard`: without a terminal and `--yes`, list the keys
    /// and leave them, rather than fail.
    pub offer: bool,
}

/// What happened.
#[derive(Debug, Default)]
pub struct Outcome {
    pub found: usize,
    /// `(profile, key ID, replacement profile)`.
    pub retired: Vec<(String, String, String)>,
    /// `(profile, key ID, why it was kept)`.
    pub kept: Vec<(String, String, String)>,
}

pub fn run(args: &RetireArgs) -> anyhow::Result<ExitCode> {
    let ctx = Ctx::load()?;
    if let Some(backup) = &args.restore {
        return restore(&ctx, backup);
    }
    let maps = args
        .map
        .iter()
        .map(|m| Mapping::parse(m).map_err(crate::UsageError))
        .collect::<Result<Vec<_>, _>>()?;
    let options = Options {
        profiles: args.profile.clone(),
        maps,
        session: args.sso_session.clone(),
        deactivate: args.deactivate,
        yes: args.yes,
        dry_run: args.dry_run,
        offer: false,
    };
    let outcome = retire(&ctx, &options)?;
    if outcome.found == 0 {
        say(format_args!(
            "keyless: no long-lived access key in the AWS files; nothing to retire."
        ));
    }
    Ok(if outcome.kept.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// One key and the profile that proved a replacement.
struct Proven<'a> {
    key: &'a StaticKey,
    replacement: String,
    mapped: Option<&'a Mapping>,
}

pub fn retire(ctx: &Ctx, options: &Options) -> anyhow::Result<Outcome> {
    let files = EditFiles::read(ctx)?;
    let (config, credentials) = files.editors()?;
    let mut keys = plan::static_keys(&credentials);
    keys.extend(plan::static_keys(&config));
    for asked in options
        .profiles
        .iter()
        .chain(options.maps.iter().map(|m| &m.profile))
    {
        if !keys.iter().any(|k| &k.profile == asked) {
            return Err(crate::hint::hinted(
                crate::UsageError(format!(
                    "profile '{asked}' has no long-lived access key in the AWS files"
                )),
                "`keyless scan` lists the keys there are",
            ));
        }
    }
    if !options.profiles.is_empty() {
        keys.retain(|k| {
            options.profiles.contains(&k.profile)
                || options.maps.iter().any(|m| m.profile == k.profile)
        });
    }
    let mut outcome = Outcome {
        found: keys.len(),
        ..Outcome::default()
    };
    if keys.is_empty() {
        return Ok(outcome);
    }
    let session = if options.maps.is_empty() {
        None
    } else {
        Some(map_session(
            &in_memory(&config, &credentials),
            options.session.as_deref(),
        )?)
    };

    // The files as they would be with every key gone and every mapping
    // made: each proof is made against that.
    let planned = |only: &dyn Fn(&StaticKey) -> bool| -> anyhow::Result<(Editor, Editor)> {
        let (mut config, mut credentials) = (files.config.editor()?, files.credentials.editor()?);
        for key in keys.iter().filter(|k| only(k)) {
            let editor = match key.file {
                FileKind::Config => &mut config,
                FileKind::Credentials => &mut credentials,
            };
            plan::remove_key(editor, key);
        }
        for map in &options.maps {
            if keys.iter().any(|k| k.profile == map.profile && only(k)) {
                plan::map_profile(&mut config, map, session.as_deref().unwrap_or_default());
            }
        }
        Ok((config, credentials))
    };
    let (all_config, all_credentials) = planned(&|_| true)?;
    let after = in_memory(&all_config, &all_credentials);
    let retiring: Vec<String> = keys.iter().map(|k| k.profile.clone()).collect();

    let mut proven = Vec::new();
    for key in &keys {
        let mapped = options.maps.iter().find(|m| m.profile == key.profile);
        match prove(ctx, &after, &all_config, key, mapped, &retiring) {
            Ok(replacement) => proven.push(Proven {
                key,
                replacement,
                mapped,
            }),
            Err(why) => {
                warn(format_args!(
                    "keyless: kept {} of profile '{}': {why}",
                    key.key_id, key.profile
                ));
                outcome
                    .kept
                    .push((key.profile.clone(), key.key_id.clone(), why));
            }
        }
    }
    if proven.is_empty() {
        return Ok(outcome);
    }
    for p in &proven {
        let how = match p.mapped {
            Some(_) => format!("profile '{}' now signs in through keyless", p.replacement),
            None => format!("use profile '{}' (same account)", p.replacement),
        };
        say(format_args!(
            "keyless: {} {} of profile '{}' (in {}): {how}.",
            if options.dry_run {
                "would retire"
            } else {
                "retiring"
            },
            p.key.key_id,
            p.key.profile,
            crate::scan::aws_files::file_label(p.key.file)
        ));
    }

    let is_proven = |k: &StaticKey| proven.iter().any(|p| std::ptr::eq(p.key, k));
    let (config, credentials) = planned(&is_proven)?;
    if options.dry_run {
        if options.deactivate {
            say(format_args!(
                "keyless: dry run: would also set {} key(s) Inactive in IAM (no IAM call was made).",
                proven.len()
            ));
        }
        files.write("retire", &config, &credentials, true)?;
        return Ok(outcome);
    }
    if !options.yes && !confirm(proven.len(), options.deactivate)? {
        if options.offer {
            say(format_args!(
                "keyless: left the keys where they are. Retire them later with keyless retire \
                 (or keyless retire --yes without a terminal)."
            ));
            for p in &proven {
                outcome.kept.push((
                    p.key.profile.clone(),
                    p.key.key_id.clone(),
                    "not confirmed".into(),
                ));
            }
            return Ok(outcome);
        }
        return Err(crate::hint::hinted(
            anyhow::anyhow!("retire changes the AWS files and was not confirmed"),
            "run `keyless retire --yes`, or look first with `keyless retire --dry-run`",
        ));
    }

    // Backup first, then IAM, then the files.
    let changes = files.changes(&config, &credentials);
    let mut backup = Backup::create(
        &super::profiles::backup_root()?,
        "retire",
        &super::profiles::now_rfc3339(),
        &changes,
    )
    .context("cannot save a backup of the AWS files, so nothing was changed")?;
    let mut failed = Vec::new();
    if options.deactivate {
        for p in &proven {
            match block_on(deactivate(p.key))? {
                Ok(user) => {
                    backup.manifest.deactivated.push(DeactivatedKey {
                        access_key_id: p.key.key_id.clone(),
                        user_name: user,
                        profile: p.key.profile.clone(),
                    });
                    backup
                        .save()
                        .context("cannot update the backup's manifest")?;
                }
                Err(why) => {
                    warn(format_args!(
                        "keyless: kept {} of profile '{}': could not deactivate it: {why}",
                        p.key.key_id, p.key.profile
                    ));
                    failed.push(p.key.key_id.clone());
                    outcome.kept.push((
                        p.key.profile.clone(),
                        p.key.key_id.clone(),
                        format!("could not deactivate it: {why}"),
                    ));
                }
            }
        }
    }
    proven.retain(|p| !failed.contains(&p.key.key_id));
    let is_proven = |k: &StaticKey| proven.iter().any(|p| std::ptr::eq(p.key, k));
    let (config, credentials) = planned(&is_proven)?;
    let changes = files.changes(&config, &credentials);
    for entry in &mut backup.manifest.files {
        let written = changes
            .iter()
            .find(|(f, _)| std::path::absolute(&f.path).ok().as_ref() == Some(&entry.path));
        entry.written_sha256 = match written {
            Some((_, bytes)) => sha256(bytes),
            None => entry.original_sha256.clone(),
        };
    }
    backup
        .save()
        .context("cannot update the backup's manifest")?;
    write_all(&changes, &backup)?;
    let dir = shell_word(&backup.dir.display().to_string());
    if !proven.is_empty() {
        say(format_args!(
            "keyless: retired {} key(s){}. The original files are saved in {} (0600); undo with \
             keyless retire --restore {dir}",
            proven.len(),
            if options.deactivate {
                " and set them Inactive in IAM"
            } else {
                ""
            },
            backup.dir.display()
        ));
    }
    outcome.retired = proven
        .iter()
        .map(|p| {
            (
                p.key.profile.clone(),
                p.key.key_id.clone(),
                p.replacement.clone(),
            )
        })
        .collect();
    Ok(outcome)
}

/// The sso-session for `--map`: the one named, or the only one.
fn map_session(files: &crate::config::AwsFiles, asked: Option<&str>) -> anyhow::Result<String> {
    if let Some(name) = asked {
        crate::config::resolve::resolve_session(files, name)?;
        return Ok(name.to_string());
    }
    super::profiles::only_sso_session(files, "--map")
}

/// The profile that proved a working replacement for `key`, or why none
/// could: credentials from keyless for a profile of the key's account.
fn prove(
    ctx: &Ctx,
    after: &crate::config::AwsFiles,
    config: &Editor,
    key: &StaticKey,
    mapped: Option<&Mapping>,
    retiring: &[String],
) -> Result<String, String> {
    let map_hint = format!("give --map {}=ACCOUNT/ROLE", shell_word(&key.profile));
    let candidates = match (mapped, &key.account) {
        (Some(m), Account::Decoded(decoded)) if decoded != &m.account_id => {
            return Err(format!(
                "the key belongs to account {decoded}, but --map names account {}; check the \
                 account and run again",
                m.account_id
            ));
        }
        (Some(m), _) => vec![m.profile.clone()],
        (None, Account::Decoded(account)) => {
            let found = plan::replacements(config, account, retiring);
            if found.is_empty() {
                return Err(format!(
                    "no keyless profile for its account {account} returns credentials: run \
                     keyless profiles sync (or keyless onboard) if you have a role there, or \
                     {map_hint}"
                ));
            }
            found
        }
        (None, _) => {
            return Err(format!(
                "its account is not encoded in the key ID (an older key), so keyless cannot \
                 prove a replacement on its own: {map_hint}"
            ));
        }
    };
    let mut last = String::new();
    for name in candidates {
        let result = resolve_role(after, &Request::Profile(name.clone()))
            .map_err(anyhow::Error::from)
            .and_then(|plan| super::credential_process::obtain(ctx, &plan, false));
        match result {
            Ok(_) => return Ok(name),
            Err(e) => last = format!("profile '{name}' returned no credentials: {e:#}"),
        }
    }
    Err(last)
}

/// Asks on the terminal; false without one.
fn confirm(count: usize, deactivate: bool) -> anyhow::Result<bool> {
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Ok(false);
    }
    let mut err = std::io::stderr().lock();
    write!(
        err,
        "Retire {count} key(s){}? A backup is made first. [y/N] ",
        if deactivate {
            " and deactivate them in IAM"
        } else {
            ""
        }
    )?;
    err.flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    Ok(matches!(answer.trim(), "y" | "Y" | "yes" | "Yes"))
}

/// SDK credentials of a static key (its secret goes straight into the
/// SDK's redacting type).
fn key_config(base: &aws_config::SdkConfig, key_id: &str, secret: &str) -> aws_config::SdkConfig {
    let creds = SdkCredentials::new(key_id, secret, None, None, "keyless-retire");
    base.clone()
        .into_builder()
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .build()
}

/// Sets `key` Inactive, using the key itself, after showing its last use.
/// Returns its IAM user.
async fn deactivate(key: &StaticKey) -> Result<String, String> {
    let base = aws::load(None, false).await;
    let config = key_config(&base, &key.key_id, key.secret.expose());
    let (_, arn) = Sts::new(&config)
        .identity()
        .await
        .map_err(|e| format!("{e}; is the key still active?"))?;
    if arn.ends_with(":root") {
        return Err(
            "it is a key of the account's root user: delete it in the console (Security \
             credentials); keyless does not change root keys"
                .into(),
        );
    }
    let user = arn.rsplit('/').next().unwrap_or_default().to_string();
    let iam = Iam::new(&config, None);
    match iam.key_last_used(&key.key_id).await {
        Ok(Some(used)) => {
            let seconds = (time::OffsetDateTime::now_utc() - used.at).whole_seconds();
            say(format_args!(
                "keyless: {} (IAM user {user}) was last used {}{}{}. If that was not you, \
                 something else still depends on this key.",
                key.key_id,
                plan::ago(seconds),
                used.service.map(|s| format!(" by {s}")).unwrap_or_default(),
                used.region.map(|r| format!(" in {r}")).unwrap_or_default(),
            ));
        }
        Ok(None) => say(format_args!(
            "keyless: {} (IAM user {user}) has no recorded use.",
            key.key_id
        )),
        Err(e) => warn(format_args!(
            "keyless: cannot read the last use of {}: {e}",
            key.key_id
        )),
    }
    iam.set_key_active(&user, &key.key_id, false)
        .await
        .map_err(|e| e.to_string())?;
    say(format_args!(
        "keyless: set {} of IAM user {user} Inactive.",
        key.key_id
    ));
    Ok(user)
}

/// `--restore BACKUP`: the saved bytes back, and the deactivated keys
/// active again.
fn restore(ctx: &Ctx, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let mut backup = Backup::open(path)?;
    if let Some(when) = &backup.manifest.restored {
        anyhow::bail!(
            "{} was already restored on {when}; nothing to do",
            backup.dir.display()
        );
    }
    // Check every file before writing any.
    let mut writes = Vec::new();
    for entry in &backup.manifest.files {
        let kind = if entry.kind == "config" {
            FileKind::Config
        } else {
            FileKind::Credentials
        };
        let display = ctx.env.display_path(&entry.path);
        let current = AwsFileText::read(kind, &entry.path, display.clone())?;
        let now = sha256(current.bytes());
        if now == entry.original_sha256 && current.original.is_some() == entry.existed {
            say(format_args!(
                "keyless: {display} already has its earlier contents."
            ));
            continue;
        }
        if now != entry.written_sha256 {
            return Err(crate::hint::hinted(
                anyhow::anyhow!(
                    "{display} changed after keyless wrote it, so restoring would lose those \
                     changes; nothing was restored"
                ),
                format!(
                    "its earlier contents are in {}: compare and copy what you need by hand",
                    backup.dir.join(&entry.kind).display()
                ),
            ));
        }
        let original = backup
            .original(entry)
            .with_context(|| format!("cannot read the saved {}", entry.kind))?;
        writes.push((current, original));
    }
    for (file, original) in &writes {
        match original {
            Some(bytes) => file.write(bytes)?,
            None => {
                file.check_unchanged()?;
                std::fs::remove_file(&file.path)
                    .with_context(|| format!("cannot remove {}", file.display))?;
            }
        }
        say(format_args!("keyless: restored {}.", file.display));
    }
    let mut failed = false;
    if !backup.manifest.deactivated.is_empty() {
        let files = EditFiles::read(ctx)?;
        let (config, credentials) = files.editors()?;
        let mut keys = plan::static_keys(&credentials);
        keys.extend(plan::static_keys(&config));
        for gone in &backup.manifest.deactivated {
            let key = keys.iter().find(|k| k.key_id == gone.access_key_id);
            let result = match key {
                Some(key) => block_on(reactivate(key, &gone.user_name))?,
                None => Err("its secret is not in the restored files".to_string()),
            };
            match result {
                Ok(()) => say(format_args!(
                    "keyless: set {} of IAM user {} Active again.",
                    gone.access_key_id, gone.user_name
                )),
                Err(why) => {
                    failed = true;
                    warn(format_args!(
                        "keyless: could not re-activate {key} ({why}). An inactive key cannot \
                         sign requests itself: with credentials allowed to manage IAM user {user}, \
                         run: aws iam update-access-key --user-name {user} --access-key-id {key} \
                         --status Active",
                        key = gone.access_key_id,
                        user = shell_word(&gone.user_name)
                    ));
                }
            }
        }
    }
    backup.manifest.restored = Some(super::profiles::now_rfc3339());
    backup
        .save()
        .context("cannot mark the backup as restored")?;
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

async fn reactivate(key: &StaticKey, user: &str) -> Result<(), String> {
    let base = aws::load(None, false).await;
    let config = key_config(&base, &key.key_id, key.secret.expose());
    Iam::new(&config, None)
        .set_key_active(user, &key.key_id, true)
        .await
        .map_err(|e| e.to_string())
}
