//! Integration tests: the real `keyless` binary against a private
//! gnome-keyring and the Identity Center emulator.

// Tests talk to the person running them (a skip is loud); no protocol here.
#![allow(clippy::print_stderr, clippy::print_stdout)]

mod harness;

mod audit;
mod basics;
mod credential_process;
mod doctor;
mod exec;
mod faults;
mod front;
mod kernel;
mod keyring;
mod login;
mod logout;
mod onboard;
mod pkce;
mod policy;
mod scan;
mod secrets;
mod shell;
