//! Quoting a value so that each shell reads it back byte for byte.

/// POSIX sh, bash, zsh: single quotes; a `'` becomes `'\''`.
pub fn posix(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

/// fish: single quotes, in which only `\\` and `\'` are escapes.
pub fn fish(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

/// PowerShell: single quotes (verbatim); a `'` (or a typographic single
/// quote, which PowerShell treats alike) is doubled.
pub fn powershell(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes() {
        assert_eq!(posix(""), "''");
        assert_eq!(posix("it's"), r"'it'\''s'");
        assert_eq!(fish(r"a\'b"), r"'a\\\'b'");
        assert_eq!(powershell("it's"), "'it''s'");
        assert_eq!(powershell("a\u{2019}b"), "'a\u{2019}\u{2019}b'");
    }
}
