//! keyless: short-lived AWS credentials from IAM Identity Center.
