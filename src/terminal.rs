//! What a person sees during a login: for a device login the URL and the
//! user code, the browser opened for them when there is a display, and a
//! spinner with the elapsed time when the output is a terminal; for a
//! browser (PKCE) login, the browser opened at the sign-in page.
//!
//! A browser is opened with `BROWSER` when it is set (a command given the
//! URL, as Python's `webbrowser` and the AWS CLI use it), else with the
//! platform's opener.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::auth::{CodeReceiver, LoginUi};
use crate::config::resolve::SsoSession;
use crate::identity_center::oidc::DeviceAuthorization;
use crate::identity_center::pkce::{LOGIN_TIMEOUT, Loopback, PkceError};
use crate::secret::Secret;

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

fn set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|x| !x.is_empty())
}

/// Whether a browser can be shown: an explicit `BROWSER`; else on Linux
/// and the BSDs a graphical session; elsewhere any session but SSH.
pub fn has_display() -> bool {
    if set("BROWSER") {
        return true;
    }
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return !set("SSH_CONNECTION");
    }
    ["DISPLAY", "WAYLAND_DISPLAY"].iter().any(|v| set(v))
}

/// Opens `url` in a browser: with `BROWSER` when set (the first command of
/// its `:`-separated list that starts; `%s` is replaced by the URL, else
/// the URL is the last argument), else with the platform's opener.
pub fn open_browser(url: &str) -> Result<(), String> {
    if let Some(list) = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty())
    {
        let mut last = String::from("BROWSER is empty");
        for command in list.split(':').filter(|c| !c.trim().is_empty()) {
            let mut words: Vec<String> = command.split_whitespace().map(String::from).collect();
            if words.iter().any(|w| w.contains("%s")) {
                for w in &mut words {
                    *w = w.replace("%s", url);
                }
            } else {
                words.push(url.to_string());
            }
            match std::process::Command::new(&words[0])
                .args(&words[1..])
                .stdin(std::process::Stdio::null())
                .stdout(std::process::Stdio::null())
                .spawn()
            {
                Ok(_) => return Ok(()),
                Err(e) => last = format!("BROWSER command {}: {e}", words[0]),
            }
        }
        return Err(last);
    }
    open::that_detached(url).map_err(|e| e.to_string())
}

/// The browser side of a PKCE login, writing to this UI's output.
pub struct BrowserLogin<'u> {
    loopback: Loopback,
    out: &'u mut (dyn Write + Send),
}

impl TerminalUi {
    /// A receiver for a PKCE login through `loopback`.
    pub fn browser_login(&mut self, loopback: Loopback) -> BrowserLogin<'_> {
        BrowserLogin {
            loopback,
            out: &mut *self.out,
        }
    }
}

impl CodeReceiver for BrowserLogin<'_> {
    fn redirect_uri(&self) -> String {
        self.loopback.redirect_uri()
    }

    async fn receive(self, url: &str, state: &str) -> Result<Secret<String>, PkceError> {
        let out = self.out;
        match open_browser(url) {
            Ok(()) => {
                let _ = writeln!(
                    out,
                    "Your browser has been opened to sign in. If it did not open, open this URL:"
                );
            }
            Err(e) => {
                let _ = writeln!(out, "Could not open a browser ({e}). Open this URL:");
            }
        }
        let _ = writeln!(out, "\n    {url}\n");
        let _ = writeln!(
            out,
            "Waiting for the browser (up to {} minutes; Ctrl-C to cancel)…",
            LOGIN_TIMEOUT.as_secs() / 60
        );
        let _ = out.flush();
        let code = self.loopback.wait(state, LOGIN_TIMEOUT).await;
        if code.is_ok() {
            let _ = writeln!(out, "Signed in.");
        }
        code
    }
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
            match open_browser(&device.verification_uri_complete) {
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
