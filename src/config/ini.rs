//! A lenient, line-level parser for the AWS `config` and `credentials` files.
//!
//! [`parse`] never fails and never panics, on any bytes. It keeps every
//! section and every property in file order (duplicates included), so a
//! scanner can point at each line; merging duplicates is left to
//! [`super::AwsFiles`]. Wherever the AWS SDK for Rust (`aws-runtime`'s
//! `env_config` parser, the reference here) would refuse the whole file, the
//! parser records a *fatal* [`Issue`] and carries on; wherever the SDK warns
//! and skips something, it records a non-fatal one.
//!
//! The syntax, as the Rust SDK reads it:
//! - lines end in `\n` or `\r\n`; whitespace means only space and tab;
//! - a line whose first character is `#` or `;` is a comment; an *indented*
//!   comment is a continuation line (botocore treats it as a comment);
//! - `[name]` starts a section; a `#` or `;` anywhere in a header line starts
//!   a comment (`[profile a] ; note`); a header without its `]` is fatal;
//! - `key = value`: the key is lower-cased, both sides trimmed; in the value,
//!   `#` or `;` start a comment only after whitespace (`a = b;c` keeps `b;c`,
//!   `a = b ;c` gives `b`). botocore has no inline comments at all and also
//!   accepts `key: value`; the Rust SDK rejects a line without `=`;
//! - an indented line continues the property above it: its trimmed text is
//!   appended after a `\n`, without comment stripping. When the property's
//!   own value is empty the continuation lines are sub-properties
//!   (`endpoint_url = …`) and each must contain `=`;
//! - a property before any section header, or a continuation line with no
//!   property above it, is fatal;
//! - a byte-order mark is fatal in both SDKs (the Rust SDK sees a property
//!   before any section, botocore a missing section header); so is a line
//!   that is not UTF-8 (the Rust SDK silently ignores the whole file, the
//!   AWS CLI refuses it). Both are reported and parsing continues;
//! - a section repeated in one file, or a key repeated in one section, is
//!   kept and warned about: the Rust SDK merges them (the later value wins),
//!   botocore refuses the file.
//!
//! Section names: in the config file `[default]`, `[profile NAME]`,
//! `[sso-session NAME]` and `[services NAME]`; `[NAME]` without a prefix is
//! ignored with a warning, and `[default]` is ignored when the same file
//! also has `[profile default]`. In the credentials file only `[NAME]`; a
//! `[profile NAME]` there is ignored with a warning. Names must match
//! `[A-Za-z0-9_\-/.%@:+]*`, otherwise the section is ignored.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// Which of the two AWS files a text came from; section naming differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    Config,
    Credentials,
}

/// One parsed file: sections in file order, and what was wrong with it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    pub sections: Vec<Section>,
    pub issues: Vec<Issue>,
}

/// A section as written. Properties that appear before any section header
/// are collected in a leading section named `Ignored { raw: "" }` with
/// `line: 0` (and reported as a fatal issue).
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub name: SectionName,
    /// 1-based line of the header; 0 for the leading headerless section.
    pub line: usize,
    pub properties: Vec<Property>,
}

/// What a section header means for this kind of file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum SectionName {
    /// `[profile NAME]` or `[default]` in config, `[NAME]` in credentials.
    Profile(String),
    /// `[sso-session NAME]` (config only).
    SsoSession(String),
    /// `[services NAME]` (config only).
    Services(String),
    /// Anything the SDKs do not use as one of the above: the text between
    /// the brackets, trimmed.
    Ignored { raw: String },
}

/// `key = value`, with the line it starts on. `value` is exactly what the
/// Rust SDK stores: continuation lines are appended after `\n`. When the
/// first line's value is empty, the continuation lines are also parsed
/// into `sub_properties` (keys as written, values trimmed).
#[derive(Clone, PartialEq, Eq)]
pub struct Property {
    pub key: String,
    pub value: String,
    pub line: usize,
    pub sub_properties: Vec<Property>,
}

/// Something wrong in a file. `fatal` means the AWS SDKs refuse the file.
/// Messages quote section names, never keys or values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub line: usize,
    pub message: String,
    pub fatal: bool,
}

impl Property {
    /// The value with any secret replaced, for display.
    pub fn display_value(&self) -> &str {
        if self.is_secret() {
            "REDACTED"
        } else {
            &self.value
        }
    }

    fn is_secret(&self) -> bool {
        is_secret_key(&self.key) || shown_key(&self.key).is_none()
    }
}

/// A key fit to print. A malformed key may hold part of a value
/// (`aws_secret_access_key:abc=def` has the key `…:abc`).
fn shown_key(key: &str) -> Option<&str> {
    (is_valid_identifier(key) && !key.contains(':') && key.len() <= 64).then_some(key)
}

impl fmt::Debug for Property {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Property")
            .field("key", &shown_key(&self.key).unwrap_or("<invalid key>"))
            .field("value", &self.display_value())
            .field("line", &self.line)
            .field("sub_properties", &self.sub_properties)
            .finish()
    }
}

/// Keys whose values are secrets (`aws_secret_access_key`,
/// `aws_session_token`, `aws_security_token`, passwords, …).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    ["secret", "token", "password", "passphrase", "private_key"]
        .iter()
        .any(|word| key.contains(word))
}

/// The SDKs' rule for section names and keys: `[A-Za-z0-9_\-/.%@:+]*`.
pub fn is_valid_identifier(name: &str) -> bool {
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-/.%@:+".contains(c))
}

const WHITESPACE: &[char] = &[' ', '\t'];
const COMMENT: &[char] = &['#', ';'];
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parse one file. Never fails, never panics.
pub fn parse(bytes: &[u8], kind: FileKind) -> Document {
    let mut parser = Parser::new(kind);
    let bytes = match bytes.strip_prefix(BOM) {
        Some(rest) => {
            parser.issue(
                1,
                "the file starts with a UTF-8 byte-order mark, which the AWS CLI and SDKs \
                 cannot read; save it as UTF-8 without BOM",
                true,
            );
            rest
        }
        None => bytes,
    };
    for (index, raw) in lines(bytes).enumerate() {
        let number = index + 1;
        let text = match std::str::from_utf8(raw) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => {
                parser.issue(
                    number,
                    "this line is not valid UTF-8, so the AWS CLI refuses the file and the \
                     Rust SDK ignores all of it; save the file as UTF-8",
                    true,
                );
                String::from_utf8_lossy(raw)
            }
        };
        parser.line(number, &text);
    }
    parser.finish()
}

/// Lines as `str::lines` splits them: at `\n`, dropping a `\r` before it.
fn lines(bytes: &[u8]) -> impl Iterator<Item = &[u8]> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(|line| match line.strip_suffix(b"\n") {
            Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
            None => line,
        })
}

struct Parser {
    kind: FileKind,
    sections: Vec<Section>,
    /// Parallel to `sections`: written as `[profile default]`.
    prefixed_default: Vec<bool>,
    issues: Vec<Issue>,
    /// The property that continuation lines extend, in the last section,
    /// and whether it takes sub-properties.
    property: Option<(usize, bool)>,
    /// Keys of the last section, with the line each was first set on.
    keys: HashMap<String, usize>,
}

impl Parser {
    fn new(kind: FileKind) -> Self {
        Parser {
            kind,
            sections: Vec::new(),
            prefixed_default: Vec::new(),
            issues: Vec::new(),
            property: None,
            keys: HashMap::new(),
        }
    }

    fn issue(&mut self, line: usize, message: impl Into<String>, fatal: bool) {
        self.issues.push(Issue {
            line,
            message: message.into(),
            fatal,
        });
    }

    fn line(&mut self, number: usize, line: &str) {
        if line.trim_matches(WHITESPACE).is_empty() || line.starts_with(COMMENT) {
            return;
        }
        if line.starts_with('[') {
            self.header(number, line);
        } else if line.starts_with(WHITESPACE) {
            self.continuation(number, line);
        } else {
            self.property(number, line);
        }
    }

    fn header(&mut self, number: usize, line: &str) {
        let line = strip_comment(line, false);
        let inner = line.strip_prefix('[').unwrap_or(line);
        let inner = match inner.strip_suffix(']') {
            Some(inner) => inner,
            None => {
                // Best effort for the scanner: `[profile a] x` names `a`.
                let inner = inner.split(']').next().unwrap_or(inner);
                self.issue(
                    number,
                    "this section header has no closing ']'; the AWS CLI and SDKs refuse \
                     the file: close the bracket",
                    true,
                );
                inner
            }
        };
        let (name, warning, prefixed_default) = classify(self.kind, inner);
        if let Some(warning) = warning {
            self.issue(number, warning, false);
        }
        self.sections.push(Section {
            name,
            line: number,
            properties: Vec::new(),
        });
        self.prefixed_default.push(prefixed_default);
        self.property = None;
        self.keys.clear();
    }

    fn property(&mut self, number: usize, line: &str) {
        if self.sections.is_empty() {
            self.issue(
                number,
                "a property before any section header; the AWS CLI and SDKs refuse the \
                 file: put it under a section header such as [default], or remove it",
                true,
            );
            self.sections.push(Section {
                name: SectionName::Ignored { raw: String::new() },
                line: 0,
                properties: Vec::new(),
            });
            self.prefixed_default.push(false);
        }
        let Some((key, value)) = self.key_value(number, line, "property") else {
            return;
        };
        if !is_valid_identifier(&key) {
            self.issue(
                number,
                "the AWS SDKs ignore the key on this line: keys may contain only letters, \
                 digits and _-/.%@:+",
                false,
            );
        } else if let Some(first) = self.keys.get(&key) {
            let message = format!(
                "{} is set again in this section (first on line {first}); the Rust SDK \
                 uses the last value and the AWS CLI refuses the file: keep one",
                shown_key(&key).unwrap_or("a key")
            );
            self.issue(number, message, false);
        } else {
            self.keys.insert(key.clone(), number);
        }
        let takes_sub_properties = value.is_empty();
        let Some(section) = self.sections.last_mut() else {
            return;
        };
        section.properties.push(Property {
            key,
            value: value.to_owned(),
            line: number,
            sub_properties: Vec::new(),
        });
        self.property = Some((section.properties.len() - 1, takes_sub_properties));
    }

    /// Split `key = value` as the SDK does, reporting what it would refuse.
    fn key_value<'a>(
        &mut self,
        number: usize,
        line: &'a str,
        what: &str,
    ) -> Option<(String, &'a str)> {
        match split_property(line) {
            Ok(pair) => Some(pair),
            Err(PropertyError::NoEquals) => {
                self.issue(
                    number,
                    format!(
                        "expected 'key = value' in this {what} line; the AWS SDKs refuse \
                         the file: add the '=' or remove the line"
                    ),
                    true,
                );
                None
            }
            Err(PropertyError::NoName) => {
                self.issue(
                    number,
                    format!(
                        "this {what} line has no key before '='; the AWS SDKs refuse the \
                         file: add the key or remove the line"
                    ),
                    true,
                );
                None
            }
        }
    }

    fn continuation(&mut self, number: usize, line: &str) {
        let Some((index, takes_sub_properties)) = self.property else {
            let message = if self.sections.is_empty() {
                "an indented line before any section header; the AWS SDKs refuse the \
                 file: remove the indentation or the line"
            } else {
                "an indented line with no property above it to continue; the AWS SDKs \
                 refuse the file: remove the indentation or the line"
            };
            self.issue(number, message, true);
            return;
        };
        let text = line.trim_matches(WHITESPACE);
        let sub_property = if takes_sub_properties {
            // Validated as the SDK does (comments stripped), stored as
            // the SDK's normaliser reads it (split at the first '=').
            if self.key_value(number, line, "sub-property").is_none() {
                return;
            }
            text.split_once('=').map(|(key, value)| Property {
                key: key.trim_matches(WHITESPACE).to_owned(),
                value: value.trim_matches(WHITESPACE).to_owned(),
                line: number,
                sub_properties: Vec::new(),
            })
        } else {
            None
        };
        let Some(property) = self
            .sections
            .last_mut()
            .and_then(|section| section.properties.get_mut(index))
        else {
            return;
        };
        property.value.push('\n');
        property.value.push_str(text);
        property.sub_properties.extend(sub_property);
    }

    fn finish(mut self) -> Document {
        // `[profile default]` replaces every `[default]` in the same file.
        if self.prefixed_default.iter().any(|&p| p) {
            for (section, &prefixed) in self.sections.iter_mut().zip(&self.prefixed_default) {
                if !prefixed && section.name == SectionName::Profile("default".into()) {
                    section.name = SectionName::Ignored {
                        raw: "default".into(),
                    };
                    self.issues.push(Issue {
                        line: section.line,
                        message: "section [default] is ignored because this file also has \
                                  [profile default]; merge the two"
                            .into(),
                        fatal: false,
                    });
                }
            }
        }
        let mut first_header = HashMap::new();
        for section in &self.sections {
            if matches!(section.name, SectionName::Ignored { .. }) {
                continue;
            }
            if let Some(first) = first_header.insert(&section.name, section.line) {
                first_header.insert(&section.name, first);
                self.issues.push(Issue {
                    line: section.line,
                    message: format!(
                        "this section repeats the one on line {first}; the Rust SDK merges \
                         them and the AWS CLI refuses the file: merge them into one"
                    ),
                    fatal: false,
                });
            }
        }
        self.issues.sort_by_key(|issue| issue.line);
        Document {
            sections: self.sections,
            issues: self.issues,
        }
    }
}

/// What a header's inner text names, a warning if the SDKs ignore it, and
/// whether it is `[profile default]`.
fn classify(kind: FileKind, inner: &str) -> (SectionName, Option<String>, bool) {
    let inner = inner.trim_matches(WHITESPACE);
    let ignored = || SectionName::Ignored {
        raw: inner.to_owned(),
    };
    let (prefix, name) = match inner.split_once(WHITESPACE) {
        Some((prefix, name)) => (Some(prefix.trim()), name.trim()),
        None => (None, inner.trim()),
    };
    match (kind, prefix) {
        (FileKind::Config, Some(_)) if !is_valid_identifier(name) => (
            ignored(),
            Some(format!(
                "section [{inner}] is ignored by the AWS SDKs: `{name}` is not a valid name \
                 (letters, digits and _-/.%@:+ only)"
            )),
            false,
        ),
        (FileKind::Config, Some("profile")) => (
            SectionName::Profile(name.to_owned()),
            None,
            name == "default",
        ),
        (FileKind::Config, Some("sso-session")) => {
            (SectionName::SsoSession(name.to_owned()), None, false)
        }
        (FileKind::Config, Some("services")) => {
            (SectionName::Services(name.to_owned()), None, false)
        }
        (FileKind::Config, Some(_)) => (ignored(), None, false),
        (FileKind::Config, None) if name == "default" => {
            (SectionName::Profile(name.to_owned()), None, false)
        }
        (FileKind::Config, None) => (
            ignored(),
            Some(format!(
                "section [{inner}] is ignored by the AWS SDKs: in the config file a profile \
                 is written [profile {inner}] (only [default] has no prefix)"
            )),
            false,
        ),
        (FileKind::Credentials, Some("profile")) => (
            ignored(),
            Some(format!(
                "section [{inner}] is ignored by the AWS SDKs: in the credentials file a \
                 profile is written [{name}], without `profile`"
            )),
            false,
        ),
        (FileKind::Credentials, Some(_)) => (
            ignored(),
            Some(format!(
                "section [{inner}] is ignored by the AWS SDKs: the credentials file holds \
                 only profiles; move it to the config file"
            )),
            false,
        ),
        (FileKind::Credentials, None) if is_valid_identifier(name) => {
            (SectionName::Profile(name.to_owned()), None, false)
        }
        (FileKind::Credentials, None) => (
            ignored(),
            Some(format!(
                "section [{inner}] is ignored by the AWS SDKs: `{name}` is not a valid name \
                 (letters, digits and _-/.%@:+ only)"
            )),
            false,
        ),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum PropertyError {
    NoEquals,
    NoName,
}

/// `key = value` with the comment stripped, key lower-cased.
fn split_property(line: &str) -> Result<(String, &str), PropertyError> {
    let line = strip_comment(line, true);
    let (key, value) = line.split_once('=').ok_or(PropertyError::NoEquals)?;
    let key = key.trim_matches(WHITESPACE);
    if key.is_empty() {
        return Err(PropertyError::NoName);
    }
    Ok((key.to_ascii_lowercase(), value.trim_matches(WHITESPACE)))
}

/// Trim, then cut at the first `#` or `;` (in values only after whitespace).
fn strip_comment(line: &str, needs_whitespace: bool) -> &str {
    let line = line.trim_matches(WHITESPACE);
    let mut after_whitespace = false;
    let mut end = line.len();
    for (index, c) in line.char_indices() {
        if COMMENT.contains(&c) && (after_whitespace || !needs_whitespace) {
            end = index;
            break;
        }
        after_whitespace = c.is_whitespace();
    }
    line[..end].trim_matches(WHITESPACE)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SENTINEL: &str = "SENTINELwJalrXUtnFEMIK7MDENGbPxRfiCY";

    fn config(text: &str) -> Document {
        parse(text.as_bytes(), FileKind::Config)
    }

    fn credentials(text: &str) -> Document {
        parse(text.as_bytes(), FileKind::Credentials)
    }

    /// `(section name, [(key, value)])` for a compact comparison.
    fn shape(doc: &Document) -> Vec<(SectionName, Vec<(String, String)>)> {
        doc.sections
            .iter()
            .map(|s| {
                let props = s
                    .properties
                    .iter()
                    .map(|p| (p.key.clone(), p.value.clone()))
                    .collect();
                (s.name.clone(), props)
            })
            .collect()
    }

    fn profile(name: &str) -> SectionName {
        SectionName::Profile(name.into())
    }

    fn ignored(raw: &str) -> SectionName {
        SectionName::Ignored { raw: raw.into() }
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn fatal_lines(doc: &Document) -> Vec<usize> {
        doc.issues
            .iter()
            .filter(|i| i.fatal)
            .map(|i| i.line)
            .collect()
    }

    fn warning_lines(doc: &Document) -> Vec<usize> {
        doc.issues
            .iter()
            .filter(|i| !i.fatal)
            .map(|i| i.line)
            .collect()
    }

    #[test]
    fn sections_and_properties_in_file_order() {
        let doc = config(
            "[default]\nregion = us-east-1\n\n[profile dev]\nregion=eu-west-1\n\
             [sso-session corp]\nsso_region = us-east-1\n[services local]\n[plugins x]\n",
        );
        assert_eq!(
            shape(&doc),
            vec![
                (profile("default"), kv(&[("region", "us-east-1")])),
                (profile("dev"), kv(&[("region", "eu-west-1")])),
                (
                    SectionName::SsoSession("corp".into()),
                    kv(&[("sso_region", "us-east-1")])
                ),
                (SectionName::Services("local".into()), vec![]),
                (ignored("plugins x"), vec![]),
            ]
        );
        assert_eq!(doc.sections[1].line, 4);
        assert_eq!(doc.sections[1].properties[0].line, 5);
        assert!(doc.issues.is_empty(), "{:?}", doc.issues);
    }

    /// Each row: input, expected sections, fatal issue lines, warning lines.
    #[test]
    fn config_file_table() {
        type Row<'a> = (
            &'a str,
            Vec<(SectionName, Vec<(String, String)>)>,
            Vec<usize>,
            Vec<usize>,
        );
        let rows: Vec<Row> = vec![
            // full-line comments only at column 0; inline after whitespace
            (
                "# c\n; c\n[profile a] ; note\nk = v ; c\nh = a#b\ns = x # y\n",
                vec![(profile("a"), kv(&[("k", "v"), ("h", "a#b"), ("s", "x")]))],
                vec![],
                vec![],
            ),
            // header comments need no whitespace
            (
                "[profile a]#c\n",
                vec![(profile("a"), vec![])],
                vec![],
                vec![],
            ),
            // uppercase and spaced keys: key lower-cased and trimmed
            (
                "[profile a]\n  \nREGION   =   us-east-1  \nSso_Role_Name=Dev\n",
                vec![(
                    profile("a"),
                    kv(&[("region", "us-east-1"), ("sso_role_name", "Dev")]),
                )],
                vec![],
                vec![],
            ),
            // a key with inner space is kept but ignored by the SDKs
            (
                "[profile a]\nmy key = v\n",
                vec![(profile("a"), kv(&[("my key", "v")]))],
                vec![],
                vec![2],
            ),
            // empty value, '=' inside the value
            (
                "[profile a]\nk =\nb = YQ==\n",
                vec![(profile("a"), kv(&[("k", ""), ("b", "YQ==")]))],
                vec![],
                vec![],
            ),
            // continuation lines
            (
                "[profile a]\nk = one\n  two ; not a comment\n\ttwo b\n",
                vec![(
                    profile("a"),
                    kv(&[("k", "one\ntwo ; not a comment\ntwo b")]),
                )],
                vec![],
                vec![],
            ),
            // an indented comment is a continuation line in the Rust SDK
            (
                "[profile a]\nk = v\n  # c\n",
                vec![(profile("a"), kv(&[("k", "v\n# c")]))],
                vec![],
                vec![],
            ),
            // unterminated header: fatal, section kept for the scanner
            (
                "[profile a\nk = v\n",
                vec![(profile("a"), kv(&[("k", "v")]))],
                vec![1],
                vec![],
            ),
            // text after the closing bracket
            (
                "[profile a] x\n",
                vec![(profile("a"), vec![])],
                vec![1],
                vec![],
            ),
            // key outside a section
            (
                "k = v\n[profile a]\n",
                vec![(ignored(""), kv(&[("k", "v")])), (profile("a"), vec![])],
                vec![1],
                vec![],
            ),
            // continuation with nothing to continue
            (
                "  k = v\n[profile a]\n  x\n",
                vec![(profile("a"), vec![])],
                vec![1, 3],
                vec![],
            ),
            // no '=' / no key
            (
                "[profile a]\njust words\n= v\nk: v\n",
                vec![(profile("a"), vec![])],
                vec![2, 3, 4],
                vec![],
            ),
            // duplicate keys and sections are all kept, in order
            (
                "[profile a]\nk = 1\nk = 2\n[profile b]\n[profile a]\nk = 3\n",
                vec![
                    (profile("a"), kv(&[("k", "1"), ("k", "2")])),
                    (profile("b"), vec![]),
                    (profile("a"), kv(&[("k", "3")])),
                ],
                vec![],
                vec![3, 5],
            ),
            // [default] vs [profile default]: the prefixed one wins, in any order
            (
                "[profile default]\na = 1\n[default]\nb = 2\n",
                vec![
                    (profile("default"), kv(&[("a", "1")])),
                    (ignored("default"), kv(&[("b", "2")])),
                ],
                vec![],
                vec![3],
            ),
            (
                "[default]\nb = 2\n[profile default]\na = 1\n",
                vec![
                    (ignored("default"), kv(&[("b", "2")])),
                    (profile("default"), kv(&[("a", "1")])),
                ],
                vec![],
                vec![1],
            ),
            // unprefixed non-default section, invalid names
            (
                "[dev]\n[profile foo!bar]\n[profile a b]\n[ profile \t c ]\n[Profile d]\n",
                vec![
                    (ignored("dev"), vec![]),
                    (ignored("profile foo!bar"), vec![]),
                    (ignored("profile a b"), vec![]),
                    (profile("c"), vec![]),
                    (ignored("Profile d"), vec![]),
                ],
                vec![],
                vec![1, 2, 3],
            ),
            // names may use _-/.%@:+
            (
                "[profile some-thing:long/the_one%only.foo@bar+]\n",
                vec![(profile("some-thing:long/the_one%only.foo@bar+"), vec![])],
                vec![],
                vec![],
            ),
            // an indented header is a continuation line
            (
                "[profile a]\nk = v\n  [profile b]\n",
                vec![(profile("a"), kv(&[("k", "v\n[profile b]")]))],
                vec![],
                vec![],
            ),
        ];
        for (input, sections, fatal, warnings) in rows {
            let doc = config(input);
            assert_eq!(shape(&doc), sections, "sections of {input:?}");
            assert_eq!(
                fatal_lines(&doc),
                fatal,
                "fatal lines of {input:?}: {:?}",
                doc.issues
            );
            assert_eq!(
                warning_lines(&doc),
                warnings,
                "warnings of {input:?}: {:?}",
                doc.issues
            );
        }
    }

    #[test]
    fn credentials_file_sections() {
        let doc = credentials(
            "[default]\na = 1\n[profile x]\nb = 2\n[x]\nc = 3\n[sso-session s]\n[bad name]\n",
        );
        assert_eq!(
            shape(&doc),
            vec![
                (profile("default"), kv(&[("a", "1")])),
                (ignored("profile x"), kv(&[("b", "2")])),
                (profile("x"), kv(&[("c", "3")])),
                (ignored("sso-session s"), vec![]),
                (ignored("bad name"), vec![]),
            ]
        );
        assert_eq!(warning_lines(&doc), vec![3, 7, 8]);
        assert!(doc.issues[0].message.contains("without `profile`"));
        assert!(fatal_lines(&doc).is_empty());
    }

    #[test]
    fn sub_properties() {
        let doc = config(
            "[services local]\nsso =\n  endpoint_url = http://127.0.0.1:8080\n\
             sso-oidc =\n  endpoint_url = http://127.0.0.1:8080 ; c\n  Region=x\n\
             [services bad]\nsso =\n  not a pair\n",
        );
        let sso = &doc.sections[0].properties[0];
        assert_eq!(sso.value, "\nendpoint_url = http://127.0.0.1:8080");
        assert_eq!(sso.sub_properties.len(), 1);
        assert_eq!(sso.sub_properties[0].key, "endpoint_url");
        assert_eq!(sso.sub_properties[0].value, "http://127.0.0.1:8080");
        assert_eq!(sso.sub_properties[0].line, 3);
        let oidc = &doc.sections[0].properties[1];
        let subs: Vec<_> = oidc
            .sub_properties
            .iter()
            .map(|p| (p.key.as_str(), p.value.as_str()))
            .collect();
        // like the SDK's normaliser: no comment stripping, key case kept
        assert_eq!(
            subs,
            vec![
                ("endpoint_url", "http://127.0.0.1:8080 ; c"),
                ("Region", "x")
            ]
        );
        assert_eq!(fatal_lines(&doc), vec![9]);
        assert!(doc.sections[1].properties[0].sub_properties.is_empty());
    }

    #[test]
    fn crlf_bom_and_bare_cr() {
        let doc = config("[profile a]\r\nk = v\r\n\r\nj = w\r");
        assert_eq!(
            shape(&doc),
            vec![(profile("a"), kv(&[("k", "v"), ("j", "w\r")]))]
        );
        assert!(doc.issues.is_empty());

        let doc = parse(b"\xEF\xBB\xBF[profile a]\nk = v\n", FileKind::Config);
        assert_eq!(shape(&doc), vec![(profile("a"), kv(&[("k", "v")]))]);
        assert_eq!(fatal_lines(&doc), vec![1]);
        assert!(doc.issues[0].message.contains("byte-order mark"));
    }

    #[test]
    fn non_utf8_line_is_reported_and_parsing_goes_on() {
        let doc = parse(b"[profile a]\nk = caf\xE9\nj = ok\n", FileKind::Config);
        assert_eq!(fatal_lines(&doc), vec![2]);
        assert!(doc.issues[0].message.contains("UTF-8"));
        assert_eq!(doc.sections[0].properties[0].value, "caf\u{FFFD}");
        assert_eq!(doc.sections[0].properties[1].value, "ok");
    }

    #[test]
    fn long_lines_parse_in_linear_time() {
        let value = "x".repeat(1 << 20);
        let comment = format!("[profile a]\nk = {value}\n#{value}\n  {value}\n");
        let started = std::time::Instant::now();
        let doc = config(&comment);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(
            doc.sections[0].properties[0].value.len(),
            2 * value.len() + 1
        );
        let spaces = format!("[profile a]\nk = v{} ;c\n", " ".repeat(1 << 20));
        assert_eq!(config(&spaces).sections[0].properties[0].value, "v");
    }

    #[test]
    fn secrets_never_in_debug_or_issues() {
        let text = format!(
            "aws_secret_access_key = {SENTINEL}\n[default]\naws_secret_access_key = {SENTINEL}\n\
             aws_session_token = {SENTINEL}\nAWS_SECURITY_TOKEN={SENTINEL}\n\
             aws_secret_access_key: {SENTINEL}=x\naws_secret_access_key:{SENTINEL}=x\n\
             aws_secret_access_key:{SENTINEL}=y\n{SENTINEL}\nk =\n  {SENTINEL}\n[d\n{SENTINEL}\n"
        );
        for kind in [FileKind::Config, FileKind::Credentials] {
            let doc = parse(text.as_bytes(), kind);
            let debug = format!("{doc:?} {doc:#?}").to_lowercase();
            assert!(!debug.contains(&SENTINEL.to_lowercase()), "{debug}");
            assert!(debug.contains("redacted"));
            for issue in &doc.issues {
                assert!(
                    !issue
                        .message
                        .to_lowercase()
                        .contains(&SENTINEL.to_lowercase())
                );
            }
        }
        // but the values are there for whoever asks
        let doc = credentials(&format!("[d]\naws_secret_access_key = {SENTINEL}\n"));
        assert_eq!(doc.sections[0].properties[0].value, SENTINEL);
    }

    proptest! {
        #[test]
        fn never_panics_on_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            for kind in [FileKind::Config, FileKind::Credentials] {
                let doc = parse(&bytes, kind);
                for section in &doc.sections {
                    for p in &section.properties {
                        prop_assert!(p.line >= section.line);
                    }
                }
            }
        }

        #[test]
        fn never_panics_on_ini_like_text(
            lines in proptest::collection::vec(
                "[ \t]{0,2}[\\[\\]=#; a-zA-Z\u{e9}\u{1F600}]{0,12}[\r]?", 0..24)
        ) {
            let text = lines.join("\n");
            let doc = parse(text.as_bytes(), FileKind::Config);
            let count = text.split('\n').count();
            prop_assert!(doc.issues.iter().all(|i| i.line >= 1 && i.line <= count));
        }
    }
}
