//! Preventive guardrails against long-lived access keys: a service control
//! policy, a resource control policy and EventBridge alert rules with their
//! CloudFormation and Terraform templates.
//!
//! Policies are typed values ([`document`]) serialised with serde and
//! checked ([`document::validate`]) before anything is printed. Nothing
//! here depends on `aws:UserAgent`, which the caller sets.

pub mod alert;
pub mod arn;
pub mod document;
pub mod rcp;
pub mod scp;

use std::io::{self, Write};

pub use document::PolicyError;

/// A checked document and what to tell the person about it.
#[derive(Debug, Clone)]
pub struct Generated {
    /// Exactly what is printed on stdout (minified JSON for policies).
    pub text: String,
    /// (Sid or name, what it does), for `--explain`.
    pub explanations: Vec<(String, String)>,
    /// Warnings about the options given (shown on stderr).
    pub notes: Vec<String>,
}

/// The one stdout writer of `keyless policy`: the document and a newline.
pub fn write_document(out: &mut dyn Write, generated: &Generated) -> io::Result<()> {
    out.write_all(generated.text.as_bytes())?;
    out.write_all(b"\n")?;
    out.flush()
}

/// The explanation of each statement, for stderr.
pub fn write_explanations(err: &mut dyn Write, generated: &Generated) -> io::Result<()> {
    for (name, text) in &generated.explanations {
        writeln!(err, "{name}: {text}")?;
    }
    Ok(())
}
