//! The test harness: a private D-Bus session with a real gnome-keyring
//! Secret Service, a temporary HOME with AWS files, the Identity Center
//! emulator (`keyless dev-server`) as a child process, and a runner for the
//! real `keyless` binary. Every process started here is killed by PID when
//! its owner is dropped.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const KEYLESS: &str = env!("CARGO_BIN_EXE_keyless");

const PASSWORD: &str = "keyless-test-password";

const PACKAGES: &str = "dbus gnome-keyring libsecret-tools keyutils";

/// A private session bus with gnome-keyring's Secret Service on it.
pub struct SecretService {
    pub bus_address: String,
    children: Vec<Child>,
    _dir: tempfile::TempDir,
}

fn have(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()))
        .unwrap_or(false)
}

impl SecretService {
    /// Starts the bus and the keyring. Missing programs fail the test with
    /// the packages to install: a test that cannot run never passes.
    pub fn start() -> SecretService {
        let missing: Vec<_> = [
            "dbus-daemon",
            "dbus-send",
            "gnome-keyring-daemon",
            "secret-tool",
        ]
        .into_iter()
        .filter(|p| !have(p))
        .collect();
        assert!(
            missing.is_empty(),
            "{missing:?} not found: the Secret Service tests need a real gnome-keyring. \
             Install the Debian packages: apt-get install {PACKAGES} (bash tests/run does)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let runtime = dir.path().join("run");
        std::fs::create_dir(&runtime).unwrap();
        set_mode(&runtime, 0o700);

        // A bus of our own. The keyring is started below, unlocked with a
        // password on stdin. gnome-keyring-daemon can crash under load (a
        // GLib assertion on a client it no longer tracks); as on a desktop,
        // D-Bus activation then starts it again, with the same password and
        // the same keyring files, and `Drop` reports the crash.
        let services = dir.path().join("services");
        std::fs::create_dir(&services).unwrap();
        let restart = services.join("start-keyring");
        std::fs::write(
            &restart,
            format!(
                "#!/bin/sh\nprintf %s '{PASSWORD}' | exec gnome-keyring-daemon --foreground --unlock \
                 --components=secrets >> '{}' 2>&1\n",
                dir.path().join("gnome-keyring.log").display()
            ),
        )
        .unwrap();
        set_mode(&restart, 0o700);
        std::fs::write(
            services.join("org.freedesktop.secrets.service"),
            format!(
                "[D-BUS Service]\nName=org.freedesktop.secrets\nExec={}\n",
                restart.display()
            ),
        )
        .unwrap();
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\" \
                 \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n\
                 <busconfig><type>session</type><listen>unix:path={}</listen><auth>EXTERNAL</auth>\
                 <servicedir>{}</servicedir>\
                 <policy context=\"default\"><allow send_destination=\"*\" eavesdrop=\"true\"/>\
                 <allow eavesdrop=\"true\"/><allow own=\"*\"/></policy></busconfig>\n",
                dir.path().join("bus").display(),
                services.display()
            ),
        )
        .unwrap();
        let mut dbus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--nopidfile", "--print-address=1"])
            .env("HOME", dir.path())
            .env("XDG_RUNTIME_DIR", &runtime)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-daemon");
        let bus_address = read_first_line(dbus.stdout.take().unwrap(), Duration::from_secs(10))
            .expect("dbus-daemon printed no address");
        let mut service = SecretService {
            bus_address,
            children: vec![dbus],
            _dir: dir,
        };

        let log = std::fs::File::create(service._dir.path().join("gnome-keyring.log")).unwrap();
        let mut keyring = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", service._dir.path())
            .env("XDG_RUNTIME_DIR", &runtime)
            .env("DBUS_SESSION_BUS_ADDRESS", &service.bus_address)
            .stdin(Stdio::piped())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("start gnome-keyring-daemon");
        {
            let mut stdin = keyring.stdin.take().unwrap();
            stdin.write_all(PASSWORD.as_bytes()).unwrap();
        }
        service.children.push(keyring);
        service.wait_for_secrets();
        service
    }

    fn wait_for_secrets(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--dest=org.freedesktop.DBus",
                    "--print-reply",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
                .stdin(Stdio::null())
                .output();
            if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true")) {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("gnome-keyring-daemon did not appear on the private session bus within 15 s");
    }

    /// Removes the D-Bus activation file of the keyring daemon, so that a
    /// killed daemon stays down.
    pub fn disable_activation(&self) {
        std::fs::remove_file(
            self._dir
                .path()
                .join("services/org.freedesktop.secrets.service"),
        )
        .expect("remove the activation file");
        let out = Command::new("dbus-send")
            .args([
                "--session",
                "--dest=org.freedesktop.DBus",
                "--print-reply",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.ReloadConfig",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .stdin(Stdio::null())
            .output()
            .expect("dbus-send");
        assert!(out.status.success(), "ReloadConfig: {out:?}");
    }

    /// Kills the keyring daemon started by the harness; the next client
    /// call starts it again through D-Bus activation.
    pub fn kill_daemon(&mut self) {
        if self.children.len() > 1 {
            let mut keyring = self.children.remove(1);
            let _ = keyring.kill();
            let _ = keyring.wait();
        }
    }

    /// `secret-tool search --all service keyless`: the attributes of every
    /// keyless item, one map per item.
    pub fn items(&self) -> Vec<BTreeMap<String, String>> {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "--unlock", "service", "keyless"])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .stdin(Stdio::null())
            .output()
            .expect("secret-tool");
        // It exits 0 when nothing matches: a failure must never read as
        // "no item left".
        assert!(
            out.status.success(),
            "secret-tool search failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        // secret-tool prints "[/path]", label and secret on stdout and the
        // attributes of each item, in order, on stderr: an item's
        // attributes end where a name repeats.
        let headers = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("[/"))
            .count();
        let mut items = Vec::new();
        let mut current: Option<BTreeMap<String, String>> = None;
        for line in String::from_utf8_lossy(&out.stderr).lines() {
            let Some((k, v)) = line
                .strip_prefix("attribute.")
                .and_then(|l| l.split_once(" = "))
            else {
                continue;
            };
            if current.as_ref().is_some_and(|c| c.contains_key(k)) {
                items.extend(current.take());
            }
            current
                .get_or_insert_with(BTreeMap::new)
                .insert(k.to_string(), v.to_string());
        }
        items.extend(current);
        assert_eq!(
            items.len(),
            headers,
            "secret-tool output not understood: {items:?}"
        );
        items
    }

    /// The secret of one item looked up by attributes.
    pub fn lookup(&self, attributes: &[(&str, &str)]) -> Option<String> {
        let mut cmd = Command::new("secret-tool");
        cmd.arg("lookup");
        for (k, v) in attributes {
            cmd.args([k, v]);
        }
        let out = cmd
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .stdin(Stdio::null())
            .output()
            .expect("secret-tool");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).to_string())
    }

    /// Stores a secret under attributes (e.g. to plant a corrupt item).
    pub fn store(&self, label: &str, attributes: &[(&str, &str)], secret: &str) {
        let mut cmd = Command::new("secret-tool");
        cmd.args(["store", "--label", label]);
        for (k, v) in attributes {
            cmd.args([k, v]);
        }
        let mut child = cmd
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus_address)
            .stdin(Stdio::piped())
            .spawn()
            .expect("secret-tool");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(secret.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "secret-tool store failed");
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let crashed = self
            .children
            .iter_mut()
            .any(|c| c.try_wait().ok().flatten().is_some());
        if crashed || std::thread::panicking() {
            let log = std::fs::read_to_string(self._dir.path().join("gnome-keyring.log"))
                .unwrap_or_default();
            eprintln!(
                "--- NOTE: gnome-keyring-daemon {} during this test; its log:\n{log}---",
                if crashed {
                    "exited (restarted by D-Bus activation)"
                } else {
                    "was running"
                }
            );
        }
        for child in self.children.iter_mut().rev() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn read_first_line(stdout: ChildStdout, timeout: Duration) -> Option<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    rx.recv_timeout(timeout)
        .ok()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
}

/// `keyless dev-server` as a child process on a free loopback port.
pub struct Emulator {
    pub url: String,
    child: Child,
}

impl Emulator {
    pub fn start(args: &[&str]) -> Emulator {
        let mut child = Command::new(KEYLESS)
            .args(["dev-server", "--port", "0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start keyless dev-server");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(i) = line.find("http://127.0.0.1:") {
                    let url: String = line[i..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let _ = tx.send(url);
                    sent = true;
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("dev-server did not print its URL");
        Emulator {
            url: url.trim_end_matches('/').to_string(),
            child,
        }
    }

    /// One HTTP/1.1 request to the emulator; returns status and body.
    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
        http(&self.url, method, path, body)
    }

    /// The emulator's call counts per operation.
    pub fn stats(&self) -> serde_json::Value {
        let (status, body) = self.request("GET", "/_keyless/stats", None);
        assert_eq!(status, 200, "stats: {body}");
        serde_json::from_str(&body).expect("stats JSON")
    }

    /// How many calls the emulator answered for `operation` (e.g.
    /// `GetRoleCredentials`, `CreateToken`).
    pub fn count(&self, operation: &str) -> u64 {
        let stats = self.stats();
        stats["operations"][operation]["calls"]
            .as_u64()
            .unwrap_or_else(|| panic!("no count for {operation} in {stats}"))
    }

    pub fn control(&self, path: &str, body: serde_json::Value) {
        let (status, text) = self.request("POST", path, Some(&body.to_string()));
        assert!(status < 300, "{path}: {status} {text}");
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn http(base: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    let host = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(host).expect("connect to emulator");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

/// A temporary HOME with AWS files, a Secret Service and an emulator.
///
/// The kernel keyring is per user, so every test process sees the same
/// user and persistent keyrings. Each world therefore runs keyless with a
/// `KEYLESS_KEYRING_NAMESPACE` of its own (its kernel keys are described
/// `keyless:<namespace>:...`), and removes its kernel keys when dropped.
pub struct World {
    pub home: tempfile::TempDir,
    pub keyring: Option<SecretService>,
    pub emulator: Option<Emulator>,
    pub extra_env: Vec<(String, String)>,
    pub namespace: String,
}

/// One key in the kernel keyring, as `/proc/keys` shows it.
#[derive(Debug, Clone)]
pub struct KernelKey {
    pub id: String,
    /// `perm`, or the time left (`5s`, `59m`, `1h`).
    pub timeout: String,
    pub perm: String,
    /// Without the `keyless:<namespace>:` prefix.
    pub name: String,
}

pub const START_URL: &str = "https://d-1234567890.awsapps.com/start";

/// A config with one sso-session `corp` and a keyless profile `dev`.
pub fn standard_config() -> String {
    format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = us-east-1\n\
         sso_registration_scopes = sso:account:access\n\n\
         [profile dev]\ncredential_process = keyless credential-process --profile dev\n\
         keyless_sso_session = corp\nkeyless_account_id = 111122223333\nkeyless_role_name = Developer\n"
    )
}

impl World {
    /// A world without a keyring or emulator (for commands that need neither).
    pub fn bare() -> World {
        let home = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(home.path().join(".aws")).unwrap();
        // Unique on this machine, even across runs: the temporary
        // directory's random name.
        let namespace = format!(
            "test-{}",
            home.path()
                .file_name()
                .map(|n| n.to_string_lossy().trim_start_matches('.').to_string())
                .unwrap_or_default()
        );
        World {
            home,
            keyring: None,
            emulator: None,
            extra_env: vec![],
            namespace,
        }
    }

    /// A world with an emulator and no D-Bus at all: the bus address
    /// points at nothing, so the kernel keyring is the only store.
    pub fn headless(emulator_args: &[&str]) -> World {
        let mut world = World::bare();
        world.emulator = Some(Emulator::start(emulator_args));
        world.write_config(&standard_config());
        world.emulator().control(
            "/_keyless/config",
            serde_json::json!({"approval": {"mode": "auto", "afterPolls": 0}}),
        );
        world
    }

    /// This world's keys in the kernel keyring (user and persistent
    /// keyrings), from `/proc/keys`.
    pub fn kernel_keys(&self) -> Vec<KernelKey> {
        let prefix = format!("keyless:{}:", self.namespace);
        let text = std::fs::read_to_string("/proc/keys").expect("/proc/keys");
        text.lines()
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                // ID FLAGS USAGE TIMEOUT PERM UID GID TYPE DESCRIPTION: SUMMARY
                // Keys replaced, revoked or invalidated linger until the
                // garbage collector runs: only live ones count.
                let dead = fields
                    .get(1)
                    .is_none_or(|f| f.contains(['R', 'D', 'i', 'N']))
                    || fields.get(2) == Some(&"0");
                if fields.len() < 9 || fields[7] != "user" || dead {
                    return None;
                }
                let description = fields[8].trim_end_matches(':');
                let name = description.strip_prefix(&prefix)?;
                Some(KernelKey {
                    id: fields[0].to_string(),
                    timeout: fields[3].to_string(),
                    perm: fields[4].to_string(),
                    name: name.to_string(),
                })
            })
            .collect()
    }

    /// The description keyless gives the item `name` in this world.
    pub fn kernel_description(&self, name: &str) -> String {
        format!("keyless:{}:{name}", self.namespace)
    }

    /// A world with a keyring and an emulator started with `emulator_args`.
    pub fn new(emulator_args: &[&str]) -> World {
        let keyring = SecretService::start();
        let mut world = World::bare();
        world.keyring = Some(keyring);
        world.emulator = Some(Emulator::start(emulator_args));
        world.write_config(&standard_config());
        // Approve device codes at the first poll unless a test says otherwise.
        world.emulator().control(
            "/_keyless/config",
            serde_json::json!({"approval": {"mode": "auto", "afterPolls": 0}}),
        );
        world
    }

    pub fn emulator(&self) -> &Emulator {
        self.emulator.as_ref().expect("emulator")
    }

    pub fn keyring(&self) -> &SecretService {
        self.keyring.as_ref().expect("keyring")
    }

    pub fn config_path(&self) -> PathBuf {
        self.home.path().join(".aws/config")
    }

    pub fn credentials_path(&self) -> PathBuf {
        self.home.path().join(".aws/credentials")
    }

    /// keyless's state directory (`$XDG_STATE_HOME/keyless`).
    pub fn state_dir(&self) -> PathBuf {
        self.home.path().join(".local/state/keyless")
    }

    pub fn write_config(&self, text: &str) {
        std::fs::write(self.config_path(), text).unwrap();
    }

    pub fn write_credentials(&self, text: &str) {
        std::fs::write(self.credentials_path(), text).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.command_for(KEYLESS, args)
    }

    /// Any program with this world's environment, and the keyless binary's
    /// directory first on PATH (so `credential_process = keyless …` runs it).
    pub fn command_for(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args);
        let bin_dir = Path::new(KEYLESS).parent().expect("binary directory");
        let mut path = vec![bin_dir.to_path_buf()];
        path.extend(std::env::split_paths(
            &std::env::var_os("PATH").unwrap_or_default(),
        ));
        cmd.env("PATH", std::env::join_paths(path).expect("PATH"));
        for (k, _) in std::env::vars_os() {
            let k = k.to_string_lossy().to_string();
            if k.starts_with("AWS_") || k.starts_with("KEYLESS_") || k.starts_with("XDG_") {
                cmd.env_remove(&k);
            }
        }
        cmd.env("HOME", self.home.path())
            .env("KEYLESS_KEYRING_NAMESPACE", &self.namespace)
            .env("AWS_CONFIG_FILE", self.config_path())
            .env("AWS_SHARED_CREDENTIALS_FILE", self.credentials_path())
            .env("XDG_STATE_HOME", self.home.path().join(".local/state"))
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("BROWSER")
            .env("NO_COLOR", "1");
        match &self.keyring {
            Some(k) => cmd.env("DBUS_SESSION_BUS_ADDRESS", &k.bus_address),
            None => cmd.env(
                "DBUS_SESSION_BUS_ADDRESS",
                "unix:path=/nonexistent/keyless-test-bus",
            ),
        };
        if let Some(e) = &self.emulator {
            cmd.env("AWS_ENDPOINT_URL_SSO", &e.url)
                .env("AWS_ENDPOINT_URL_SSO_OIDC", &e.url);
        }
        for (k, v) in &self.extra_env {
            cmd.env(k, v);
        }
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Runs keyless to completion (bounded: a hung process fails the test).
    pub fn run(&self, args: &[&str]) -> Run {
        let child = self
            .command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run keyless");
        Run::wait(child, args, Duration::from_secs(120))
    }

    /// Signs in to `corp` (the emulator approves at once by default).
    pub fn login(&self) {
        self.run(&["login", "--sso-session", "corp", "--no-browser"])
            .success();
    }

    /// Every file under HOME except the keyring's own, with its bytes.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.home.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    out.push((path, bytes));
                }
            }
        }
        out
    }
}

impl Drop for World {
    fn drop(&mut self) {
        if !Path::new("/proc/keys").exists() {
            return;
        }
        for key in self.kernel_keys() {
            let _ = Command::new("keyctl")
                .args(["invalidate", &format!("0x{}", key.id)])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
}

/// Runs `keyctl` (Debian package keyutils); a missing tool fails the test.
pub fn keyctl(args: &[&str]) -> Output {
    assert!(
        have("keyctl"),
        "keyctl not found: the kernel keyring tests need it. Install the Debian package: \
         apt-get install keyutils (bash tests/run does)"
    );
    Command::new("keyctl")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run keyctl")
}

/// A finished `keyless` process.
pub struct Run {
    pub args: String,
    pub output: Output,
}

impl Run {
    /// Waits for `child`, reading its stdout and stderr all along (a child
    /// that writes more than a pipe holds must not block), and kills it
    /// after `timeout`.
    pub fn wait(mut child: Child, args: &[&str], timeout: Duration) -> Run {
        fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<Vec<u8>> {
            std::thread::spawn(move || {
                let mut bytes = Vec::new();
                if let Some(mut pipe) = pipe {
                    let _ = pipe.read_to_end(&mut bytes);
                }
                bytes
            })
        }
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = stderr.join().unwrap_or_default();
                panic!(
                    "keyless {args:?} hung for more than {timeout:?}; stderr: {}",
                    String::from_utf8_lossy(&stderr)
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        Run {
            args: args.join(" "),
            output: Output {
                status,
                stdout: stdout.join().unwrap_or_default(),
                stderr: stderr.join().unwrap_or_default(),
            },
        }
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).to_string()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).to_string()
    }

    pub fn code(&self) -> i32 {
        self.output.status.code().unwrap_or(-1)
    }

    #[track_caller]
    pub fn success(&self) -> &Run {
        assert_eq!(
            self.code(),
            0,
            "keyless {} failed:\nstdout: {}\nstderr: {}",
            self.args,
            self.stdout(),
            self.stderr()
        );
        self
    }

    #[track_caller]
    pub fn failure(&self, code: i32) -> &Run {
        assert_eq!(
            self.code(),
            code,
            "keyless {}: expected exit {code}:\nstdout: {}\nstderr: {}",
            self.args,
            self.stdout(),
            self.stderr()
        );
        self
    }

    /// The one JSON object `credential-process` printed.
    #[track_caller]
    pub fn process_json(&self) -> serde_json::Value {
        let out = self.stdout();
        let v: serde_json::Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("stdout is not one JSON object ({e}): {out:?}"));
        assert!(v.is_object(), "{out}");
        v
    }
}

/// A world with a private Secret Service and an emulator started with
/// these arguments.
#[macro_export]
macro_rules! world {
    ($($arg:expr),* $(,)?) => {
        $crate::harness::World::new(&[$($arg),*])
    };
}

/// Runs a Python (boto3) command against moto, without the instance
/// metadata lookup; panics with its stderr, naming `what`, when it fails.
/// Returns its stdout.
pub fn run_python(mut cmd: Command, what: &str) -> String {
    let out = cmd
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdin(Stdio::null())
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("python's output is UTF-8")
}

/// A local moto server (`moto_server -p0`, from `pip install 'moto[server]'`)
/// as a child process on a free loopback port, with AWS-managed policies
/// loaded (for AdministratorAccess). Killed by PID when dropped.
pub struct Moto {
    pub url: String,
    child: Child,
}

pub const MOTO_PACKAGE: &str = "moto[server]";

impl Moto {
    pub fn start() -> Moto {
        Moto::start_with(&[("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")])
    }

    pub fn start_with(env: &[(&str, &str)]) -> Moto {
        let mut cmd = Command::new("moto_server");
        cmd.args(["-H", "127.0.0.1", "-p0"]);
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start moto_server ({e}): install it with pip install '{MOTO_PACKAGE}'"
                )
            });
        // Werkzeug says "Running on http://127.0.0.1:PORT" on stderr.
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && let Some(i) = line.find("http://127.0.0.1:") {
                    let url = line[i..]
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_string();
                    let _ = tx.send(url);
                    sent = true;
                }
            }
        });
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("moto_server did not print its URL");
        Moto {
            url: url.trim_end_matches('/').to_string(),
            child,
        }
    }

    /// Runs `tests/data/audit/plant.py URL ARGS…` (boto3 against this
    /// server); panics with its stderr if it fails.
    pub fn python(&self, args: &[&str]) {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/audit/plant.py");
        let mut cmd = Command::new("python3");
        cmd.arg(&script).arg(&self.url).args(args);
        run_python(cmd, &format!("{} {args:?}", script.display()));
    }

    /// Every secret access key and session token moto holds (its state
    /// dump): for leak checks.
    pub fn secrets(&self) -> Vec<String> {
        let (status, body) = http(&self.url, "GET", "/moto-api/data.json", None);
        assert_eq!(status, 200, "moto data.json: {body}");
        let value: serde_json::Value = serde_json::from_str(&body).expect("moto state JSON");
        let mut found = Vec::new();
        collect_secrets(&value, &mut found);
        found
    }
}

fn collect_secrets(value: &serde_json::Value, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let k = k.to_ascii_lowercase().replace('_', "");
                if (k.contains("secretaccesskey") || k.contains("sessiontoken"))
                    && let Some(s) = v.as_str()
                    && s.len() >= 16
                {
                    found.push(s.to_string());
                } else {
                    collect_secrets(v, found);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_secrets(v, found)),
        _ => {}
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
