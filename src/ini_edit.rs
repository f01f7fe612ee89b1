//! Format-preserving edits of the AWS `config` and `credentials` files.
//!
//! An [`Editor`] holds a file's text as lines (each with its own ending),
//! the sections found by [`crate::config::ini::parse`], and a list of
//! edits. [`Editor::render`] applies them in one pass: every line no edit
//! touches comes out byte for byte, so comments, blank lines, ordering,
//! key spelling, CRLF endings and unrelated sections survive. A comment
//! directly above a section header (no blank line between) belongs to that
//! section and goes with it when the section is removed.
//!
//! A UTF-8 byte-order mark is kept as it is (the AWS CLI and botocore
//! cannot read such a file; [`Editor::bom`] tells the caller, who says so).
//! A file that is not UTF-8 or that the SDKs would refuse for another
//! reason is not edited: [`EditError::Malformed`] names the line.
//!
//! [`AwsFileText`] is one file as read from disk, with the bytes it had,
//! so [`AwsFileText::write`] can refuse when the file changed underneath
//! and replace it atomically, keeping its mode.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use crate::config::ini::{self, FileKind, SectionName};

const BOM: &str = "\u{feff}";

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{path} is not UTF-8 text, and keyless edits only text files")]
    NotText { path: String },
    #[error("{path} line {line}: {message}")]
    Malformed {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path} changed on disk while keyless was working; nothing was written")]
    Changed { path: String },
    #[error("cannot read {path}: {error}")]
    Read { path: String, error: io::Error },
    #[error("cannot write {path}: {error}")]
    Write { path: String, error: io::Error },
}

impl EditError {
    /// The next step, for the `hint:` line.
    pub fn hint(&self) -> Option<String> {
        use crate::files::{Access, hint};
        match self {
            EditError::NotText { .. } => Some("fix or move the file, then run again".into()),
            EditError::Malformed { .. } => Some(
                "fix that line, then run again: keyless does not edit a file the AWS tools \
                 cannot read"
                    .into(),
            ),
            EditError::Changed { .. } => {
                Some("run the command again (it reads the new contents)".into())
            }
            EditError::Read { error, .. } => hint(error, Access::Read).map(String::from),
            EditError::Write { error, .. } => hint(error, Access::Write).map(String::from),
        }
    }
}

/// One property's lines: `key = value` and its continuation lines. No
/// `Debug`: the value may be a secret.
#[derive(Clone)]
pub struct PropSpan {
    /// Lower-cased, as the SDKs read it.
    pub key: String,
    pub value: String,
    /// First line (0-based) and one past the last.
    pub start: usize,
    pub end: usize,
}

/// A section's lines: the comments directly above its header, the header,
/// and everything up to the next section's first line.
#[derive(Clone)]
pub struct SectionSpan {
    pub name: SectionName,
    pub start: usize,
    pub header: usize,
    pub end: usize,
    pub props: Vec<PropSpan>,
}

impl SectionSpan {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.props
            .iter()
            .rev()
            .find(|p| p.key == key)
            .map(|p| p.value.as_str())
    }

    /// The profile name, for `[profile NAME]`/`[default]` in config and
    /// `[NAME]` in credentials.
    pub fn profile(&self) -> Option<&str> {
        match &self.name {
            SectionName::Profile(name) => Some(name),
            _ => None,
        }
    }
}

/// A new section to append: header text and `key = value` pairs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSection {
    pub header: String,
    pub props: Vec<(String, String)>,
}

/// No `Debug` with contents: the text may hold secrets.
#[derive(Clone)]
pub struct Editor {
    kind: FileKind,
    bom: bool,
    lines: Vec<String>,
    eol: &'static str,
    sections: Vec<SectionSpan>,
    removed_sections: BTreeSet<usize>,
    /// (section, property index) → removed.
    removed_props: BTreeSet<(usize, usize)>,
    /// (section, property index) → new value.
    new_values: BTreeMap<(usize, usize), String>,
    /// section → properties to add after its last property.
    added_props: BTreeMap<usize, Vec<(String, String)>>,
    appended: Vec<NewSection>,
}

impl std::fmt::Debug for Editor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Editor")
            .field("kind", &self.kind)
            .field("lines", &self.lines.len())
            .field("sections", &self.sections.len())
            .finish_non_exhaustive()
    }
}

impl Editor {
    /// Parses `bytes` for editing; `path` is for messages.
    pub fn new(bytes: &[u8], kind: FileKind, path: &str) -> Result<Editor, EditError> {
        let text = std::str::from_utf8(bytes).map_err(|_| EditError::NotText {
            path: path.to_string(),
        })?;
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let doc = ini::parse(text.as_bytes(), kind);
        if let Some(issue) = doc.issues.iter().find(|i| i.fatal) {
            return Err(EditError::Malformed {
                path: path.to_string(),
                line: issue.line,
                message: issue.message.trim_end_matches('.').to_string(),
            });
        }
        let lines: Vec<String> = text.split_inclusive('\n').map(str::to_string).collect();
        let crlf = lines.iter().filter(|l| l.ends_with("\r\n")).count();
        let eol = if crlf * 2 > lines.len() { "\r\n" } else { "\n" };
        let mut sections: Vec<SectionSpan> = Vec::new();
        for section in doc.sections.iter().filter(|s| s.line > 0) {
            let header = section.line - 1;
            let mut start = header;
            while start > 0 && is_comment(&lines[start - 1]) {
                start -= 1;
            }
            // A comment above the first header that the previous section
            // does not own is still that first section's.
            if let Some(previous) = sections.last_mut() {
                start = start.max(previous.header + 1);
                previous.end = start;
            }
            let props = section
                .properties
                .iter()
                .map(|p| {
                    let start = p.line - 1;
                    let mut end = start + 1;
                    while end < lines.len() && is_continuation(&lines[end]) {
                        end += 1;
                    }
                    PropSpan {
                        key: p.key.clone(),
                        value: p.value.clone(),
                        start,
                        end,
                    }
                })
                .collect();
            sections.push(SectionSpan {
                name: section.name.clone(),
                start,
                header,
                end: lines.len(),
                props,
            });
        }
        Ok(Editor {
            kind,
            bom,
            lines,
            eol,
            sections,
            removed_sections: BTreeSet::new(),
            removed_props: BTreeSet::new(),
            new_values: BTreeMap::new(),
            added_props: BTreeMap::new(),
            appended: Vec::new(),
        })
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// The file starts with a UTF-8 byte-order mark.
    pub fn bom(&self) -> bool {
        self.bom
    }

    pub fn sections(&self) -> &[SectionSpan] {
        &self.sections
    }

    /// Indexes of the sections for profile `name`, in file order.
    pub fn profile_sections(&self, name: &str) -> Vec<usize> {
        (0..self.sections.len())
            .filter(|&i| self.sections[i].profile() == Some(name))
            .collect()
    }

    /// Indexes of the `[sso-session NAME]` sections.
    pub fn sso_session_sections(&self, name: &str) -> Vec<usize> {
        (0..self.sections.len())
            .filter(|&i| matches!(&self.sections[i].name, SectionName::SsoSession(n) if n == name))
            .collect()
    }

    /// Removes section `index` with the comments above it.
    pub fn remove_section(&mut self, index: usize) {
        self.removed_sections.insert(index);
    }

    /// Removes every property `key` of section `index`.
    pub fn remove_key(&mut self, index: usize, key: &str) {
        for (i, p) in self.sections[index].props.iter().enumerate() {
            if p.key == key {
                self.removed_props.insert((index, i));
            }
        }
    }

    /// Sets `key` in section `index`: the last definition's value is
    /// replaced (the key's spelling and the text before the value stay),
    /// earlier duplicates are left alone; a missing key is added after
    /// the section's last property. Nothing changes when the value is
    /// already `value`.
    pub fn set(&mut self, index: usize, key: &str, value: &str) {
        let found = self.sections[index]
            .props
            .iter()
            .enumerate()
            .rev()
            .find(|(_, p)| p.key == key)
            .map(|(i, p)| (i, p.value == value));
        match found {
            Some((_, true)) => {}
            Some((i, false)) => {
                self.new_values.insert((index, i), value.to_string());
            }
            None => self
                .added_props
                .entry(index)
                .or_default()
                .push((key.to_string(), value.to_string())),
        }
    }

    /// Appends a new section at the end of the file.
    pub fn append(&mut self, section: NewSection) {
        self.appended.push(section);
    }

    /// How many edits are pending (each one changes bytes).
    pub fn edit_count(&self) -> usize {
        self.removed_sections.len()
            + self.removed_props.len()
            + self.new_values.len()
            + self.added_props.values().map(Vec::len).sum::<usize>()
            + self.appended.len()
    }

    /// The text with every edit applied.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(self.lines.iter().map(String::len).sum::<usize>());
        if self.bom {
            out.push_str(BOM);
        }
        let first = self.sections.first().map_or(self.lines.len(), |s| s.start);
        for line in &self.lines[..first] {
            out.push_str(line);
        }
        for (index, section) in self.sections.iter().enumerate() {
            if self.removed_sections.contains(&index) {
                continue;
            }
            let last_prop_end = section
                .props
                .iter()
                .map(|p| p.end)
                .max()
                .unwrap_or(section.header + 1);
            let mut line = section.start;
            while line < section.end {
                if line == last_prop_end {
                    self.push_added(&mut out, index, line);
                }
                match section.props.iter().position(|p| p.start == line) {
                    Some(p) if self.removed_props.contains(&(index, p)) => {
                        line = section.props[p].end;
                        continue;
                    }
                    Some(p) if self.new_values.contains_key(&(index, p)) => {
                        out.push_str(&replace_value(
                            &self.lines[line],
                            &self.new_values[&(index, p)],
                        ));
                        line += 1;
                        continue;
                    }
                    _ => {}
                }
                out.push_str(&self.lines[line]);
                line += 1;
            }
            if last_prop_end >= section.end {
                self.push_added(&mut out, index, section.end);
            }
        }
        for section in &self.appended {
            let body = out.strip_prefix(BOM).unwrap_or(&out);
            let (open_line, blank) = (
                !body.is_empty() && !body.ends_with('\n'),
                body.is_empty() || ends_with_blank_line(body),
            );
            if open_line {
                out.push_str(self.eol);
            }
            if !blank {
                out.push_str(self.eol);
            }
            out.push('[');
            out.push_str(&section.header);
            out.push(']');
            out.push_str(self.eol);
            for (key, value) in &section.props {
                push_property(&mut out, key, value, self.eol);
            }
        }
        out
    }

    fn push_added(&self, out: &mut String, index: usize, at_line: usize) {
        let Some(props) = self.added_props.get(&index) else {
            return;
        };
        // Text without a final line ending gets one before the new lines.
        if at_line == self.lines.len() && !out.ends_with('\n') {
            out.push_str(self.eol);
        }
        for (key, value) in props {
            push_property(out, key, value, self.eol);
        }
    }
}

fn push_property(out: &mut String, key: &str, value: &str, eol: &str) {
    out.push_str(key);
    out.push_str(" = ");
    out.push_str(value);
    out.push_str(eol);
}

fn ends_with_blank_line(text: &str) -> bool {
    let without_last = text
        .strip_suffix('\n')
        .map(|t| t.strip_suffix('\r').unwrap_or(t));
    match without_last {
        None => false,
        Some(rest) => {
            let last = rest.rsplit('\n').next().unwrap_or(rest);
            rest.is_empty() || last.trim_matches([' ', '\t', '\r']).is_empty()
        }
    }
}

/// `key = old ; note` → `key = new`: the text up to the value is kept.
fn replace_value(line: &str, value: &str) -> String {
    let (body, ending) = split_ending(line);
    let Some(eq) = body.find('=') else {
        return line.to_string();
    };
    let after = &body[eq + 1..];
    let spaces = after.len() - after.trim_start_matches([' ', '\t']).len();
    format!("{}{value}{ending}", &body[..eq + 1 + spaces])
}

fn split_ending(line: &str) -> (&str, &str) {
    if let Some(body) = line.strip_suffix("\r\n") {
        (body, "\r\n")
    } else if let Some(body) = line.strip_suffix('\n') {
        (body, "\n")
    } else {
        (line, "")
    }
}

fn is_comment(line: &str) -> bool {
    line.starts_with('#') || line.starts_with(';')
}

fn is_continuation(line: &str) -> bool {
    (line.starts_with(' ') || line.starts_with('\t'))
        && !line.trim_matches([' ', '\t', '\r', '\n']).is_empty()
}

/// One AWS file as read, to be edited and written back. No `Debug`: the
/// bytes may hold secrets.
#[derive(Clone)]
pub struct AwsFileText {
    pub kind: FileKind,
    pub path: PathBuf,
    /// For messages (`~/.aws/config`).
    pub display: String,
    /// `None` when the file did not exist.
    pub original: Option<Vec<u8>>,
}

/// AWS files larger than this are refused (as [`crate::config`] does).
const MAX_SIZE: u64 = crate::config::MAX_FILE_SIZE;

impl AwsFileText {
    pub fn read(kind: FileKind, path: &Path, display: String) -> Result<Self, EditError> {
        let original =
            crate::files::read_regular(path, MAX_SIZE).map_err(|error| EditError::Read {
                path: display.clone(),
                error,
            })?;
        Ok(AwsFileText {
            kind,
            path: path.to_path_buf(),
            display,
            original,
        })
    }

    pub fn bytes(&self) -> &[u8] {
        self.original.as_deref().unwrap_or_default()
    }

    pub fn editor(&self) -> Result<Editor, EditError> {
        Editor::new(self.bytes(), self.kind, &self.display)
    }

    /// Replaces the file with `contents`, atomically (a temporary file in
    /// the same directory, then a rename), keeping its mode; a new file is
    /// created 0600 (its directory 0700). Refuses, writing nothing, when
    /// the file on disk no longer has the bytes it was read with.
    pub fn write(&self, contents: &[u8]) -> Result<(), EditError> {
        let write_err = |error: io::Error| EditError::Write {
            path: self.display.clone(),
            error,
        };
        self.check_unchanged()?;
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !dir.exists() {
            let mut builder = std::fs::DirBuilder::new();
            builder.recursive(true);
            #[cfg(unix)]
            std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
            builder.create(dir).map_err(write_err)?;
        }
        let mut tmp = tempfile::Builder::new()
            .prefix(".keyless-")
            .tempfile_in(dir)
            .map_err(write_err)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&self.path)
                .map(|m| m.permissions().mode() & 0o7777)
                .unwrap_or(0o600);
            std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(mode))
                .map_err(write_err)?;
        }
        io::Write::write_all(&mut tmp, contents).map_err(write_err)?;
        tmp.as_file().sync_all().map_err(write_err)?;
        // The last moment to notice an edit made while keyless worked.
        self.check_unchanged()?;
        tmp.persist(&self.path).map_err(|e| write_err(e.error))?;
        Ok(())
    }

    /// An error when the file on disk differs from what was read.
    pub fn check_unchanged(&self) -> Result<(), EditError> {
        let now =
            crate::files::read_regular(&self.path, MAX_SIZE).map_err(|error| EditError::Read {
                path: self.display.clone(),
                error,
            })?;
        if now != self.original {
            return Err(EditError::Changed {
                path: self.display.clone(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(text: &str, kind: FileKind, f: impl FnOnce(&mut Editor)) -> String {
        let mut editor = Editor::new(text.as_bytes(), kind, "f").unwrap();
        f(&mut editor);
        editor.render()
    }

    const CONFIG: &str = "# top comment\n\n[default]\nregion = eu-west-1\n\n\
        # about dev\n[profile dev]\nRegion = us-east-1 ; mine\ns3 =\n  max_concurrent_requests = 4\noutput = json\n\n\
        ; trailing note of dev\n\n[profile other]\nregion = x\n";

    #[test]
    fn no_edit_renders_every_byte() {
        for text in [
            CONFIG,
            "",
            "[a]\r\nk = v\r\n",
            "[a]\nk = v",
            "\n\n# only comments\n",
            "\u{feff}[profile a]\nk = v\n",
        ] {
            for kind in [FileKind::Config, FileKind::Credentials] {
                assert_eq!(edit(text, kind, |_| {}), text);
            }
        }
    }

    #[test]
    fn removing_a_section_takes_its_comment_and_nothing_else() {
        let out = edit(CONFIG, FileKind::Config, |e| {
            let dev = e.profile_sections("dev")[0];
            e.remove_section(dev);
        });
        assert_eq!(
            out,
            "# top comment\n\n[default]\nregion = eu-west-1\n\n[profile other]\nregion = x\n"
        );
    }

    #[test]
    fn removing_a_key_takes_its_continuation_lines() {
        let out = edit(CONFIG, FileKind::Config, |e| {
            let dev = e.profile_sections("dev")[0];
            e.remove_key(dev, "s3");
        });
        assert_eq!(
            out,
            CONFIG.replace("s3 =\n  max_concurrent_requests = 4\n", "")
        );
    }

    #[test]
    fn set_keeps_key_spelling_and_adds_after_the_last_property() {
        let out = edit(CONFIG, FileKind::Config, |e| {
            let dev = e.profile_sections("dev")[0];
            e.set(dev, "region", "ap-south-1");
            e.set(dev, "output", "json");
            e.set(dev, "keyless_managed", "corp");
        });
        let expected = CONFIG
            .replace("Region = us-east-1 ; mine", "Region = ap-south-1")
            .replace("output = json\n", "output = json\nkeyless_managed = corp\n");
        assert_eq!(out, expected);
    }

    #[test]
    fn appended_sections_follow_a_blank_line_in_the_file_line_ending() {
        let new = NewSection {
            header: "profile n".into(),
            props: vec![("a".into(), "1".into())],
        };
        let out = edit("[a]\r\nk = v\r\n", FileKind::Config, |e| {
            e.append(new.clone())
        });
        assert_eq!(out, "[a]\r\nk = v\r\n\r\n[profile n]\r\na = 1\r\n");
        let out = edit("[a]\nk = v", FileKind::Config, |e| e.append(new.clone()));
        assert_eq!(out, "[a]\nk = v\n\n[profile n]\na = 1\n");
        let out = edit("", FileKind::Config, |e| {
            e.append(new.clone());
            e.append(new.clone())
        });
        assert_eq!(out, "[profile n]\na = 1\n\n[profile n]\na = 1\n");
        let out = edit("\u{feff}", FileKind::Config, |e| e.append(new.clone()));
        assert_eq!(out, "\u{feff}[profile n]\na = 1\n");
    }

    #[test]
    fn a_key_added_to_the_last_section_without_a_final_newline() {
        let out = edit("[a]\nk = v", FileKind::Credentials, |e| e.set(0, "x", "y"));
        assert_eq!(out, "[a]\nk = v\nx = y\n");
    }

    #[test]
    fn bom_is_kept_and_reported() {
        let text = "\u{feff}[profile a]\nk = v\n";
        let mut editor = Editor::new(text.as_bytes(), FileKind::Config, "f").unwrap();
        assert!(editor.bom());
        editor.set(0, "k", "w");
        assert_eq!(editor.render(), "\u{feff}[profile a]\nk = w\n");
    }

    #[test]
    fn malformed_and_non_utf8_files_are_refused() {
        let err = Editor::new(b"[profile a\nk = v\n", FileKind::Config, "cfg").unwrap_err();
        assert!(matches!(err, EditError::Malformed { line: 1, .. }), "{err}");
        let err = Editor::new(b"[a]\nk = \xff\n", FileKind::Config, "cfg").unwrap_err();
        assert!(matches!(err, EditError::NotText { .. }), "{err}");
    }

    #[test]
    fn write_refuses_a_file_changed_underneath_and_keeps_the_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        std::fs::write(&path, "[a]\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        let file = AwsFileText::read(FileKind::Credentials, &path, "c".into()).unwrap();
        std::fs::write(&path, "[b]\n").unwrap();
        assert!(matches!(
            file.write(b"[c]\n"),
            Err(EditError::Changed { .. })
        ));
        assert_eq!(std::fs::read(&path).unwrap(), b"[b]\n");

        let file = AwsFileText::read(FileKind::Credentials, &path, "c".into()).unwrap();
        file.write(b"[c]\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"[c]\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);

        let new = dir.path().join("sub/config");
        let file = AwsFileText::read(FileKind::Config, &new, "n".into()).unwrap();
        file.write(b"[default]\n").unwrap();
        let mode = std::fs::metadata(&new).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(new.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }
}
