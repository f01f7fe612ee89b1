use super::*;
use crate::config::ini::FileKind;

fn accounts() -> Vec<Discovered> {
    vec![
        Discovered {
            account_id: "111122223333".into(),
            account_name: "Sandbox Team".into(),
            roles: vec!["Developer".into(), "ReadOnly".into()],
        },
        Discovered {
            account_id: "444455556666".into(),
            account_name: "staging".into(),
            roles: vec!["Developer".into()],
        },
    ]
}

fn options<'a>(template: &'a Template) -> SyncOptions<'a> {
    SyncOptions {
        session: "corp",
        start_url: "https://d-1234567890.awsapps.com/start",
        template,
        default_region: Some("eu-west-1"),
        prune: false,
        convert: false,
    }
}

fn sync(
    config: &str,
    creds: &str,
    found: &[Discovered],
    opts: &SyncOptions<'_>,
) -> (String, SyncReport) {
    let mut editor = Editor::new(config.as_bytes(), FileKind::Config, "config").unwrap();
    let creds = Editor::new(creds.as_bytes(), FileKind::Credentials, "credentials").unwrap();
    let report = sync_profiles(&mut editor, Some(&creds), found, opts);
    (editor.render(), report)
}

#[test]
fn templates_render_sanitised_names_and_reject_mistakes() {
    let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
    let a = &accounts()[0];
    assert_eq!(t.render(a, "Developer", "corp"), "Sandbox-Team-Developer");
    let t = Template::parse("{sso_session}/{account_id}:{role_name}").unwrap();
    assert_eq!(t.render(a, "Dev", "corp"), "corp-111122223333-Dev");
    let unknown = Template::parse("{account}-{role_name}").unwrap_err();
    assert!(unknown.what.contains("{account}"), "{unknown:?}");
    assert!(unknown.hint.unwrap().contains("{account_name}"));
    let no_role = Template::parse("{account_name}").unwrap_err();
    assert!(no_role.what.contains("{role_name}"), "{no_role:?}");
    assert!(no_role.hint.unwrap().contains("add {role_name}"));
    assert!(Template::parse("{role_name").is_err());
    assert!(Template::parse("role_name}").is_err());
    assert_eq!(sanitise("  a  b!!c--"), "a-b-c");
}

#[test]
fn first_sync_writes_every_profile_and_a_second_changes_no_byte() {
    let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
    let config = "# mine\n[profile mine]\nregion = us-east-1\n";
    let (first, report) = sync(config, "", &accounts(), &options(&t));
    assert_eq!(
        report.added,
        [
            "Sandbox-Team-Developer",
            "Sandbox-Team-ReadOnly",
            "staging-Developer"
        ]
    );
    assert!(first.starts_with(config));
    assert!(first.contains(
        "\n\n[profile staging-Developer]\n\
         credential_process = keyless credential-process --profile staging-Developer\n\
         keyless_sso_session = corp\nkeyless_account_id = 444455556666\n\
         keyless_role_name = Developer\nregion = eu-west-1\nkeyless_managed = corp\n"
    ));
    let (second, report) = sync(&first, "", &accounts(), &options(&t));
    assert_eq!(second, first);
    assert!(report.added.is_empty() && report.updated.is_empty());
    assert_eq!(report.unchanged.len(), 3);
}

#[test]
fn taken_names_get_the_account_id_and_hand_written_profiles_stay() {
    let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
    let config = "[profile staging-Developer]\nregion = x\n";
    let creds = "[Sandbox-Team-ReadOnly]\naws_access_key_id = AKIA\n";
    let (out, report) = sync(config, creds, &accounts(), &options(&t));
    assert!(out.starts_with(config));
    assert_eq!(
        report.renamed,
        [
            (
                "Sandbox-Team-ReadOnly".to_string(),
                "Sandbox-Team-ReadOnly-111122223333".to_string()
            ),
            (
                "staging-Developer".to_string(),
                "staging-Developer-444455556666".to_string()
            ),
        ]
    );
    // Two accounts with one name: the second gets its ID.
    let mut twins = accounts();
    twins[1].account_name = "Sandbox Team".into();
    let (_, report) = sync("", "", &twins, &options(&t));
    assert_eq!(
        report.added,
        [
            "Sandbox-Team-Developer",
            "Sandbox-Team-ReadOnly",
            "Sandbox-Team-Developer-444455556666"
        ]
    );
}

#[test]
fn gone_roles_are_reported_and_pruned_only_when_asked() {
    let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
    let (first, _) = sync("", "", &accounts(), &options(&t));
    let fewer = &accounts()[1..];
    let (kept, report) = sync(&first, "", fewer, &options(&t));
    assert_eq!(kept, first);
    assert_eq!(
        report.gone,
        ["Sandbox-Team-Developer", "Sandbox-Team-ReadOnly"]
    );
    let prune = SyncOptions {
        prune: true,
        ..options(&t)
    };
    let (pruned, report) = sync(&first, "", fewer, &prune);
    assert_eq!(report.pruned.len(), 2);
    assert!(!pruned.contains("Sandbox-Team"));
    assert!(pruned.contains("[profile staging-Developer]"));
}

#[test]
fn aws_cli_sso_profiles_are_converted_in_place_when_asked() {
    let t = Template::parse(DEFAULT_TEMPLATE).unwrap();
    let config = "[profile legacy-dev]\r\nsso_session = corp\r\nsso_account_id = 111122223333\r\n\
        sso_role_name = Developer\r\nregion = ap-south-1\r\noutput = json\r\n";
    let (out, report) = sync(config, "", &accounts(), &options(&t));
    assert_eq!(report.convertible, ["legacy-dev"]);
    assert!(out.starts_with(config));
    let convert = SyncOptions {
        convert: true,
        ..options(&t)
    };
    let (out, report) = sync(config, "", &accounts(), &convert);
    assert_eq!(report.converted, ["legacy-dev"]);
    assert!(out.starts_with(
        "[profile legacy-dev]\r\nregion = ap-south-1\r\noutput = json\r\n\
         credential_process = keyless credential-process --profile legacy-dev\r\n"
    ));
    assert!(!out.contains("sso_account_id"));
    // That account and role now has its profile: no second one.
    assert!(!report.added.contains(&"Sandbox-Team-Developer".to_string()));
    let (again, _) = sync(&out, "", &accounts(), &convert);
    assert_eq!(again, out);
}

#[test]
fn sso_session_is_written_reused_or_refused() {
    let mut editor = Editor::new(b"", FileKind::Config, "c").unwrap();
    let url = "https://d-1234567890.awsapps.com/start";
    assert_eq!(
        ensure_sso_session(&mut editor, "corp", url, "us-east-1", None, None, false).unwrap(),
        SessionChange::Written
    );
    let text = editor.render();
    assert_eq!(
        text,
        format!(
            "[sso-session corp]\nsso_start_url = {url}\nsso_region = us-east-1\nsso_registration_scopes = sso:account:access\n"
        )
    );
    let mut editor = Editor::new(text.as_bytes(), FileKind::Config, "c").unwrap();
    let reused = ensure_sso_session(
        &mut editor,
        "corp",
        &format!("{url}/#/"),
        "us-east-1",
        None,
        None,
        false,
    );
    assert_eq!(reused.unwrap(), SessionChange::Reused);
    assert_eq!(editor.edit_count(), 0);
    assert_eq!(session_for_url(&editor, url).as_deref(), Some("corp"));
    let err = ensure_sso_session(
        &mut editor,
        "corp",
        "https://other.awsapps.com/start",
        "us-east-1",
        None,
        None,
        false,
    );
    assert!(err.unwrap_err().hint.unwrap().contains("--sso-session"));
    let err = ensure_sso_session(&mut editor, "corp", url, "eu-west-1", None, None, false);
    assert!(
        err.unwrap_err()
            .hint
            .unwrap()
            .contains("--sso-region us-east-1")
    );
    assert_eq!(session_name_from_url(url), "d-1234567890");
    assert_eq!(session_name_from_url("http://127.0.0.1:7788/start"), "sso");
}

#[test]
fn diffs_mask_secrets() {
    let old = b"[a]\naws_access_key_id = AKIAX\naws_secret_access_key = SENTINELSECRET\n";
    let new = b"";
    let diff = diff(old, new, "credentials");
    assert!(diff.contains("-aws_access_key_id = AKIAX"), "{diff}");
    assert!(diff.contains("-aws_secret_access_key = ****"), "{diff}");
    assert!(!diff.contains("SENTINELSECRET"));
    assert!(diff.starts_with("--- a/credentials\n+++ b/credentials\n"));
}
