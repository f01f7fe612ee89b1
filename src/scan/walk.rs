//! Walks the files and directories given on the command line and runs the
//! free-form scanner over each file.
//!
//! The walk is `ignore`'s parallel walker (ripgrep's): `.gitignore`,
//! `.ignore` and git's exclude files are honoured unless
//! [`WalkOptions::no_ignore`]; hidden files are searched (dotfiles are where
//! keys hide); `.git` directories are not. Files and directories named on
//! the command line are always scanned. Symbolic links are followed only
//! with [`WalkOptions::follow_links`], and then loops are detected and
//! reported, not followed. Binary files (a NUL byte in the first 8 KiB) are
//! skipped, and files above [`WalkOptions::max_file_size`] are skipped with
//! a note.
//!
//! Files that commonly hold keys and are commonly git-ignored on purpose
//! (`.env`, `.env.local`, `.envrc`; shell startup and history files at the
//! top of a walked directory) are scanned even when an ignore rule matches
//! them: ignoring them is exactly how a key stays on disk unnoticed.

use std::ffi::OsStr;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use ignore::{WalkBuilder, WalkState};

use super::freeform::{self, KeyHit, SecretHit};
use super::{Finding, Kind, Origin, Problem, Report, key_finding, key_sentence, keyid};

/// Files above this size are skipped unless told otherwise.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 64 * 1024 * 1024;
/// A NUL byte in this many leading bytes makes a file binary (git's rule).
const BINARY_PROBE: usize = 8192;

/// Scanned in every walked directory, ignore rules or not.
const ALWAYS_SCAN_ANYWHERE: [&str; 3] = [".env", ".env.local", ".envrc"];
/// Scanned at the top of every walked directory, ignore rules or not.
const ALWAYS_SCAN_AT_ROOT: [&str; 10] = [
    ".bash_history",
    ".zsh_history",
    ".history",
    ".bashrc",
    ".bash_profile",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".aws_env",
];

#[derive(Debug, Clone)]
pub struct WalkOptions {
    /// Do not honour `.gitignore`/`.ignore`/exclude files; also search
    /// `.git` directories.
    pub no_ignore: bool,
    /// Follow symbolic links found while walking (loops are detected).
    pub follow_links: bool,
    /// Skip (with a note) files larger than this many bytes.
    pub max_file_size: u64,
    /// Worker threads; 0 picks one per core.
    pub threads: usize,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            no_ignore: false,
            follow_links: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            threads: 0,
        }
    }
}

/// What the workers share.
struct Shared<'a> {
    options: &'a WalkOptions,
    /// The AWS files, scanned by their own source: not again here.
    aws_files: Vec<PathBuf>,
    findings: Mutex<Vec<Finding>>,
    suppressed: Mutex<Vec<Finding>>,
    errors: Mutex<Vec<Problem>>,
    notes: Mutex<Vec<Problem>>,
    files: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
    large: AtomicU64,
}

fn push<T>(list: &Mutex<Vec<T>>, item: T) {
    // A poisoned lock means a worker panicked; keep what was collected.
    match list.lock() {
        Ok(mut guard) => guard.push(item),
        Err(poisoned) => poisoned.into_inner().push(item),
    }
}

fn take<T>(list: Mutex<Vec<T>>) -> Vec<T> {
    list.into_inner().unwrap_or_else(|p| p.into_inner())
}

/// Walks `paths` and adds what it finds to `report`. The files in `skip`
/// (the AWS files, which have their own source, and baseline files) are
/// not searched.
pub fn walk(paths: &[PathBuf], options: &WalkOptions, skip: &[PathBuf], report: &mut Report) {
    let Some((first, rest)) = paths.split_first() else {
        return;
    };
    let shared = Shared {
        options,
        aws_files: skip
            .iter()
            .filter_map(|p| std::fs::canonicalize(p).ok())
            .collect(),
        findings: Mutex::new(Vec::new()),
        suppressed: Mutex::new(Vec::new()),
        errors: Mutex::new(Vec::new()),
        notes: Mutex::new(Vec::new()),
        files: AtomicU64::new(0),
        bytes: AtomicU64::new(0),
        binary: AtomicU64::new(0),
        large: AtomicU64::new(0),
    };
    let mut builder = WalkBuilder::new(first);
    for path in rest {
        builder.add(path);
    }
    let respect = !options.no_ignore;
    builder
        .hidden(false)
        .ignore(respect)
        .git_ignore(respect)
        .git_global(respect)
        .git_exclude(respect)
        .parents(respect)
        .follow_links(options.follow_links)
        .threads(options.threads);
    if respect {
        builder.filter_entry(|entry| {
            !(entry.file_name() == ".git" && entry.file_type().is_some_and(|t| t.is_dir()))
        });
    }
    builder.build_parallel().run(|| {
        let shared = &shared;
        let mut buf = Vec::new();
        Box::new(move |result| {
            visit(shared, result, &mut buf);
            WalkState::Continue
        })
    });
    report.findings.extend(take(shared.findings));
    report.suppressed.extend(take(shared.suppressed));
    report.errors.extend(take(shared.errors));
    report.notes.extend(take(shared.notes));
    let stats = &mut report.stats;
    stats.files_scanned += shared.files.into_inner();
    stats.bytes_scanned += shared.bytes.into_inner();
    stats.binary_skipped += shared.binary.into_inner();
    stats.large_skipped += shared.large.into_inner();
}

fn visit(shared: &Shared<'_>, result: Result<ignore::DirEntry, ignore::Error>, buf: &mut Vec<u8>) {
    let entry = match result {
        Ok(entry) => entry,
        Err(err) => return walk_error(shared, &err),
    };
    let Some(file_type) = entry.file_type() else {
        // stdin; never produced for path arguments.
        return;
    };
    let path = entry.path();
    if file_type.is_dir() {
        if !shared.options.no_ignore {
            probe(shared, path, entry.depth() == 0, buf);
        }
        return;
    }
    if !shared.options.no_ignore && entry.depth() > 0 && is_probed(entry.file_name()) {
        // Scanned by the probe of its directory, ignored or not.
        return;
    }
    if entry.depth() > 0 && !file_type.is_file() {
        // A link found while walking (when not following links), or a fifo,
        // socket or device: never opened (opening a fifo would block).
        // Paths named on the command line are opened whatever they are.
        return;
    }
    scan_file(shared, path, buf);
}

/// Whether the directory probe covers this file (so the walk skips it).
fn is_probed(name: &OsStr) -> bool {
    ALWAYS_SCAN_ANYWHERE.iter().any(|n| name == *n)
}

/// Scans the always-scanned names inside `dir`.
fn probe(shared: &Shared<'_>, dir: &Path, is_root: bool, buf: &mut Vec<u8>) {
    for name in ALWAYS_SCAN_ANYWHERE {
        let path = dir.join(name);
        if path.is_file() {
            scan_file(shared, &path, buf);
        }
    }
    if is_root {
        // The walk visits these unless an ignore rule matches them; scan
        // here only the ones it would miss.
        for name in ignored_root_names(dir) {
            scan_file(shared, &dir.join(name), buf);
        }
    }
}

/// The root-only names that exist in `dir` as files but that the ignore
/// rules (as the walker applies them) hide.
fn ignored_root_names(dir: &Path) -> Vec<&'static str> {
    let present: Vec<&'static str> = ALWAYS_SCAN_AT_ROOT
        .into_iter()
        .filter(|name| dir.join(name).is_file())
        .collect();
    if present.is_empty() {
        return present;
    }
    // List this one directory with the walk's filters and see which of the
    // names come out.
    let mut builder = WalkBuilder::new(dir);
    builder.hidden(false).max_depth(Some(1)).filter_entry(|e| {
        e.depth() == 0 || ALWAYS_SCAN_AT_ROOT.iter().any(|n| e.file_name() == *n)
    });
    let visible: Vec<_> = builder
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.depth() == 1)
        .map(|e| e.file_name().to_owned())
        .collect();
    present
        .into_iter()
        .filter(|name| !visible.iter().any(|v| v == *name))
        .collect()
}

fn walk_error(shared: &Shared<'_>, err: &ignore::Error) {
    let path = error_path(err).map(|p| p.display().to_string());
    if is_loop(err) {
        push(
            &shared.notes,
            Problem {
                path: path.unwrap_or_default(),
                message: "symbolic link loop, not followed".to_string(),
            },
        );
    } else if err.is_partial() {
        push(
            &shared.notes,
            Problem {
                path: path.unwrap_or_default(),
                message: format!("ignore rules partly read: {}", root_message(err)),
            },
        );
    } else {
        push(
            &shared.errors,
            Problem {
                path: path.unwrap_or_else(|| "(walk)".to_string()),
                message: format!("cannot scan: {}", root_message(err)),
            },
        );
    }
}

fn is_loop(err: &ignore::Error) -> bool {
    match err {
        ignore::Error::Loop { .. } => true,
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => is_loop(err),
        ignore::Error::Partial(errs) => errs.iter().any(is_loop),
        _ => false,
    }
}

fn error_path(err: &ignore::Error) -> Option<&Path> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path),
        ignore::Error::Loop { child, .. } => Some(child),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Partial(errs) => errs.iter().find_map(error_path),
        _ => None,
    }
}

/// The innermost message, without the path (the report shows it apart).
fn root_message(err: &ignore::Error) -> String {
    match err {
        ignore::Error::WithPath { err, .. }
        | ignore::Error::WithDepth { err, .. }
        | ignore::Error::WithLineNumber { err, .. } => root_message(err),
        ignore::Error::Io(io) => io_message(io),
        other => other.to_string(),
    }
}

pub(crate) fn io_message(err: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match err.kind() {
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::PermissionDenied => {
            "permission denied (run as a user who can read it, or leave it out)".to_string()
        }
        ErrorKind::IsADirectory => "is a directory, expected a file".to_string(),
        _ => err.to_string(),
    }
}

/// Reads and scans one file.
fn scan_file(shared: &Shared<'_>, path: &Path, buf: &mut Vec<u8>) {
    if is_aws_file(shared, path) {
        return;
    }
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(err) => {
            return push(
                &shared.errors,
                Problem {
                    path: path.display().to_string(),
                    message: format!("cannot read: {}", io_message(&err)),
                },
            );
        }
    };
    let len = match file.metadata() {
        Ok(meta) if meta.is_dir() => return,
        Ok(meta) if !meta.is_file() => return, // fifo, socket, device: never read
        Ok(meta) => meta.len(),
        Err(err) => {
            return push(
                &shared.errors,
                Problem {
                    path: path.display().to_string(),
                    message: format!("cannot read: {}", io_message(&err)),
                },
            );
        }
    };
    if len > shared.options.max_file_size {
        shared.large.fetch_add(1, Ordering::Relaxed);
        return push(
            &shared.notes,
            Problem {
                path: path.display().to_string(),
                message: format!(
                    "skipped: {} MiB is above the {} MiB limit (raise it with --max-file-size)",
                    len / (1024 * 1024),
                    shared.options.max_file_size / (1024 * 1024)
                ),
            },
        );
    }
    buf.clear();
    // The length is a hint; the read takes what is there, bounded.
    buf.reserve(usize::try_from(len).unwrap_or(0).saturating_add(1));
    let limit = shared.options.max_file_size.saturating_add(1);
    if let Err(err) = (&mut file).take(limit).read_to_end(buf) {
        return push(
            &shared.errors,
            Problem {
                path: path.display().to_string(),
                message: format!("cannot read: {}", io_message(&err)),
            },
        );
    }
    let probe = &buf[..buf.len().min(BINARY_PROBE)];
    if memchr::memchr(0, probe).is_some() {
        shared.binary.fetch_add(1, Ordering::Relaxed);
        return;
    }
    shared.files.fetch_add(1, Ordering::Relaxed);
    shared.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
    let hits = freeform::scan_all(buf);
    for hit in hits.keys {
        let list = if hit.allowed {
            &shared.suppressed
        } else {
            &shared.findings
        };
        push(list, hit_finding(path, hit));
    }
    for hit in hits.secrets.into_iter().filter(|s| !s.key_id_nearby) {
        let list = if hit.allowed {
            &shared.suppressed
        } else {
            &shared.findings
        };
        push(list, secret_finding(path, &hit));
    }
}

fn is_aws_file(shared: &Shared<'_>, path: &Path) -> bool {
    if shared.aws_files.is_empty() {
        return false;
    }
    let name = path.file_name();
    if !shared.aws_files.iter().any(|p| p.file_name() == name) {
        return false;
    }
    std::fs::canonicalize(path).is_ok_and(|c| shared.aws_files.contains(&c))
}

/// Turns a free-form hit into a finding, with its message and fix.
pub(crate) fn hit_finding(path: &Path, hit: KeyHit) -> Finding {
    let mut f = key_finding(
        Origin::File,
        &hit.key_id,
        hit.prefix,
        hit.session_token_nearby,
    );
    f.file = Some(path.to_path_buf());
    f.line = Some(hit.line);
    f.column = Some(hit.column);
    let account = f.account.clone().unwrap_or(keyid::Account::Unknown);
    let nearby = if hit.secret_nearby {
        "with what looks like its secret access key nearby"
    } else {
        "no secret access key seen nearby"
    };
    if f.severity == super::Severity::High && !hit.secret_nearby {
        // A key ID alone is not a credential; the secret may be elsewhere.
        f.severity = super::Severity::Medium;
    }
    f.message = format!("{}; {nearby}", key_sentence(f.kind, &account));
    f.fix = if f.long_lived {
        format!(
            "remove it from this file; if it is still active, deactivate and delete key {} \
             in IAM, and use short-lived credentials instead (a keyless profile; see the \
             README)",
            hit.key_id
        )
    } else {
        "delete these stale credentials from this file; keyless fetches temporary \
         credentials when a tool needs them"
            .to_string()
    };
    f
}

/// A secret access key found by name with no key ID nearby.
pub(crate) fn secret_finding(path: &Path, hit: &SecretHit) -> Finding {
    let kind = Kind::SecretAccessKey;
    let (whose, long_lived) = if hit.session_token_nearby {
        (
            "with a session token nearby, so probably of temporary credentials",
            false,
        )
    } else {
        (
            "with no session token nearby, so the secret of a long-term access key",
            true,
        )
    };
    Finding {
        origin: Origin::File,
        file: Some(path.to_path_buf()),
        line: Some(hit.line),
        column: Some(hit.column),
        profile: None,
        key_id: None,
        kind,
        severity: kind.default_severity(),
        account: None,
        long_lived,
        message: format!(
            "secret access key (value not shown) with no access key ID within five lines, {whose}"
        ),
        fix: "remove it from this file; find its access key in IAM (look at the users' access \
              keys and when each was last used), deactivate and delete it, and use short-lived \
              credentials from IAM Identity Center instead (`keyless login`)"
            .to_string(),
        secret_digest: Some(hit.digest.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Kind;
    use std::fs;

    const AKIA: &str = "AKIA2E3RX7TBDLQ6WMPZ";
    const SECRET: &str = "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";

    fn run(paths: &[PathBuf], options: &WalkOptions) -> Report {
        let mut report = Report::default();
        walk(paths, options, &[], &mut report);
        report.finish();
        report
    }

    fn files_with_findings(report: &Report, root: &Path) -> Vec<String> {
        let mut names: Vec<String> = report
            .findings
            .iter()
            .filter_map(|f| f.file.as_ref())
            .map(|p| {
                p.strip_prefix(root)
                    .unwrap_or(p)
                    .display()
                    .to_string()
                    .replace('\\', "/")
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn walks_dotfiles_nested_dirs_and_respects_gitignore() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("proj/.git")).unwrap();
        fs::create_dir_all(root.join("proj/build")).unwrap();
        fs::create_dir_all(root.join("proj/src")).unwrap();
        let key = format!("aws_access_key_id={AKIA}\naws_secret_access_key={SECRET}\n");
        fs::write(
            root.join(".zshrc"),
            format!("export AWS_ACCESS_KEY_ID={AKIA}\n"),
        )
        .unwrap();
        fs::write(root.join("proj/.gitignore"), "build/\n.env\nsecret.txt\n").unwrap();
        fs::write(root.join("proj/build/out.txt"), &key).unwrap();
        fs::write(root.join("proj/secret.txt"), &key).unwrap();
        fs::write(root.join("proj/.env"), &key).unwrap();
        fs::write(root.join("proj/src/main.py"), &key).unwrap();
        fs::write(root.join("proj/.git/config"), &key).unwrap();

        let report = run(&[root.to_path_buf()], &WalkOptions::default());
        assert_eq!(
            files_with_findings(&report, root),
            vec![".zshrc", "proj/.env", "proj/src/main.py"]
        );
        assert!(report.errors.is_empty(), "{:?}", report.errors);

        let report = run(
            &[root.to_path_buf()],
            &WalkOptions {
                no_ignore: true,
                ..WalkOptions::default()
            },
        );
        assert_eq!(
            files_with_findings(&report, root),
            vec![
                ".zshrc",
                "proj/.env",
                "proj/.git/config",
                "proj/build/out.txt",
                "proj/secret.txt",
                "proj/src/main.py"
            ]
        );
        // Each file once.
        assert_eq!(report.findings.len(), 6);
    }

    #[test]
    fn explicit_file_is_scanned_even_if_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join(".git")).unwrap();
        fs::write(root.join(".gitignore"), "*.txt\n").unwrap();
        fs::write(root.join("a.txt"), AKIA).unwrap();
        let report = run(&[root.join("a.txt")], &WalkOptions::default());
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.findings[0].line, Some(1));
    }

    #[test]
    fn root_dotfiles_are_scanned_even_when_ignored() {
        // A home directory kept in git with everything ignored.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join(".git")).unwrap();
        fs::write(root.join(".gitignore"), "*\n").unwrap();
        fs::write(root.join(".bash_history"), format!("export X={AKIA}\n")).unwrap();
        fs::write(root.join("notes.txt"), format!("{AKIA}\n")).unwrap();
        let report = run(&[root.to_path_buf()], &WalkOptions::default());
        assert_eq!(files_with_findings(&report, root), vec![".bash_history"]);
    }

    #[test]
    fn binary_large_empty_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let mut binary = b"\0\x01\x02".to_vec();
        binary.extend_from_slice(AKIA.as_bytes());
        fs::write(root.join("blob.bin"), binary).unwrap();
        fs::write(
            root.join("big.txt"),
            format!("{AKIA}\n{}", "x".repeat(4096)),
        )
        .unwrap();
        fs::write(root.join("empty"), "").unwrap();
        let report = run(
            &[root.to_path_buf(), root.join("missing")],
            &WalkOptions {
                max_file_size: 1024,
                ..WalkOptions::default()
            },
        );
        assert!(report.findings.is_empty(), "{:?}", report.findings);
        assert_eq!(report.stats.binary_skipped, 1);
        assert_eq!(report.stats.large_skipped, 1);
        assert_eq!(report.stats.files_scanned, 1);
        assert_eq!(report.notes.len(), 1);
        assert!(report.notes[0].message.contains("--max-file-size"));
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert!(report.errors[0].path.ends_with("missing"));
        assert!(report.errors[0].message.contains("no such file"));
    }

    #[cfg(unix)]
    #[test]
    fn unreadable_files_are_errors_and_the_rest_is_scanned() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join("locked"), AKIA).unwrap();
        fs::set_permissions(root.join("locked"), fs::Permissions::from_mode(0o000)).unwrap();
        fs::write(root.join("open"), AKIA).unwrap();
        let report = run(&[root.to_path_buf()], &WalkOptions::default());
        if File::open(root.join("locked")).is_ok() {
            // Running as root: permissions do not apply.
            assert_eq!(report.findings.len(), 2);
            return;
        }
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.errors.len(), 1);
        assert!(report.errors[0].message.contains("permission denied"));
    }

    /// A file whose read fails even for root: the error is named, the rest
    /// is scanned.
    #[cfg(target_os = "linux")]
    #[test]
    fn read_errors_are_named_and_the_rest_is_scanned() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("k.txt"), AKIA).unwrap();
        let mem = PathBuf::from("/proc/self/mem");
        if !mem.exists() {
            return;
        }
        let report = run(&[mem, dir.path().to_path_buf()], &WalkOptions::default());
        assert_eq!(report.findings.len(), 1);
        assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
        assert_eq!(report.errors[0].path, "/proc/self/mem");
        assert!(report.errors[0].message.starts_with("cannot read"));
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_are_safe() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join("a")).unwrap();
        std::os::unix::fs::symlink(root, root.join("a/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("a/key"), root.join("a/dangling")).unwrap();
        fs::write(root.join("a/k.txt"), AKIA).unwrap();
        // Not following: the link is not entered.
        let report = run(&[root.to_path_buf()], &WalkOptions::default());
        assert_eq!(report.findings.len(), 1);
        assert!(report.errors.is_empty());
        // Following: the loop is detected and noted, the key found once.
        let report = run(
            &[root.to_path_buf()],
            &WalkOptions {
                follow_links: true,
                ..WalkOptions::default()
            },
        );
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        assert!(report.notes.iter().any(|n| n.message.contains("loop")));
    }

    #[cfg(unix)]
    #[test]
    fn fifos_found_while_walking_are_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let status = std::process::Command::new("mkfifo")
            .arg(root.join("pipe"))
            .status();
        if !status.is_ok_and(|s| s.success()) {
            return; // no mkfifo on this system
        }
        fs::write(root.join("k.txt"), AKIA).unwrap();
        // Would block forever if the fifo were opened.
        let report = run(&[root.to_path_buf()], &WalkOptions::default());
        assert_eq!(report.findings.len(), 1);
        assert!(report.errors.is_empty());
    }

    #[test]
    fn aws_files_are_not_scanned_twice() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir(root.join(".aws")).unwrap();
        fs::write(
            root.join(".aws/credentials"),
            format!("[a]\naws_access_key_id={AKIA}\n"),
        )
        .unwrap();
        fs::write(root.join(".aws/credentials.bak"), AKIA).unwrap();
        let mut report = Report::default();
        walk(
            &[root.to_path_buf()],
            &WalkOptions::default(),
            &[root.join(".aws/credentials")],
            &mut report,
        );
        assert_eq!(
            files_with_findings(&report, root),
            vec![".aws/credentials.bak"]
        );
    }

    #[test]
    fn lone_secrets_and_markers_in_walked_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(
            root.join("deploy.sh"),
            format!(
                "export AWS_SECRET_ACCESS_KEY={SECRET}\n\n\n\n\n\n\n\
                 # keyless:allow\nexport AWS_ACCESS_KEY_ID={AKIA}\n\
                 export AWS_SECRET_ACCESS_KEY={SECRET}\n"
            ),
        )
        .unwrap();
        fs::write(
            root.join("test.env"),
            format!("AWS_SECRET_ACCESS_KEY={SECRET} # gitleaks:allow\n"),
        )
        .unwrap();
        let report = run(&[root.to_path_buf()], &WalkOptions::default());
        let kinds = |list: &[Finding]| -> Vec<(Kind, Option<usize>)> {
            list.iter().map(|f| (f.kind, f.line)).collect()
        };
        // The first secret is alone; the second is beside its key ID,
        // which is suppressed (and takes its secret with it).
        assert_eq!(
            kinds(&report.findings),
            vec![(Kind::SecretAccessKey, Some(1))]
        );
        let mut suppressed = kinds(&report.suppressed);
        suppressed.sort();
        assert_eq!(
            suppressed,
            vec![
                (Kind::LongTermKey, Some(9)),
                (Kind::SecretAccessKey, Some(1))
            ]
        );
        let lone = &report.findings[0];
        assert!(lone.long_lived);
        assert_eq!(lone.severity, super::super::Severity::Medium);
        assert!(lone.key_id.is_none() && lone.secret_digest.is_some());
        assert!(!format!("{:?}", report).contains(SECRET));
        assert_eq!(report.exit_code(), crate::scan::EXIT_LONG_LIVED_KEY);
    }

    #[test]
    fn free_form_severity_depends_on_a_secret_nearby() {
        let with = hit_finding(
            Path::new("f"),
            freeform::scan(format!("{AKIA} {SECRET}").as_bytes()).remove(0),
        );
        assert_eq!(with.severity, super::super::Severity::High);
        let without = hit_finding(Path::new("f"), freeform::scan(AKIA.as_bytes()).remove(0));
        assert_eq!(without.severity, super::super::Severity::Medium);
        assert!(without.long_lived);
        let service = hit_finding(
            Path::new("f"),
            freeform::scan(b"ACCA2E3RX7TBDLQ6WMPZ").remove(0),
        );
        assert_eq!(service.kind, Kind::ServiceCredential);
        assert_eq!(service.severity, super::super::Severity::Medium);
        let key_pair = hit_finding(
            Path::new("f"),
            freeform::scan(b"APKA2E3RX7TBDLQ6WMPZ").remove(0),
        );
        assert_eq!(key_pair.account, Some(keyid::Account::Unknown));
        assert!(!key_pair.long_lived);
    }
}
