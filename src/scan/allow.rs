//! Inline suppression: a `keyless:allow` marker on a finding's line, or on
//! the line before, suppresses the finding. `gitleaks:allow` is honoured too,
//! so a repository that already marks its test fixtures for gitleaks needs
//! no second set of markers.
//!
//! Suppressed findings are not reported as findings and do not change the
//! exit code; the report counts them (and SARIF lists them as suppressed
//! in source).

/// The markers, matched exactly (case-sensitive, as gitleaks does).
pub const MARKERS: [&[u8]; 2] = [b"keyless:allow", b"gitleaks:allow"];

fn has_marker(bytes: &[u8]) -> bool {
    MARKERS
        .iter()
        .any(|m| memchr::memmem::find(bytes, m).is_some())
}

/// Whether the line holding byte `pos` of `buf`, or the line before it,
/// carries a marker.
pub fn marked(buf: &[u8], pos: usize) -> bool {
    let pos = pos.min(buf.len());
    let start = memchr::memrchr(b'\n', &buf[..pos]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
    if has_marker(&buf[start..end]) {
        return true;
    }
    if start == 0 {
        return false;
    }
    let prev_end = start - 1;
    let prev_start = memchr::memrchr(b'\n', &buf[..prev_end]).map_or(0, |i| i + 1);
    has_marker(&buf[prev_start..prev_end])
}

/// As [`marked`], for a 1-based line number (line 0 and lines past the end
/// are never marked).
pub fn marked_line(buf: &[u8], line: usize) -> bool {
    if line == 0 {
        return false;
    }
    let mut start = 0usize;
    for _ in 1..line {
        match memchr::memchr(b'\n', &buf[start..]) {
            Some(i) => start += i + 1,
            None => return false,
        }
    }
    marked(buf, start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_line_or_line_before() {
        let text = b"a\n# keyless:allow\nKEY1\nKEY2 // gitleaks:allow\nKEY3\n\nKEY4";
        let at = |needle: &[u8]| memchr::memmem::find(text, needle).unwrap();
        assert!(marked(text, at(b"KEY1")));
        assert!(marked(text, at(b"KEY2")));
        // The line before KEY3 carries a marker too.
        assert!(marked(text, at(b"KEY3")));
        assert!(!marked(text, at(b"KEY4")));
        assert!(!marked(text, at(b"a")));
        assert!(marked_line(text, 3));
        assert!(!marked_line(text, 7));
        assert!(!marked_line(text, 0));
        assert!(!marked_line(text, 99));
    }

    #[test]
    fn markers_are_exact_and_edges_are_safe() {
        assert!(!marked(b"KEY # keyless: allow", 0));
        assert!(!marked(b"KEY # Keyless:Allow", 0));
        assert!(!marked(b"", 0));
        assert!(!marked(b"\n\n", 1));
        assert!(marked(b"keyless:allow", 100));
        // Two lines up is too far.
        assert!(!marked(b"keyless:allow\n\nKEY", 15));
        assert!(marked(b"x\r\nKEY keyless:allow\r\n", 3));
    }
}
