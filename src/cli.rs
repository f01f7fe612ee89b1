//! Command-line types only: parsing, no behaviour.

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "keyless",
    version,
    about = "Short-lived AWS credentials from IAM Identity Center, kept in the OS keyring",
    long_about = "keyless replaces long-lived AWS access keys with short-lived role credentials \
                  from IAM Identity Center. Credentials and tokens live only in the OS keyring."
)]
pub struct Cli {
    /// More detail on stderr (-v, -vv). Also KEYLESS_LOG=debug. Never shows a secret.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Scan(crate::commands::scan::ScanArgs),
}
