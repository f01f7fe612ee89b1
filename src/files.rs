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

/// The next step for an I/O error, matched to its kind; empty when there
/// is nothing better to say than the error itself.
pub fn hint(err: &io::Error, access: Access) -> &'static str {
    use io::ErrorKind::*;
    match (err.kind(), access) {
        (PermissionDenied, Access::Read) => "make it readable by your user",
        (PermissionDenied, Access::Write) => "make the directory writable by your user",
        (NotFound, Access::Write) => "check that the directory exists and is writable",
        (IsADirectory, _) => "it is a directory: point at a file",
        (NotADirectory, _) => "a part of the path is a file, not a directory",
        (StorageFull, _) => "the disk is full: free some space and try again",
        (QuotaExceeded, _) => "your disk quota is used up: free some space and try again",
        (ReadOnlyFilesystem, _) => "the file system is read-only",
        (OutOfMemory, _) => "the system ran out of memory",
        (InvalidData, _) => "the file is not valid UTF-8 text",
        (FileTooLarge, _) => "the file is far larger than any AWS file: check the path",
        _ => "",
    }
}

/// `error; hint`, or just the error when there is no hint.
pub fn describe(err: &io::Error, access: Access) -> String {
    match hint(err, access) {
        "" => err.to_string(),
        h => format!("{err}; {h}"),
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
            "it is shared with other users (mode {:o}); keyless keeps its state only in a \
             directory of its own: set KEYLESS_STATE_DIR to a new directory (it is created \
             0700), e.g. ~/.local/state/keyless",
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
        assert_eq!(hint(&denied, Access::Read), "make it readable by your user");
        assert!(hint(&denied, Access::Write).contains("writable"));
        let dir = io::Error::from(io::ErrorKind::IsADirectory);
        assert!(!hint(&dir, Access::Read).contains("readable"));
        let full = io::Error::from(io::ErrorKind::StorageFull);
        assert!(describe(&full, Access::Write).contains("disk is full"));
        let oom = io::Error::from(io::ErrorKind::OutOfMemory);
        assert!(!hint(&oom, Access::Read).contains("readable"));
        assert_eq!(
            describe(&io::Error::other("odd"), Access::Read),
            "odd",
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
        assert!(err.to_string().contains("KEYLESS_STATE_DIR"), "{err}");
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
