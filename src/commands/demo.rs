//! `keyless demo`: the whole flow in one process, on any machine, with no
//! AWS account. It starts the emulator in-process on a loopback port, signs
//! in through the real device-authorization client, discovers accounts and
//! roles and fetches role credentials through the real portal client, and
//! shows what `credential-process` prints. Its store is a throwaway
//! in-memory one that exists only inside the demo: nothing is written to the
//! keyring or to any file.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Context;

use crate::auth::{self, Auth, SystemClock};
use crate::config::resolve::{RolePlan, SsoSession};
use crate::credentials::{human_remaining, now};
use crate::emulator::{self, EmulatorConfig, Operation};
use crate::identity_center::Clients;
use crate::store::MemoryStore;
use crate::terminal::TerminalUi;

const DEMO_START_URL: &str = "https://d-1234567890.awsapps.com/start";
const DEMO_REGION: &str = "us-east-1";

pub fn run() -> anyhow::Result<ExitCode> {
    super::block_on(demo())??;
    Ok(ExitCode::SUCCESS)
}

/// The demo's own output goes to stdout: it is what the user asked for.
/// A closed pipe (`keyless demo | head`) ends the demo quietly.
#[allow(clippy::disallowed_methods)] // the demo's one stdout writer
fn stdout() -> std::io::Stdout {
    std::io::stdout()
}

fn step(title: &str, text: &str) -> std::io::Result<()> {
    writeln!(stdout().lock(), "\n== {title}\n{text}")
}

fn line(text: &str) -> std::io::Result<()> {
    writeln!(stdout().lock(), "{text}")
}

async fn demo() -> anyhow::Result<()> {
    line("keyless demo: the whole flow on this machine, with no AWS account and no network.")?;
    let config = EmulatorConfig::default();
    let server = emulator::start(config, 0)
        .await
        .context("could not start the local Identity Center emulator on 127.0.0.1")?;
    let url = server.url();
    step(
        "1. A local IAM Identity Center",
        &format!(
            "Started the keyless emulator at {url}. It speaks the real SSO OIDC and portal\n\
             protocols; the credentials it issues work nowhere but here. (Run it yourself with\n\
             `keyless dev-server` to try keyless, the AWS CLI or your scripts against it.)"
        ),
    )?;

    let session = SsoSession {
        name: "demo".into(),
        start_url: DEMO_START_URL.into(),
        region: DEMO_REGION.into(),
        scopes: vec!["sso:account:access".into()],
        legacy: false,
        store: None,
        pkce: false,
    };
    let clients = Clients::new(DEMO_REGION, Some(&url)).await;
    // Throwaway, in-memory, demo-only: never the keyring, never a file.
    let store = MemoryStore::new();
    let auth = Auth {
        store: &store,
        identity_center: &clients,
        clock: &SystemClock,
        state: None,
        locks: None,
        login_command: "keyless demo".into(),
    };

    step(
        "2. Sign in (device authorization)",
        "`keyless login` registers a client, starts a device authorization and polls for the\n\
         token while you approve in the browser. The emulator approves by itself after a poll;\n\
         with AWS you would check the code and approve it in your browser.",
    )?;
    let spinner = std::io::IsTerminal::is_terminal(&stdout());
    let mut ui = TerminalUi::new(Box::new(stdout()), spinner, false);
    let token = auth.login(&session, &mut ui, false).await?;
    line(&format!(
        "Access and refresh tokens are kept in the OS keyring (here: the demo's memory); valid for {}.",
        human_remaining(token.expires_at - now())
    ))?;

    step(
        "3. Discover accounts and roles",
        "The accounts and roles this sign-in may use; each pair becomes one AWS profile:",
    )?;
    let accounts = clients.accounts(&token.access_token).await?;
    let mut first: Option<(String, String)> = None;
    for account in &accounts {
        let roles = clients
            .roles(&token.access_token, &account.account_id)
            .await?;
        line(&format!(
            "  {} {:<12} {}",
            account.account_id,
            account.account_name,
            roles.join(", ")
        ))?;
        if first.is_none() {
            first = roles
                .first()
                .map(|r| (account.account_id.clone(), r.clone()));
        }
    }
    let (account_id, role_name) = first.context("the emulator offered no account with a role")?;

    let plan = RolePlan {
        profile: Some("demo".into()),
        session: session.clone(),
        account_id: account_id.clone(),
        role_name: role_name.clone(),
        auto_login: false,
    };
    step(
        "4. Role credentials for the AWS CLI and SDKs",
        &format!(
            "With `credential_process = keyless credential-process --profile demo` in\n\
             ~/.aws/config, every `aws` command asks keyless for credentials for {role_name} in\n\
             {account_id}. keyless prints exactly one JSON object (secret values hidden here):"
        ),
    )?;
    let creds = auth.role_credentials(&plan).await?;
    let shown = serde_json::json!({
        "Version": 1,
        "AccessKeyId": creds.access_key_id,
        "SecretAccessKey": format!("<hidden: {} characters>", creds.secret_access_key.expose().len()),
        "SessionToken": format!("<hidden: {} characters>", creds.session_token.expose().len()),
        "Expiration": crate::credentials::rfc3339(creds.expiration),
        "AccountId": account_id,
    });
    line(&serde_json::to_string_pretty(&shown)?)?;
    line(&format!(
        "Temporary (ASIA…, with a session token), valid for {}; a long-lived AKIA… key is never handed out.",
        human_remaining(creds.remaining(now()))
    ))?;

    let calls_before = server.stats().calls(Operation::GetRoleCredentials);
    let again =
        auth::cached_role(&store, &plan, now())?.context("the credentials were not cached")?;
    let calls_after = server.stats().calls(Operation::GetRoleCredentials);
    step(
        "5. The next call is a cache hit",
        &format!(
            "Asked again, keyless answers from the keyring with no network call \
             (GetRoleCredentials calls: {calls_before} before, {calls_after} after; same key {}).",
            crate::secret::mask(&again.access_key_id)
        ),
    )?;

    let sample = "[default]\naws_access_key_id = AKIARZPUZDIKGB2VALC4\n";
    let found: Vec<String> = crate::scan::freeform::scan(sample.as_bytes())
        .into_iter()
        .map(|hit| {
            let account = match crate::scan::keyid::decode_account(&hit.key_id) {
                crate::scan::keyid::Account::Decoded(account) => format!("account {account}"),
                _ => "account not encoded".to_string(),
            };
            format!(
                "  line {}: {} ({}, {account})",
                hit.line,
                hit.key_id,
                if hit.prefix.is_long_lived() {
                    "long-lived"
                } else {
                    "temporary"
                }
            )
        })
        .collect();
    step(
        "6. Finding the long-lived keys to replace",
        &format!(
            "`keyless scan` finds long-lived keys in ~/.aws, the environment and any tree you give it,\n\
             and decodes the AWS account from the key ID offline. In this sample credentials file:\n\n  \
             {}\n\n{}\n\nRun `keyless scan` on this machine to see yours (exit 1 when one is found).",
            sample.trim_end().replace('\n', "\n  "),
            found.join("\n")
        ),
    )?;

    step(
        "Next",
        &format!(
            "Use keyless with your organisation's IAM Identity Center, in one command:\n\
             \n  keyless onboard --start-url https://YOUR-ID.awsapps.com/start --sso-region {DEMO_REGION}\n\
             \nIt signs you in, writes one profile per account and role to ~/.aws/config (keeping \
             every other byte),\nand offers to retire the static keys those profiles replace (with a \
             backup: keyless retire --restore).\nAdd --dry-run to see the changes first."
        ),
    )?;
    stdout().flush()?;
    server.shutdown().await.context("stopping the emulator")?;
    Ok(())
}
