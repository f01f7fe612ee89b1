//! Integration tests: the real `keyless` binary against a private
//! gnome-keyring and the Identity Center emulator.

mod harness;

mod basics;
mod credential_process;
mod keyring;
mod login;
mod logout;
mod secrets;
