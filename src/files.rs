//! Small file-system rules shared by the config reader and the store:
//! private directories, bounded reads of regular files only, and hints
//! that match the error that happened.

use std::io::{self, Read};
use std::path::Path;

/// What was being done when an I/O error happened, for its hint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The next step for an I/O error, matched to its kind, for the `hint:`
/// line; `None` when there is nothing better to say than the error itself.
pub fn hint(err: &io::Error, access: Access) -> Option<&'static str> {
    use io::ErrorKind::*;
    Some(match (err.kind(), access) {
        (PermissionDenied, Access::Read) => "make it readable by your user",
        (PermissionDenied, Access::Write) => "make the directory writable by your user",
        (NotFound, Access::Write) => "check that the directory exists and is writable",
        (IsADirectory, _) => "point at a file, not a directory",
        (NotADirectory, _) => "check the path: a part of it is a file, not a directory",
        (StorageFull, _) => "free some disk space and try again",
        (QuotaExceeded, _) => "free some space (your disk quota is used up) and try again",
        (ReadOnlyFilesystem, _) => "point at a file on a writable file system",
        (InvalidData, _) => "save the file as UTF-8 text",
        (FileTooLarge, _) => "check the path: the file is far larger than any AWS file",
        _ => return None,
    })
}

/// `err`, with its hint, as an error for a chain.
pub fn error(err: io::Error, access: Access) -> anyhow::Error {
    match hint(&err, access) {
        Some(h) => crate::hint::hinted(err, h),
        None => err.into(),
    }
}

/// The contents of a regular file of at most `limit` bytes. Anything else
/// (a FIFO, a device, a directory, a larger file) is refused before it is
/// read, so a FIFO cannot block and `/dev/zero` cannot fill the memory.
/// `Ok(None)` when the file does not exist.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Option<Vec<u8>>> {
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory",
        ));
    }
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file (a FIFO, socket or device); point at a regular file",
        ));
    }
    if meta.len() > limit {
        return Err(too_large(limit));
    }
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(err),
    };
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(Some(bytes))
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::FileTooLarge,
        format!("larger than {} MiB", limit >> 20),
    )
}

/// Creates `dir` (and missing parents) 0700. Only directories created
/// here are given that mode: an existing directory is never changed. An
/// existing directory that others may write to (a shared 1777 directory,
/// say) is refused, since anyone could replace keyless's files in it.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => return check_private(&meta),
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::NotADirectory,
                "exists and is not a directory",
            ));
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// An error if `dir` exists and others may write to it; nothing if it
/// does not exist (yet).
pub fn check_existing_private(dir: &Path) -> io::Result<()> {
    match std::fs::metadata(dir) {
        Ok(meta) if meta.is_dir() => check_private(&meta),
        _ => Ok(()),
    }
}

#[cfg(unix)]
fn check_private(meta: &std::fs::Metadata) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode();
    let shared = mode & 0o022 != 0 || mode & 0o1000 != 0;
    if shared {
        return Err(io::Error::other(format!(
            "it is shared with other users (mode {:o}), and keyless keeps its files only in a \
             directory of its own",
            mode & 0o7777
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_meta: &std::fs::Metadata) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hints_match_the_error_kind() {
        let denied = io::Error::from(io::ErrorKind::PermissionDenied);
        assert_eq!(
            hint(&denied, Access::Read),
            Some("make it readable by your user")
        );
        assert!(hint(&denied, Access::Write).unwrap().contains("writable"));
        let dir = io::Error::from(io::ErrorKind::IsADirectory);
        assert!(!hint(&dir, Access::Read).unwrap().contains("readable"));
        let full = io::Error::from(io::ErrorKind::StorageFull);
        let err = error(full, Access::Write);
        assert_eq!(
            crate::hint::hint(&err).as_deref(),
            Some("free some disk space and try again")
        );
        let oom = io::Error::from(io::ErrorKind::OutOfMemory);
        assert_eq!(hint(&oom, Access::Read), None);
        assert_eq!(
            crate::hint::hint(&error(io::Error::other("odd"), Access::Read)),
            None,
            "no hint is better than a wrong one"
        );
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_without_blocking() {
        let err = read_regular(Path::new("/dev/zero"), 16 << 20).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join("fifo");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = read_regular(&fifo, 16 << 20).unwrap_err();
        assert!(err.to_string().contains("not a regular file"), "{err}");
    }

    #[test]
    fn size_is_capped_and_missing_is_none() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("big");
        std::fs::write(&path, vec![b'x'; 2048]).unwrap();
        assert_eq!(read_regular(&path, 4096).unwrap().unwrap().len(), 2048);
        let err = read_regular(&path, 1024).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::FileTooLarge);
        assert!(
            read_regular(&tmp.path().join("none"), 10)
                .unwrap()
                .is_none()
        );
        let err = read_regular(tmp.path(), 10).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::IsADirectory);
    }

    #[cfg(unix)]
    #[test]
    fn existing_directories_keep_their_mode() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;

        let created = tmp.path().join("a").join("b");
        create_private_dir(&created).unwrap();
        assert_eq!(mode(&created), 0o700);

        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let err = create_private_dir(&shared).unwrap_err();
        assert!(err.to_string().contains("shared with other users"), "{err}");
        assert_eq!(
            mode(&shared),
            0o1777,
            "a shared directory is never narrowed"
        );

        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&shared, &link).unwrap();
        assert!(create_private_dir(&link).is_err());
        assert_eq!(mode(&shared), 0o1777);

        let readable = tmp.path().join("readable");
        std::fs::create_dir(&readable).unwrap();
        std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o755)).unwrap();
        create_private_dir(&readable).unwrap();
        assert_eq!(
            mode(&readable),
            0o755,
            "an existing directory is left as it is"
        );
    }
}
