//! What a person sees during a device login: the URL and the user code,
//! the browser opened for them when there is a display, and a spinner
//! with the elapsed time when the output is a terminal.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::auth::LoginUi;
use crate::config::resolve::SsoSession;
use crate::identity_center::oidc::DeviceAuthorization;

const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPINNER_EVERY: Duration = Duration::from_millis(100);

pub struct TerminalUi {
    out: Box<dyn Write + Send>,
    spinner: bool,
    open_browser: bool,
    last_tick: Option<Instant>,
    frame: usize,
}

impl TerminalUi {
    /// The login command's UI on stderr.
    pub fn stderr(open_browser: bool) -> TerminalUi {
        let spinner = std::io::IsTerminal::is_terminal(&std::io::stderr());
        TerminalUi::new(Box::new(std::io::stderr()), spinner, open_browser)
    }

    /// For `credential-process --auto-login`: SDKs capture stderr, so write
    /// to the controlling terminal when there is one (else stderr, which
    /// the SDK shows if the login fails).
    pub fn controlling_terminal() -> TerminalUi {
        match std::fs::OpenOptions::new().write(true).open(tty_path()) {
            Ok(tty) => TerminalUi::new(Box::new(tty), true, true),
            Err(_) => TerminalUi::new(Box::new(std::io::stderr()), false, true),
        }
    }

    pub fn new(out: Box<dyn Write + Send>, spinner: bool, open_browser: bool) -> TerminalUi {
        TerminalUi {
            out,
            spinner,
            open_browser,
            last_tick: None,
            frame: 0,
        }
    }

    fn clear_spinner(&mut self) {
        if self.spinner && self.last_tick.is_some() {
            let _ = write!(self.out, "\r\x1b[2K");
            let _ = self.out.flush();
        }
    }
}

#[cfg(unix)]
fn tty_path() -> &'static str {
    "/dev/tty"
}

#[cfg(windows)]
fn tty_path() -> &'static str {
    "CONOUT$"
}

/// Whether a browser can be shown: on Linux and the BSDs a graphical
/// session (or an explicit `BROWSER`); elsewhere always.
pub fn has_display() -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY", "BROWSER"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}

impl LoginUi for TerminalUi {
    fn prompt(&mut self, session: &SsoSession, device: &DeviceAuthorization) {
        let out = &mut self.out;
        let _ = writeln!(
            out,
            "Signing in to IAM Identity Center ({}, sso-session '{}').",
            session.start_url, session.name
        );
        let opened = if !self.open_browser {
            let _ = writeln!(out, "Open this URL in a browser:");
            false
        } else if !has_display() {
            let _ = writeln!(
                out,
                "No display found, so no browser was opened. Open this URL in a browser:"
            );
            false
        } else {
            match open::that_detached(&device.verification_uri_complete) {
                Ok(()) => {
                    let _ = writeln!(out, "Your browser has been opened at:");
                    true
                }
                Err(e) => {
                    let _ = writeln!(
                        out,
                        "Could not open a browser ({e}). Open this URL in a browser:"
                    );
                    false
                }
            }
        };
        let _ = writeln!(out, "\n    {}\n", device.verification_uri_complete);
        if !opened {
            let _ = writeln!(
                out,
                "(or go to {} and enter the code below)",
                device.verification_uri
            );
        }
        let _ = writeln!(
            out,
            "Check that the page shows this code, then approve:\n\n    {}\n",
            device.user_code
        );
        let _ = out.flush();
    }

    fn waiting(&mut self, elapsed: Duration) {
        if !self.spinner {
            return;
        }
        let due = self.last_tick.is_none_or(|t| t.elapsed() >= SPINNER_EVERY);
        if !due {
            return;
        }
        self.last_tick = Some(Instant::now());
        self.frame = (self.frame + 1) % SPINNER.len();
        let _ = write!(
            self.out,
            "\r{} waiting for approval in the browser… {}s (Ctrl-C to cancel)",
            SPINNER[self.frame],
            elapsed.as_secs()
        );
        let _ = self.out.flush();
    }

    fn finished(&mut self, approved: bool) {
        self.clear_spinner();
        if approved {
            let _ = writeln!(self.out, "Signed in.");
        }
        let _ = self.out.flush();
    }
}
