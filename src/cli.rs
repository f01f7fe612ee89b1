//! Command-line types only: parsing, no behaviour.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::emulator;
use crate::policy::alert::DEFAULT_TOPIC_NAME;
use crate::policy::scp::{DEFAULT_EXEMPT_PATH, SCP_SIZE_LIMIT};
use crate::scan::walk::DEFAULT_MAX_FILE_SIZE;
use crate::shell::prompt::DEFAULT_FORMAT;

#[derive(Debug, Parser)]
#[command(
    name = "keyless",
    version = crate::VERSION,
    about = "Short-lived AWS credentials from IAM Identity Center, kept in the OS keyring",
    long_about = "keyless replaces long-lived AWS access keys with short-lived role credentials \
                  from IAM Identity Center. Credentials and tokens live only in the OS keyring."
)]
pub struct Cli {
    /// More detail on stderr (-v, -vv). Also KEYLESS_LOG=debug. Never shows a secret.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Say nothing on stderr but warnings and errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// `keyless prompt` alone: the whole command tree is not built on the
/// prompt path, which runs before every shell prompt.
#[derive(Debug, Parser)]
#[command(name = "keyless", bin_name = "keyless prompt", version = crate::VERSION)]
pub struct PromptOnly {
    /// `prompt` itself.
    #[arg(hide = true)]
    pub prompt: String,
    #[command(flatten)]
    pub args: PromptArgs,
}

/// The command lines of the two commands that run most often, `keyless
/// credential-process` (on every SDK credential refresh) and `keyless
/// prompt` (on every shell prompt), read without building the clap command
/// tree, which costs more than the rest of a cache hit. Only the plain
/// forms are taken: long options, each at most once, every value given as
/// UTF-8 that is not empty and does not start with `-`. Anything else
/// (help, version, a short or global option, an unknown or repeated one, a
/// combination clap would refuse) is `None`, and clap parses the command
/// line as usual, with its errors and help. `args` starts after the
/// subcommand's name.
impl CredentialProcessArgs {
    pub fn from_plain_argv(args: impl Iterator<Item = std::ffi::OsString>) -> Option<Self> {
        let mut out = CredentialProcessArgs {
            profile: None,
            sso_session: None,
            account_id: None,
            role_name: None,
            auto_login: false,
        };
        let mut args = args;
        while let Some(arg) = args.next() {
            let arg = arg.into_string().ok()?;
            let (name, inline) = split_long(&arg);
            let slot = match name {
                "--auto-login" if inline.is_none() && !out.auto_login => {
                    out.auto_login = true;
                    continue;
                }
                "--profile" => &mut out.profile,
                "--sso-session" => &mut out.sso_session,
                "--account-id" => &mut out.account_id,
                "--role-name" => &mut out.role_name,
                _ => return None,
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(plain_value(inline, &mut args)?);
        }
        let explicit = [&out.sso_session, &out.account_id, &out.role_name]
            .iter()
            .filter(|v| v.is_some())
            .count();
        // --profile conflicts with the other three, which go together.
        match (out.profile.is_some(), explicit) {
            (_, 0) | (false, 3) => Some(out),
            _ => None,
        }
    }
}

impl PromptArgs {
    /// As [`CredentialProcessArgs::from_plain_argv`], for `keyless prompt`.
    pub fn from_plain_argv(args: impl Iterator<Item = std::ffi::OsString>) -> Option<Self> {
        let (mut profile, mut format, mut color, mut shell) = (None, None, false, None);
        let mut args = args;
        while let Some(arg) = args.next() {
            let arg = arg.into_string().ok()?;
            let (name, inline) = split_long(&arg);
            let slot = match name {
                "--color" if inline.is_none() && !color => {
                    color = true;
                    continue;
                }
                "--profile" => &mut profile,
                "--format" => &mut format,
                "--shell" => &mut shell,
                _ => return None,
            };
            if slot.is_some() {
                return None;
            }
            *slot = Some(plain_value(inline, &mut args)?);
        }
        let shell = match shell {
            None => PromptShell::Plain,
            Some(name) => PromptShell::from_str(&name, false).ok()?,
        };
        Some(PromptArgs {
            profile,
            format: format.unwrap_or_else(|| DEFAULT_FORMAT.to_string()),
            color,
            shell,
        })
    }
}

/// `--name=value` as (`--name`, `Some(value)`); anything else as it is.
fn split_long(arg: &str) -> (&str, Option<&str>) {
    match arg.split_once('=') {
        Some((name, value)) if name.starts_with("--") => (name, Some(value)),
        _ => (arg, None),
    }
}

/// An option's value, inline or the next argument, if it is plain.
fn plain_value(
    inline: Option<&str>,
    rest: &mut impl Iterator<Item = std::ffi::OsString>,
) -> Option<String> {
    let value = match inline {
        Some(value) => value.to_string(),
        None => rest.next()?.into_string().ok()?,
    };
    (!value.is_empty() && !value.starts_with('-')).then_some(value)
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in to an sso-session with the device-authorization flow.
    Login(LoginArgs),
    /// Print temporary role credentials for the AWS `credential_process` setting.
    CredentialProcess(CredentialProcessArgs),
    /// Sign out: end the portal session and delete its token and credentials.
    Logout(LogoutArgs),
    /// See the whole flow on this machine, with no AWS account: a local emulator, a real login, real credentials.
    Demo,
    /// Run a local IAM Identity Center emulator (OIDC + portal) on 127.0.0.1.
    DevServer(DevServerArgs),
    /// Find long-lived AWS access keys in the AWS files, the environment and the paths given.
    Scan(ScanArgs),
    /// Guardrails against long-lived keys for platform teams: an SCP, an RCP and alert rules.
    Policy(PolicyArgs),
    /// Show sso-sessions and cached roles with the time they have left (offline).
    Status(StatusArgs),
    /// Print a short segment for the shell prompt, e.g. `dev 42m` (offline, silent on failure).
    Prompt(PromptArgs),
    /// Run a command with temporary role credentials in its environment.
    Exec(ExecArgs),
    /// Print temporary role credentials as variables for a shell, or as JSON.
    Export(ExportArgs),
    /// Print the line that loads the shell integration (prompt segment, keyless-use, completion).
    ShellInit(ShellInitArgs),
    /// Print a completion script for a shell.
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `keyless man | man -l -`.
    Man(ManArgs),
    /// Check the keyring, the AWS files, the clock and the keyless on PATH; each problem with its fix.
    Doctor(DoctorArgs),
    /// Measure the long-lived access keys of many accounts: age, use, admin rights, failed rotations, root keys, departed owners.
    Audit(AuditArgs),
    /// Set up keyless for an IAM Identity Center: the sso-session, sign-in, one profile per account and role, and retirement of static keys.
    Onboard(OnboardArgs),
    /// The profiles keyless manages (`keyless profiles sync`).
    Profiles(ProfilesArgs),
    /// Move static access keys out of the AWS files, after proving a keyless profile for the same account works.
    Retire(RetireArgs),
}

/// `--format` of commands whose output is text or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// For people.
    Text,
    /// One JSON document (schema_version 1).
    Json,
}

/// Every sso-session and every cached role, from the state file only:
/// never the keyring, never the network.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format (JSON schema in docs/status.md).
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
}

/// Which shell's prompt the segment is for (how colour codes are escaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PromptShell {
    /// Raw text: fish, PowerShell, starship.
    Plain,
    /// bash PS1: colour codes marked as zero-width for readline.
    Bash,
    /// zsh PROMPT with prompt_subst: colour codes marked as zero-width, percent signs doubled.
    Zsh,
}

/// One short segment for PS1. Reads the environment, then at most the state
/// file and the config file; never the keyring or the network. Prints
/// nothing, and exits 0, when there is nothing to show or anything fails.
#[derive(Debug, Args)]
pub struct PromptArgs {
    /// The profile to show (default: AWS_PROFILE). Credentials from `keyless exec` or
    /// `keyless export` in the environment are shown by their AWS_CREDENTIAL_EXPIRATION.
    #[arg(long)]
    pub profile: Option<String>,
    /// The segment: {profile}, {remaining}, {account}, {role}, {session}.
    #[arg(long, default_value = DEFAULT_FORMAT)]
    pub format: String,
    /// Colour the segment: green, yellow under 15 minutes left, red when expired.
    #[arg(long)]
    pub color: bool,
    /// The prompt the segment is written into.
    #[arg(long, value_enum, default_value_t = PromptShell::Plain)]
    pub shell: PromptShell,
}

/// Runs CMD with AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
/// AWS_CREDENTIAL_EXPIRATION and (from the profile) AWS_REGION and
/// AWS_DEFAULT_REGION set, and AWS_PROFILE removed. Signals are passed on;
/// the exit status is CMD's (128+N if a signal ended it).
#[derive(Debug, Args)]
pub struct ExecArgs {
    /// The profile to get credentials for (default: AWS_PROFILE, else "default").
    #[arg(long)]
    pub profile: Option<String>,
    /// Sign in through the browser when needed, instead of failing.
    #[arg(long)]
    pub auto_login: bool,
    /// The command and its arguments (default: $SHELL).
    #[arg(
        value_name = "CMD",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<String>,
}

/// `keyless export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// sh, bash, zsh: export lines, to eval.
    Env,
    /// One JSON object of the variables.
    Json,
    /// PowerShell: lines for Invoke-Expression.
    Powershell,
    /// fish: lines to source.
    Fish,
}

/// Prints temporary credentials as variables for a shell (nothing else on
/// stdout), for tools that cannot use `credential_process`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The profile to get credentials for (default: AWS_PROFILE, else "default").
    #[arg(long)]
    pub profile: Option<String>,
    /// How to print them.
    #[arg(long, value_enum, default_value_t = ExportFormat::Env)]
    pub format: ExportFormat,
    /// Sign in through the browser when needed, instead of failing.
    #[arg(long)]
    pub auto_login: bool,
}

/// A shell keyless integrates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitShell {
    Bash,
    Zsh,
    Fish,
    Powershell,
}

/// Prints one line to add to the shell's rc file; it loads the full script
/// through this binary's absolute path.
#[derive(Debug, Args)]
pub struct ShellInitArgs {
    #[arg(value_enum)]
    pub shell: InitShell,
    /// Print the full script instead of the one-line loader.
    #[arg(long)]
    pub full: bool,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// A subcommand's page instead of keyless(1), e.g. `exec`.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}

/// Checks and explains: the keyring is reachable, the AWS files parse and
/// each keyless profile resolves, no static key shadows a keyless profile,
/// the clock agrees with the server, the keyless on PATH is the one the
/// profiles run. Exit 0 when all is well, 1 when something needs fixing.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Skip the checks that need the network (the clock check).
    #[arg(long)]
    pub offline: bool,
}

#[derive(Debug, Args)]
pub struct OnboardArgs {
    /// The AWS access portal URL, e.g. https://d-1234567890.awsapps.com/start.
    #[arg(long, value_name = "URL")]
    pub start_url: String,
    /// The region of the IAM Identity Center instance.
    #[arg(long, value_name = "REGION")]
    pub sso_region: String,
    /// Name of the [sso-session] section (default: one that already has this start URL, else
    /// the URL's first host label).
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,
    /// `region` written into each new profile.
    #[arg(long, value_name = "REGION")]
    pub default_region: Option<String>,
    /// Profile names: {account_name}, {account_id}, {role_name}, {sso_session} and text
    /// [default: {account_name}-{role_name}].
    #[arg(long, value_name = "TEMPLATE")]
    pub profile_template: Option<String>,
    /// Turn AWS-CLI SSO profiles (sso_session, sso_account_id, sso_role_name) of this start URL
    /// into keyless profiles; their names stay.
    #[arg(long)]
    pub convert: bool,
    /// Retire every static key a new profile can replace, without asking.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the changes as a diff on stdout and write nothing (it still signs in, to discover).
    #[arg(long)]
    pub dry_run: bool,
    /// Do not open a browser; print the URL and code only.
    #[arg(long)]
    pub no_browser: bool,
    /// Sign in with the browser (authorization code with PKCE), and record
    /// `keyless_login = pkce` in the sso-session so later logins do too.
    #[arg(long, conflicts_with = "no_browser")]
    pub pkce: bool,
}

#[derive(Debug, Args)]
pub struct ProfilesArgs {
    #[command(subcommand)]
    pub command: ProfilesCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProfilesCommand {
    /// Re-discover accounts and roles and update the profiles keyless manages (idempotent).
    Sync(ProfilesSyncArgs),
}

#[derive(Debug, Args)]
pub struct ProfilesSyncArgs {
    /// The sso-session whose profiles to sync (default: every sso-session with managed profiles,
    /// or the only one).
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,
    /// Remove managed profiles whose account or role is no longer assigned.
    #[arg(long)]
    pub prune: bool,
    /// Turn AWS-CLI SSO profiles of the sso-session into keyless profiles too.
    #[arg(long)]
    pub convert: bool,
    /// Show the changes as a diff on stdout and write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct RetireArgs {
    /// Retire only the keys of these profiles (default: every long-lived key in the AWS files).
    #[arg(long, value_name = "PROFILE", conflicts_with = "restore")]
    pub profile: Vec<String>,
    /// Keep profile P and point it at ACCOUNT/ROLE through keyless, e.g. work=111122223333/Developer.
    #[arg(long, value_name = "P=ACCOUNT/ROLE", conflicts_with = "restore")]
    pub map: Vec<String>,
    /// The sso-session for --map (default: the only one in the config file).
    #[arg(long, value_name = "NAME", conflicts_with = "restore")]
    pub sso_session: Option<String>,
    /// Also set each retired key Inactive in IAM (after showing its last use).
    #[arg(long, conflicts_with = "restore")]
    pub deactivate: bool,
    /// Do not ask before retiring.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show the changes as a diff on stdout; write nothing and call no IAM API.
    #[arg(long, conflicts_with = "restore")]
    pub dry_run: bool,
    /// Put back the files saved in BACKUP (a directory keyless printed) and re-activate the keys
    /// it deactivated.
    #[arg(long, value_name = "BACKUP")]
    pub restore: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The sso-session to sign in to (an [sso-session NAME] section).
    #[arg(long, conflicts_with = "profile")]
    pub sso_session: Option<String>,
    /// Sign in to the sso-session this profile uses (default: AWS_PROFILE, else "default").
    #[arg(long)]
    pub profile: Option<String>,
    /// Do not open a browser; print the URL and code only.
    #[arg(long)]
    pub no_browser: bool,
    /// Sign in with the browser (authorization code with PKCE) rather than
    /// a device code; also `keyless_login = pkce` in the sso-session.
    #[arg(long, conflicts_with = "no_browser")]
    pub pkce: bool,
}

#[derive(Debug, Args)]
pub struct CredentialProcessArgs {
    /// The profile to get credentials for (default: AWS_PROFILE, else "default").
    #[arg(long, conflicts_with_all = ["sso_session", "account_id", "role_name"])]
    pub profile: Option<String>,
    /// With --account-id and --role-name: the sso-session to use, without a profile.
    #[arg(long, requires_all = ["account_id", "role_name"])]
    pub sso_session: Option<String>,
    /// The AWS account ID (12 digits).
    #[arg(long, requires_all = ["sso_session", "role_name"])]
    pub account_id: Option<String>,
    /// The permission set (role) name.
    #[arg(long, requires_all = ["sso_session", "account_id"])]
    pub role_name: Option<String>,
    /// Sign in through the browser when needed, instead of failing.
    #[arg(long)]
    pub auto_login: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// The sso-session to sign out of.
    #[arg(long, conflicts_with_all = ["profile", "all"])]
    pub sso_session: Option<String>,
    /// Sign out of the sso-session this profile uses.
    #[arg(long, conflicts_with = "all")]
    pub profile: Option<String>,
    /// Sign out of every sso-session keyless knows.
    #[arg(long)]
    pub all: bool,
}

/// The port `dev-server` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 7788;

#[derive(Debug, Args)]
pub struct DevServerArgs {
    /// Port on 127.0.0.1 (0 picks a free one and prints it).
    #[arg(long, default_value_t = DEFAULT_PORT)]
    pub port: u16,

    /// Approve a device code after this many CreateToken polls (0: at once).
    #[arg(long, value_name = "N", default_value_t = 1, conflicts_with_all = ["deny", "manual"])]
    pub approve_after: u32,

    /// Approve device codes only on the browser page (verificationUri).
    #[arg(long, conflicts_with = "deny")]
    pub manual: bool,

    /// Deny every device code (AccessDeniedException).
    #[arg(long)]
    pub deny: bool,

    /// Number of generated accounts (default: three sample accounts).
    #[arg(long, value_name = "N")]
    pub accounts: Option<usize>,

    /// Role names assigned in every account, comma-separated.
    #[arg(long, value_name = "ROLE,…", value_delimiter = ',')]
    pub roles: Vec<String>,

    /// Access-token lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_ACCESS_TOKEN_TTL_SECS)]
    pub token_ttl: u64,

    /// Role-credential lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_ROLE_CREDENTIAL_TTL_SECS)]
    pub credential_ttl: u64,

    /// Client-registration lifetime in seconds.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_REGISTRATION_TTL_SECS)]
    pub registration_ttl: u64,

    /// Device-code lifetime (`expiresIn`) in seconds.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_DEVICE_CODE_TTL_SECS)]
    pub device_code_ttl: u64,

    /// Poll `interval` in seconds sent with device codes.
    #[arg(long, value_name = "SECS", default_value_t = emulator::DEFAULT_POLL_INTERVAL_SECS)]
    pub interval: u64,

    /// Leave `interval` out of device authorizations.
    #[arg(long)]
    pub no_interval: bool,

    /// Answer SlowDownException to polls that come sooner than the interval.
    #[arg(long)]
    pub enforce_interval: bool,

    /// Issue no refresh tokens.
    #[arg(long)]
    pub no_refresh_token: bool,

    /// What a refresh does with the refresh token.
    #[arg(long, value_enum, default_value_t = Rotation::Rotate)]
    pub refresh_rotation: Rotation,

    /// First four characters of issued access key IDs (AKIA imitates a long-lived key).
    #[arg(long, value_name = "PREFIX", default_value = "ASIA")]
    pub access_key_prefix: String,

    /// Leave the session token out of role credentials.
    #[arg(long)]
    pub omit_session_token: bool,

    /// Text embedded in every secret issued, to search logs for leaks.
    #[arg(long, value_name = "TEXT", default_value = emulator::DEFAULT_SECRET_MARKER)]
    pub marker: String,

    /// Mint role credentials with STS AssumeRole (arn:aws:iam::ACCOUNT:role/ROLE) at this
    /// endpoint, e.g. a local moto server, so that it accepts them for the right account.
    #[arg(long, value_name = "URL")]
    pub sts_endpoint: Option<String>,
}

/// `keyless audit --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AuditFormat {
    /// The metrics table, then the findings grouped by account.
    Text,
    /// One JSON snapshot (the contract in docs/audit.md); also a baseline.
    Json,
    /// One finding a row, for spreadsheets.
    Csv,
}

/// Measure the long-lived IAM access keys of an organisation.
///
/// Accounts come from one of: the Identity Center portal (--sso-session S
/// --role-name R), AWS Organizations (--profile P --organization
/// --assume-role-name R), one profile's account (--profile P), or IAM
/// credential-report CSV files (--from-report FILE…, offline). Exit status:
/// 0 nothing over a threshold, 1 findings, 2 an account or file could not
/// be audited.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Every account the signed-in user sees in this sso-session's portal.
    #[arg(long, requires = "role_name", conflicts_with_all = ["profile", "from_report"])]
    pub sso_session: Option<String>,
    /// With --sso-session: the role (permission set) to enter each account with, e.g. SecurityAudit.
    #[arg(long, requires = "sso_session")]
    pub role_name: Option<String>,

    /// The profile whose credentials are used (one account, or the organization's management account).
    #[arg(long, conflicts_with = "from_report")]
    pub profile: Option<String>,
    /// With --profile: every account of the organization (Organizations ListAccounts).
    #[arg(long, requires_all = ["profile", "assume_role_name"])]
    pub organization: bool,
    /// With --organization: the role assumed in each account (arn:aws:iam::ACCOUNT:role/NAME).
    #[arg(long, requires = "organization")]
    pub assume_role_name: Option<String>,

    /// IAM credential-report CSV files, audited offline.
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub from_report: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Text)]
    pub format: AuditFormat,
    /// A JSON snapshot of an earlier audit: show before, after and delta for each metric.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<PathBuf>,

    /// Active keys older than this many days are findings (Security Hub IAM.3).
    #[arg(long, value_name = "DAYS", default_value_t = crate::audit::DEFAULT_MAX_AGE_DAYS)]
    pub max_age: i64,
    /// Active keys unused (or never used) for this many days are findings (IAM.8).
    #[arg(long, value_name = "DAYS", default_value_t = crate::audit::DEFAULT_MAX_UNUSED_DAYS)]
    pub max_unused: i64,
    /// Users under this IAM path are documented exceptions (repeatable).
    #[arg(long, value_name = "PATH", default_values_t = [crate::audit::DEFAULT_EXEMPT_PATH.to_string()])]
    pub exempt_path: Vec<String>,
    /// The people still here, one user name or e-mail a line: keys of any other user are departed-owner findings.
    #[arg(long, value_name = "FILE")]
    pub people: Option<PathBuf>,
    /// The people still here are the users of this IAM Identity Center identity store (d-1234567890), listed with the --profile credentials or the default ones.
    #[arg(long, value_name = "ID", conflicts_with = "people")]
    pub identity_store_id: Option<String>,
    /// Audit as of this date (YYYY-MM-DD or RFC 3339) instead of now: "what will be over 90 days next month?".
    #[arg(long, value_name = "DATE")]
    pub as_of: Option<String>,

    /// Accounts audited at the same time.
    #[arg(long, value_name = "N", default_value_t = crate::audit::collect::DEFAULT_CONCURRENCY)]
    pub concurrency: usize,
    /// Give up on an account after this many seconds (it is reported, the rest goes on).
    #[arg(long, value_name = "SECS", default_value_t = crate::audit::collect::DEFAULT_ACCOUNT_TIMEOUT.as_secs())]
    pub account_timeout: u64,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum Rotation {
    /// A new refresh token each time; the old one stops working.
    Rotate,
    /// No refresh token in the answer; the old one keeps working.
    Omit,
    /// The same refresh token again.
    Same,
}

/// `keyless scan --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Text,
    /// One JSON document (schema in docs/scan.md).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour when stdout is a terminal and NO_COLOR is unset.
    Auto,
    Always,
    Never,
}

/// Find long-lived AWS keys (AKIA…) on this machine and explain each one.
///
/// Always reads the AWS credentials and config files (AWS_SHARED_CREDENTIALS_FILE,
/// AWS_CONFIG_FILE) and the environment; searches any PATH given as free-form
/// text. Never prints a secret. Exit status: 0 no long-lived key, 1 a long-lived
/// key found, 2 something could not be scanned.
#[derive(Debug, Clone, Args)]
pub struct ScanArgs {
    /// Files or directories to search too (dotfiles, .env files, shell history,
    /// project trees).
    #[arg(value_name = "PATH")]
    pub paths: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Do not check AWS_ACCESS_KEY_ID and friends in the environment.
    #[arg(long)]
    pub no_env: bool,

    /// Do not read the AWS credentials and config files.
    #[arg(long)]
    pub no_aws_files: bool,

    /// Search files that .gitignore, .ignore or git's exclude files leave out,
    /// and .git directories.
    #[arg(long)]
    pub no_ignore: bool,

    /// Follow symbolic links found inside directories (loops are detected).
    #[arg(short = 'L', long)]
    pub follow: bool,

    /// Skip files larger than this (suffixes K, M, G).
    #[arg(long, value_name = "SIZE", value_parser = parse_size, default_value = "64M")]
    pub max_file_size: u64,

    /// Worker threads for the directory walk (default: one per core).
    #[arg(short = 'j', long, value_name = "N")]
    pub threads: Option<usize>,

    /// When to colour the text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,

    /// Report only findings that are not in this earlier JSON report (one
    /// written by --write-baseline, or by --format json).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,

    /// Write this scan's findings to FILE as a baseline (the JSON report,
    /// mode 0600, replaced atomically).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
}

impl Default for ScanArgs {
    fn default() -> Self {
        ScanArgs {
            paths: Vec::new(),
            format: Format::Text,
            no_env: false,
            no_aws_files: false,
            no_ignore: false,
            follow: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            threads: None,
            color: ColorChoice::Auto,
            baseline: None,
            write_baseline: None,
        }
    }
}

/// Preventive guardrails that do not rely on `aws:UserAgent`, checked
/// before they are printed. See docs/rollout.md for the order to attach them.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// The service control policy (minified JSON on stdout): long-term-key
    /// use, credential issuance, root access keys.
    Scp(ScpArgs),
    /// The resource control policy: long-term keys refused by S3, STS, KMS
    /// and Secrets Manager, whichever account the caller is in.
    Rcp(RcpArgs),
    /// EventBridge rules for new long-lived credentials and for calls the
    /// guardrails refused: patterns, CloudFormation or Terraform JSON.
    Alert(AlertArgs),
}

/// A statement of the SCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScpPart {
    /// Deny requests signed with IAM users' long-term keys.
    Usage,
    /// Deny creating IAM users, keys and other long-lived credentials.
    Issuance,
    /// Deny root access-key creation.
    Root,
}

#[derive(Debug, Clone, Args)]
pub struct ScpArgs {
    /// IAM users under this path are exempt from the usage statement
    /// (holdouts, parked until they move).
    #[arg(long, value_name = "PATH", default_value = DEFAULT_EXEMPT_PATH)]
    pub exempt_path: String,
    /// Roles that may still issue credentials (break-glass, the IaC deployer,
    /// an identity-admin permission set): IAM role ARN patterns with * and ?.
    #[arg(long, value_name = "ARN-PATTERN", num_args = 1..)]
    pub allow_role: Vec<String>,
    /// Only these statements, comma-separated (default: all three).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "PART")]
    pub only: Vec<ScpPart>,
    /// Refuse a policy larger than this many characters (5120 is the SCP
    /// limit; 10240 where the organisation has the larger one).
    #[arg(long, value_name = "CHARS", default_value_t = SCP_SIZE_LIMIT)]
    pub max_size: usize,
    /// Explain each statement on stderr.
    #[arg(long)]
    pub explain: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RcpArgs {
    /// IAM users under this path are exempt.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_EXEMPT_PATH)]
    pub exempt_path: String,
    /// Refuse a policy larger than this many characters.
    #[arg(long, value_name = "CHARS", default_value_t = SCP_SIZE_LIMIT)]
    pub max_size: usize,
    /// Explain the statement on stderr.
    #[arg(long)]
    pub explain: bool,
}

/// `keyless policy alert --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertFormat {
    /// The EventBridge event pattern(s), minified JSON.
    Pattern,
    /// A CloudFormation template (JSON).
    Cloudformation,
    /// Terraform JSON, to save as a .tf.json file.
    Terraform,
}

/// `keyless policy alert --rule`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlertRule {
    /// New IAM users, access keys, console passwords, service-specific
    /// credentials; access keys set back to Active (us-east-1).
    Issuance,
    /// Calls refused by a service or resource control policy.
    Denied,
}

#[derive(Debug, Clone, Args)]
pub struct AlertArgs {
    /// What to print. With one --rule, `pattern` prints that pattern alone
    /// (for `aws events put-rule --event-pattern`); otherwise an object of
    /// rule name to pattern.
    #[arg(long, value_enum, default_value_t = AlertFormat::Pattern)]
    pub format: AlertFormat,
    /// Organisation variant: a member-account template whose rules forward to
    /// this central event bus (arn:aws:events:REGION:ACCOUNT:event-bus/NAME)
    /// instead of an SNS topic; deployable as a StackSet.
    #[arg(long, value_name = "ARN", conflicts_with = "sns_topic_name")]
    pub central_bus: Option<String>,
    /// The SNS topic the template creates.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_TOPIC_NAME)]
    pub sns_topic_name: String,
    /// Only these rules, comma-separated (default: both).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "RULE")]
    pub rule: Vec<AlertRule>,
    /// Explain each rule on stderr.
    #[arg(long)]
    pub explain: bool,
}

/// `64M`, `1G`, `512K`, `1000`.
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, multiplier) = match text.char_indices().last() {
        Some((i, 'k' | 'K')) => (&text[..i], 1u64 << 10),
        Some((i, 'm' | 'M')) => (&text[..i], 1 << 20),
        Some((i, 'g' | 'G')) => (&text[..i], 1 << 30),
        _ => (text, 1),
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(multiplier))
        .ok_or_else(|| format!("'{text}' is not a size; write e.g. 64M, 512K or 1G"))
}

#[cfg(test)]
mod tests {
    use super::{Cli, parse_size};
    use clap::CommandFactory;
    use std::path::{Path, PathBuf};

    /// Every `keyless <command>` that a message, a doc or a script names,
    /// with where it is named.
    fn named_commands(root: &Path) -> Vec<(String, Vec<String>)> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push(path);
                }
            }
        }
        let mut files = Vec::new();
        for dir in ["src", "docs", "shell", "packaging"] {
            walk(&root.join(dir), &mut files);
        }
        files.push(root.join("README.md"));
        let mut named = Vec::new();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else {
                continue;
            };
            let markdown = file.extension().is_some_and(|e| e == "md");
            let mut in_code = false;
            for (n, line) in text.lines().enumerate() {
                let at = format!("{}:{}", file.display(), n + 1);
                if markdown && line.trim_start().starts_with("```") {
                    in_code = !in_code;
                }
                let mut starts: Vec<usize> = Vec::new();
                for lead in ["`keyless ", "$ keyless "] {
                    starts.extend(line.match_indices(lead).map(|(i, _)| i + lead.len()));
                }
                // Prose that names a command: "run keyless login again",
                // but not "run keyless inside a desktop session".
                for lead in ["run keyless ", "Run keyless "] {
                    starts.extend(line.match_indices(lead).filter_map(|(i, _)| {
                        let next = line[i + lead.len()..].split(' ').next()?;
                        let prose = ["in", "inside", "by", "with", "as", "on", "from"];
                        (!prose.contains(&next)).then_some(i + lead.len())
                    }));
                }
                // A string that is a command line: `"keyless login --sso-session {}"`.
                for (i, _) in line.match_indices("\"keyless ") {
                    let rest = &line[i + "\"keyless ".len()..];
                    let end = rest
                        .find(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                        .unwrap_or(rest.len());
                    if rest[end..].starts_with(['"', '{']) || rest[end..].starts_with(" -") {
                        starts.push(i + "\"keyless ".len());
                    }
                }
                if in_code && line.trim_start().starts_with("keyless ") {
                    starts.push(line.len() - line.trim_start().len() + "keyless ".len());
                }
                for start in starts {
                    let words: Vec<String> = line[start..]
                        .split(|c: char| !(c.is_ascii_lowercase() || c == '-'))
                        .take(2)
                        .map(str::to_string)
                        .collect();
                    named.push((at.clone(), words));
                }
            }
        }
        named
    }

    #[test]
    fn every_command_a_message_names_exists() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let cli = Cli::command();
        let named = named_commands(root);
        assert!(
            named.len() > 20,
            "the search found too little to be trusted: {named:?}"
        );
        let mut missing = Vec::new();
        for (at, words) in &named {
            let Some(first) = words
                .first()
                .filter(|w| !w.is_empty() && !w.starts_with('-'))
            else {
                continue;
            };
            match cli.find_subcommand(first) {
                None => missing.push(format!("{at}: keyless {first}")),
                Some(sub) if sub.has_subcommands() => {
                    let second = words.get(1).map(String::as_str).unwrap_or_default();
                    if !second.is_empty()
                        && !second.starts_with('-')
                        && sub.find_subcommand(second).is_none()
                    {
                        missing.push(format!("{at}: keyless {first} {second}"));
                    }
                }
                Some(_) => {}
            }
        }
        assert!(
            missing.is_empty(),
            "named but not defined:\n{}",
            missing.join("\n")
        );
    }

    fn words(line: &str) -> Vec<std::ffi::OsString> {
        line.split(' ')
            .filter(|w| !w.is_empty())
            .map(Into::into)
            .collect()
    }

    /// The fast paths take a command line only when clap reads it the same
    /// way, and leave everything else to clap.
    #[test]
    fn plain_argv_reads_as_clap_does() {
        use super::{Command, CredentialProcessArgs, PromptArgs, PromptOnly};
        use clap::Parser;
        let taken = [
            "",
            "--profile dev",
            "--profile=dev",
            "--profile a=b",
            "--auto-login --profile dev",
            "--profile dev --auto-login",
            "--auto-login",
            "--sso-session corp --account-id 111122223333 --role-name Dev",
            "--role-name=Dev --account-id 111122223333 --sso-session=corp --auto-login",
        ];
        for line in taken {
            let fast = CredentialProcessArgs::from_plain_argv(words(line).into_iter())
                .unwrap_or_else(|| panic!("not taken: {line:?}"));
            let mut argv = words("keyless credential-process");
            argv.extend(words(line));
            let Command::CredentialProcess(slow) = Cli::try_parse_from(argv).unwrap().command
            else {
                panic!("{line:?}: another command");
            };
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line:?}");
        }
        let left_to_clap = [
            "--help",
            "-h",
            "--version",
            "-v --profile dev",
            "--quiet",
            "--profile",
            "--profile=",
            "--profile -v",
            "--profile --auto-login",
            "--profile dev --profile ops",
            "--auto-login --auto-login",
            "--auto-login=yes",
            "--profile dev extra",
            "--prof dev",
            "--profile dev --",
            "--profile dev --sso-session corp --account-id 1 --role-name R",
            "--sso-session corp --account-id 111122223333",
            "--account-id 111122223333",
        ];
        for line in left_to_clap {
            assert!(
                CredentialProcessArgs::from_plain_argv(words(line).into_iter()).is_none(),
                "taken: {line:?}"
            );
        }
        #[cfg(unix)]
        {
            let not_utf8 = std::os::unix::ffi::OsStringExt::from_vec(vec![b'd', 0xff]);
            assert!(
                CredentialProcessArgs::from_plain_argv(["--profile".into(), not_utf8].into_iter())
                    .is_none()
            );
        }

        for line in [
            "",
            "--profile dev",
            "--color --shell bash",
            "--shell=zsh --color --profile=ops",
            "--format {profile}:{remaining} --shell plain",
        ] {
            let fast = PromptArgs::from_plain_argv(words(line).into_iter())
                .unwrap_or_else(|| panic!("not taken: {line:?}"));
            let mut argv = words("keyless prompt");
            argv.extend(words(line));
            let slow = PromptOnly::try_parse_from(argv).unwrap().args;
            assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{line:?}");
        }
        for line in [
            "--help",
            "--version",
            "--shell fish",
            "--shell Bash",
            "--color --color",
            "--format",
            "--format=",
            "--quiet",
            "extra",
        ] {
            assert!(
                PromptArgs::from_plain_argv(words(line).into_iter()).is_none(),
                "taken: {line:?}"
            );
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("512k"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("100"), Ok(100));
        assert!(parse_size("x").is_err());
        assert!(parse_size("").is_err());
        assert!(parse_size("99999999999999999G").is_err());
        assert!(parse_size("é").is_err());
    }
}
