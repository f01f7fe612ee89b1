//! Backups of the AWS files before keyless edits them, and their restore.
//!
//! A backup is a directory `backups/<UTC time>-<command>` in keyless's
//! state directory (0700), holding the original bytes of each file it is
//! about to change (0600) and `manifest.json` (0600): which files, their
//! SHA-256 before and after the edit, and the access keys deactivated in
//! IAM. The manifest names key IDs, never secrets; the saved files hold
//! whatever the originals held, which is why they are private.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::config::ini::FileKind;
use crate::ini_edit::AwsFileText;

pub const MANIFEST: &str = "manifest.json";
const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub version: u32,
    /// RFC 3339.
    pub created: String,
    /// `retire`, `onboard`, `profiles-sync`.
    pub command: String,
    pub files: Vec<FileEntry>,
    #[serde(default)]
    pub deactivated: Vec<DeactivatedKey>,
    /// RFC 3339, once restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileEntry {
    /// `config` or `credentials`.
    pub kind: String,
    pub path: PathBuf,
    /// False when keyless created the file.
    pub existed: bool,
    pub original_sha256: String,
    pub written_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeactivatedKey {
    pub access_key_id: String,
    pub user_name: String,
    /// The profile whose key it was.
    pub profile: String,
}

/// A backup on disk.
#[derive(Debug, Clone)]
pub struct Backup {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

pub fn sha256(bytes: &[u8]) -> String {
    data_encoding::HEXLOWER.encode(&Sha256::digest(bytes))
}

pub fn kind_name(kind: FileKind) -> &'static str {
    match kind {
        FileKind::Config => "config",
        FileKind::Credentials => "credentials",
    }
}

/// Writes `bytes` to a new file `path`, 0600, failing if it exists.
fn write_new_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

impl Backup {
    /// Saves the original of each `(file, new bytes)` under `root` before
    /// anything is written. `now` is RFC 3339.
    pub fn create(
        root: &Path,
        command: &str,
        now: &str,
        changes: &[(&AwsFileText, Vec<u8>)],
    ) -> io::Result<Backup> {
        crate::files::create_private_dir(root)?;
        // `2026-12-02T01:48:24Z` → `20261202T014824Z`.
        let stamp: String = now.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        let mut dir = root.join(format!("{stamp}-{command}"));
        let mut n = 2;
        loop {
            let mut builder = std::fs::DirBuilder::new();
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            match builder.create(&dir) {
                Ok(()) => break,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    dir = root.join(format!("{stamp}-{command}-{n}"));
                    n += 1;
                }
                Err(e) => return Err(e),
            }
        }
        let mut files = Vec::new();
        for (file, new) in changes {
            if let Some(original) = &file.original {
                write_new_private(&dir.join(kind_name(file.kind)), original)?;
            }
            files.push(FileEntry {
                kind: kind_name(file.kind).to_string(),
                path: std::path::absolute(&file.path)?,
                existed: file.original.is_some(),
                original_sha256: sha256(file.bytes()),
                written_sha256: sha256(new),
            });
        }
        let backup = Backup {
            dir,
            manifest: Manifest {
                version: VERSION,
                created: now.to_string(),
                command: command.to_string(),
                files,
                deactivated: Vec::new(),
                restored: None,
            },
        };
        backup.save()?;
        Ok(backup)
    }

    /// Replaces the manifest atomically.
    pub fn save(&self) -> io::Result<()> {
        let json = serde_json::to_vec_pretty(&self.manifest).map_err(io::Error::other)?;
        let mut tmp = tempfile::Builder::new()
            .prefix(".manifest-")
            .tempfile_in(&self.dir)?;
        tmp.write_all(&json)?;
        tmp.write_all(b"\n")?;
        tmp.as_file().sync_all()?;
        tmp.persist(self.dir.join(MANIFEST)).map_err(|e| e.error)?;
        Ok(())
    }

    /// Opens the backup at `path` (its directory, or its manifest).
    pub fn open(path: &Path) -> anyhow::Result<Backup> {
        use crate::hint::{HintExt, hinted};
        use anyhow::Context;
        let dir = if path.file_name().is_some_and(|n| n == MANIFEST) {
            path.parent().unwrap_or(Path::new(".")).to_path_buf()
        } else {
            path.to_path_buf()
        };
        let manifest_path = dir.join(MANIFEST);
        let bytes = crate::files::read_regular(&manifest_path, 1 << 20)
            .map_err(|e| crate::files::error(e, crate::files::Access::Read))
            .with_context(|| format!("cannot read {}", manifest_path.display()))?
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{} is not a keyless backup: it has no {MANIFEST}",
                    dir.display()
                )
            })
            .hint("pass the backup directory that `keyless retire` or `keyless onboard` printed")?;
        let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
            hinted(
                anyhow::anyhow!("{} is damaged ({e})", manifest_path.display()),
                "copy the saved files beside it back by hand",
            )
        })?;
        if manifest.version != VERSION {
            return Err(hinted(
                anyhow::anyhow!(
                    "{} was written by another version of keyless (format {})",
                    manifest_path.display(),
                    manifest.version
                ),
                "copy the saved files back by hand",
            ));
        }
        Ok(Backup { dir, manifest })
    }

    /// The saved original of `entry`.
    pub fn original(&self, entry: &FileEntry) -> io::Result<Option<Vec<u8>>> {
        if !entry.existed {
            return Ok(None);
        }
        let bytes = std::fs::read(self.dir.join(&entry.kind))?;
        if sha256(&bytes) != entry.original_sha256 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("the saved {} does not match its checksum", entry.kind),
            ));
        }
        Ok(Some(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backups_are_private_named_by_the_second_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, "[a]\n").unwrap();
        let file = AwsFileText::read(FileKind::Credentials, &path, "c".into()).unwrap();
        let now = "2026-12-02T01:48:24Z";
        let root = dir.path().join("backups");
        let first = Backup::create(&root, "retire", now, &[(&file, Vec::new())]).unwrap();
        let second = Backup::create(&root, "retire", now, &[(&file, Vec::new())]).unwrap();
        assert!(first.dir.ends_with("20261202T014824Z-retire"));
        assert!(second.dir.ends_with("20261202T014824Z-retire-2"));
        let opened = Backup::open(&first.dir.join(MANIFEST)).unwrap();
        assert_eq!(opened.manifest, first.manifest);
        let entry = &opened.manifest.files[0];
        assert_eq!(opened.original(entry).unwrap().unwrap(), b"[a]\n");
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&first.dir), 0o700);
        assert_eq!(mode(&first.dir.join("credentials")), 0o600);
        assert!(
            Backup::open(dir.path())
                .unwrap_err()
                .to_string()
                .contains("not a keyless backup")
        );
    }
}
