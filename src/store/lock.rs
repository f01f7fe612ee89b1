//! Cross-process locks: one lock file per sso-session (login and token
//! refresh) and per role-credential set (fetching), in `<state dir>/locks/`.
//!
//! Each lock is an OS file lock (`flock` on Unix, `LockFileEx` on Windows)
//! on a file that is never deleted, so there is no race between unlinking
//! and locking; the OS drops the lock when the holder exits, even on a
//! crash. Waiting is a poll of `try_lock` with short sleeps up to a
//! deadline; the holder writes its pid into the file so a timeout can say
//! who is probably in the way.
//!
//! After taking a lock, read the cache again before any network call:
//! another process may have done the work while this one waited.
//!
//! Locks are not re-entrant: taking the same lock twice in one process
//! waits for itself until the deadline.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long to wait for another process writing the state file.
pub const STATE_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

const POLL_FIRST: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(100);
/// Longest sanitized component kept in a lock file name.
const NAME_PART_MAX: usize = 48;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "timed out after {}s waiting for the lock {}: {} is probably {purpose}",
        .waited.as_secs(),
        .path.display(),
        holder_text(*.holder)
    )]
    Timeout {
        path: PathBuf,
        waited: Duration,
        /// The pid the holder wrote into the lock file, if readable.
        holder: Option<u32>,
        purpose: String,
    },

    #[error("could not use the lock file {}: {error}", .path.display())]
    Io { path: PathBuf, error: io::Error },
}

impl LockError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        match self {
            LockError::Timeout { .. } => {
                Some("let that process finish, or end it, then try again".into())
            }
            LockError::Io { error, .. } if error.raw_os_error() == Some(ELOOP) => Some(
                "remove it: it is a symbolic link, which keyless never follows for a lock".into(),
            ),
            LockError::Io { error, .. } => {
                crate::files::hint(error, crate::files::Access::Write).map(String::from)
            }
        }
    }
}

/// `open(2)`'s error for `O_NOFOLLOW` on a symbolic link.
#[cfg(unix)]
const ELOOP: i32 = libc::ELOOP;
#[cfg(not(unix))]
const ELOOP: i32 = -1;

/// "another keyless process (pid 4242: keyless login --sso-session corp)".
fn holder_text(holder: Option<u32>) -> String {
    match holder {
        Some(pid) => match command_of(pid) {
            Some(command) => format!("another keyless process (pid {pid}: {command})"),
            None => format!("another keyless process (pid {pid})"),
        },
        None => "another keyless process".to_string(),
    }
}

/// The command line of `pid`, where the OS shows it (Linux), shortened.
fn command_of(pid: u32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> = raw
        .split(|b| *b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    let (program, args) = words.split_first()?;
    let program = Path::new(program).file_name()?.to_string_lossy();
    let mut text = std::iter::once(program.as_ref())
        .chain(args.iter().map(String::as_str))
        .collect::<Vec<_>>()
        .join(" ");
    if text.len() > 120 {
        let mut cut = 117;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("...");
    }
    Some(text)
}

/// Waits longer than this are announced through the notice hook.
pub const ANNOUNCE_WAIT_AFTER: Duration = Duration::from_secs(2);

/// The lock directory and the lock names in it.
#[derive(Clone, Debug)]
pub struct Locks {
    dir: PathBuf,
    /// Told, once per wait, when a wait goes on past
    /// [`ANNOUNCE_WAIT_AFTER`]: what is waited for, and for whom.
    notice: Option<fn(std::fmt::Arguments<'_>)>,
}

/// A held lock; released when dropped (and by the OS if the process dies).
#[derive(Debug)]
pub struct LockGuard {
    file: File,
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Closing the file releases the lock too; unlock first so the
        // release does not wait for the close.
        let _ = self.file.unlock();
    }
}

impl Locks {
    /// Locks kept in `dir` (normally `<state dir>/locks`).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Locks {
            dir: dir.into(),
            notice: None,
        }
    }

    /// The same locks, announcing long waits through `notice`.
    pub fn with_notice(mut self, notice: fn(std::fmt::Arguments<'_>)) -> Self {
        self.notice = Some(notice);
        self
    }

    #[cfg(test)]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `locks/session-<name>-<hash>.lock`
    pub fn session_path(&self, session: &str) -> PathBuf {
        self.dir.join(format!(
            "session-{}-{:016x}.lock",
            sanitize(session),
            fnv1a(&[session])
        ))
    }

    /// `locks/role-<session>-<account>-<role>-<hash>.lock`
    pub fn role_path(&self, session: &str, account_id: &str, role_name: &str) -> PathBuf {
        self.dir.join(format!(
            "role-{}-{}-{}-{:016x}.lock",
            sanitize(session),
            sanitize(account_id),
            sanitize(role_name),
            fnv1a(&[session, account_id, role_name])
        ))
    }

    /// The sso-session lock, held while logging in or refreshing its token.
    pub fn session(&self, session: &str, timeout: Duration) -> Result<LockGuard, LockError> {
        self.acquire(
            self.session_path(session),
            || session_purpose(session),
            timeout,
        )
    }

    /// The sso-session lock if it is free now, else `None`.
    pub fn try_session(&self, session: &str) -> Result<Option<LockGuard>, LockError> {
        match self.acquire(
            self.session_path(session),
            || session_purpose(session),
            Duration::ZERO,
        ) {
            Ok(guard) => Ok(Some(guard)),
            Err(LockError::Timeout { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The role lock, held while fetching that role's credentials.
    pub fn role(
        &self,
        session: &str,
        account_id: &str,
        role_name: &str,
        timeout: Duration,
    ) -> Result<LockGuard, LockError> {
        self.acquire(
            self.role_path(session, account_id, role_name),
            || {
                format!(
                    "fetching credentials for role '{role_name}' in account {account_id} \
                     (sso-session '{session}')"
                )
            },
            timeout,
        )
    }

    /// The state-file lock, held for one read-modify-write.
    pub fn state(&self, timeout: Duration) -> Result<LockGuard, LockError> {
        self.acquire(
            self.dir.join("state.lock"),
            || "updating the state file".to_string(),
            timeout,
        )
    }
}

fn session_purpose(session: &str) -> String {
    format!("signing in to, or refreshing the token of, sso-session '{session}'")
}

impl Locks {
    fn acquire(
        &self,
        path: PathBuf,
        purpose: impl Fn() -> String,
        timeout: Duration,
    ) -> Result<LockGuard, LockError> {
        let io_err = |error| LockError::Io {
            path: path.clone(),
            error,
        };
        crate::files::create_private_dir(&self.dir).map_err(|error| LockError::Io {
            path: self.dir.clone(),
            error,
        })?;
        let file = open_lock_file(&path).map_err(io_err)?;

        let start = Instant::now();
        let mut pause = POLL_FIRST;
        let mut announced = false;
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {}
                Err(TryLockError::Error(error)) => return Err(io_err(error)),
            }
            let waited = start.elapsed();
            if waited >= timeout {
                return Err(LockError::Timeout {
                    holder: read_holder(&path),
                    path,
                    waited: timeout,
                    purpose: purpose(),
                });
            }
            if !announced && waited >= ANNOUNCE_WAIT_AFTER {
                announced = true;
                tracing::info!(lock = %path.display(), "waiting for another keyless process");
                if let Some(notice) = self.notice {
                    notice(format_args!(
                        "keyless: waiting up to {}s for {}, which is {}...",
                        (timeout - waited).as_secs(),
                        holder_text(read_holder(&path)),
                        purpose()
                    ));
                }
            }
            std::thread::sleep(pause.min(timeout - waited));
            pause = (pause * 2).min(POLL_MAX);
        }

        // Best effort: the pid only feeds the messages of others.
        let _ = write_holder(&file);
        tracing::debug!(lock = %path.display(), waited_ms = start.elapsed().as_millis() as u64, "lock taken");
        Ok(LockGuard { file })
    }
}

/// Opens (or creates, 0600) a lock file: never through a symbolic link,
/// never truncated, and only a regular file.
fn open_lock_file(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file: remove it",
        ));
    }
    Ok(file)
}

/// The holder's pid at the start of the file, padded so that no write is
/// ever shorter than the one before: the file is never truncated.
fn write_holder(mut file: &File) -> io::Result<()> {
    use std::io::Seek;
    file.seek(io::SeekFrom::Start(0))?;
    file.write_all(format!("{:<10}\n", std::process::id()).as_bytes())
}

fn read_holder(path: &Path) -> Option<u32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Any string as a safe file-name part: ASCII letters, digits, `-`, `_`,
/// `.` kept, everything else `_`, at most [`NAME_PART_MAX`] characters.
/// The hash in each name keeps different inputs apart after this.
fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(NAME_PART_MAX)
        .collect()
}

/// FNV-1a over the parts with a separator: stable across Rust versions and
/// platforms, so every keyless binary computes the same lock name.
fn fnv1a(parts: &[&str]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    let mut hash = OFFSET;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hash ^= 0x1f;
            hash = hash.wrapping_mul(PRIME);
        }
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(PRIME);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    fn locks() -> (tempfile::TempDir, Locks) {
        let tmp = tempfile::tempdir().unwrap();
        let locks = Locks::new(tmp.path().join("locks"));
        (tmp, locks)
    }

    #[test]
    fn a_second_taker_times_out_with_a_message_naming_the_lock() {
        let (_tmp, locks) = locks();
        let _held = locks.session("corp", Duration::ZERO).unwrap();

        let other = locks.clone();
        let start = Instant::now();
        let err = std::thread::spawn(move || {
            other
                .session("corp", Duration::from_millis(300))
                .unwrap_err()
        })
        .join()
        .unwrap();
        assert!(start.elapsed() >= Duration::from_millis(300));
        let text = err.to_string();
        assert!(matches!(err, LockError::Timeout { .. }));
        assert!(
            text.contains(&locks.session_path("corp").display().to_string()),
            "{text}"
        );
        // Windows does not let others read a locked file: no pid there.
        if cfg!(unix) {
            assert!(
                text.contains(&format!("pid {}", std::process::id())),
                "{text}"
            );
        }
        assert!(text.contains("sso-session 'corp'"), "{text}");
        assert!(
            err.hint().unwrap_or_default().contains("then try again"),
            "{err}"
        );
    }

    #[test]
    fn a_second_taker_waits_and_then_gets_the_lock() {
        let (_tmp, locks) = locks();
        let (taken_tx, taken_rx) = mpsc::channel();
        let holder_locks = locks.clone();
        let holder = std::thread::spawn(move || {
            let _guard = holder_locks
                .role("corp", "111122223333", "Dev", Duration::ZERO)
                .unwrap();
            taken_tx.send(()).unwrap();
            std::thread::sleep(Duration::from_millis(250));
        });
        taken_rx.recv().unwrap();
        let start = Instant::now();
        let guard = locks
            .role("corp", "111122223333", "Dev", Duration::from_secs(10))
            .unwrap();
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(150), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
        holder.join().unwrap();
        drop(guard);
        // Released on drop: taking it again does not wait.
        locks
            .role("corp", "111122223333", "Dev", Duration::ZERO)
            .unwrap();
    }

    #[test]
    fn different_names_are_different_locks() {
        let (_tmp, locks) = locks();
        let _a = locks.session("a", Duration::ZERO).unwrap();
        let _b = locks.session("b", Duration::ZERO).unwrap();
        let _r1 = locks.role("a", "1", "R", Duration::ZERO).unwrap();
        let _r2 = locks.role("a", "1", "S", Duration::ZERO).unwrap();
        let _s = locks.state(Duration::ZERO).unwrap();
        assert!(locks.session("a", Duration::ZERO).is_err());
    }

    #[test]
    fn any_name_becomes_a_safe_distinct_file_name() {
        let (_tmp, locks) = locks();
        let names = [
            "",
            "corp",
            "../../etc/passwd",
            "a/b",
            "a_b",
            "a b",
            "with\0nul",
            "ünïcødé",
            "C:\\Windows\\x",
            &"x".repeat(300),
            &"x".repeat(301),
        ];
        let mut seen = std::collections::HashSet::new();
        for name in names {
            let path = locks.session_path(name);
            assert_eq!(path.parent(), Some(locks.dir()));
            let file = path.file_name().unwrap().to_str().unwrap();
            assert!(
                file.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "{file}"
            );
            assert!(file.len() < 100, "{file}");
            assert!(seen.insert(file.to_string()), "collision for {name:?}");
            // And the OS accepts it.
            drop(locks.session(name, Duration::ZERO).unwrap());
        }
        // The components of a role cannot run into each other.
        assert_ne!(
            locks.role_path("a-b", "c", "d"),
            locks.role_path("a", "b-c", "d")
        );
        assert_eq!(
            locks.role_path("corp", "111122223333", "Developer"),
            locks.role_path("corp", "111122223333", "Developer")
        );
        let role = locks.role_path("corp", "111122223333", "Developer");
        let file = role.file_name().unwrap().to_str().unwrap();
        assert!(
            file.starts_with("role-corp-111122223333-Developer-"),
            "{file}"
        );
    }

    #[test]
    fn lock_name_hash_is_stable() {
        // Pinned: a change would let two keyless versions use different
        // lock files for the same session.
        assert_eq!(fnv1a(&[""]), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(&["a"]), 0xaf63_dc4c_8601_ec8c);
        assert_ne!(fnv1a(&["ab", "c"]), fnv1a(&["a", "bc"]));
    }

    #[cfg(unix)]
    #[test]
    fn lock_files_and_directory_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let (_tmp, locks) = locks();
        let guard = locks.session("corp", Duration::ZERO).unwrap();
        let _guard = guard;
        let file_mode = std::fs::metadata(locks.session_path("corp"))
            .unwrap()
            .permissions()
            .mode();
        let dir_mode = std::fs::metadata(locks.dir()).unwrap().permissions().mode();
        assert_eq!(file_mode & 0o777, 0o600);
        assert_eq!(dir_mode & 0o777, 0o700);
    }

    const CHILD_ENV: &str = "KEYLESS_TEST_LOCK_CHILD_DIR";

    /// The child half of `another_process_holding_the_lock_is_named`: holds
    /// the session lock until its stdin closes. Does nothing when run
    /// directly.
    #[test]
    #[ignore = "helper process for another test"]
    fn child_holds_session_lock() {
        let Some(dir) = std::env::var_os(CHILD_ENV) else {
            return;
        };
        let dir = PathBuf::from(dir);
        let _guard = Locks::new(dir.join("locks"))
            .session("corp", Duration::ZERO)
            .unwrap();
        std::fs::write(dir.join("child-ready"), b"").unwrap();
        let mut sink = String::new();
        let _ = io::stdin().read_line(&mut sink);
    }

    #[test]
    fn another_process_holding_the_lock_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "store::lock::tests::child_holds_session_lock",
                "--ignored",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, tmp.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let ready = tmp.path().join("child-ready");
        let start = Instant::now();
        while !ready.exists() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "child never took the lock"
            );
            std::thread::sleep(Duration::from_millis(10));
        }

        let locks = Locks::new(tmp.path().join("locks"));
        let err = locks
            .session("corp", Duration::from_millis(200))
            .unwrap_err();
        match &err {
            LockError::Timeout { holder, .. } if cfg!(unix) => {
                assert_eq!(*holder, Some(child.id()))
            }
            LockError::Timeout { .. } => {}
            other => panic!("{other}"),
        }
        if cfg!(unix) {
            assert!(err.to_string().contains(&format!("pid {}", child.id())));
        }

        // Closing the child's stdin ends it; its lock goes with it.
        drop(child.stdin.take());
        let guard = locks.session("corp", Duration::from_secs(30)).unwrap();
        assert!(child.wait().unwrap().success());
        if cfg!(unix) {
            let _guard = guard;
            assert_eq!(
                read_holder(&locks.session_path("corp")),
                Some(std::process::id())
            );
        }
    }
}
