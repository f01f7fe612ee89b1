//! keyless: short-lived AWS credentials from IAM Identity Center, cached in
//! the OS keyring, instead of long-lived access keys.

pub mod secret;
