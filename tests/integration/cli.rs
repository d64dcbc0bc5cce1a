//! The `quotaboard` binary reads Leptos.toml from any directory, under environment overrides.

use std::process::Command;

fn quotaboard() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_quotaboard"));
    for (key, _) in std::env::vars() {
        if key.starts_with("QUOTABOARD_") || key.starts_with("LEPTOS_") || key == "DATABASE_URL" {
            command.env_remove(key);
        }
    }
    command
}

fn stdout_of(command: &mut Command) -> String {
    let output = command.output().expect("run quotaboard");
    assert!(
        output.status.success(),
        "quotaboard failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

#[test]
fn config_file_is_found_from_any_directory_and_relative_paths_follow_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("Leptos.toml");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/Leptos.toml"), &file).expect("copy");
    let elsewhere = tempfile::tempdir().expect("temp dir");

    let printed = stdout_of(
        quotaboard()
            .current_dir(elsewhere.path())
            .arg("--config")
            .arg(&file)
            .arg("config"),
    );

    let base = dir
        .path()
        .canonicalize()
        .expect("canonical")
        .display()
        .to_string();
    assert!(
        printed.contains(&format!("site-root = \"{base}/target/site\"")),
        "{printed}"
    );
    assert!(
        printed.contains(&format!(
            "database-url = \"sqlite://{base}/data/quotaboard.db\""
        )),
        "{printed}"
    );
    assert!(
        printed.contains("site-addr = \"127.0.0.1:3000\""),
        "{printed}"
    );
}

#[test]
fn environment_variables_override_every_layer_and_passwords_stay_hidden() {
    let printed = stdout_of(
        quotaboard()
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("LEPTOS_SITE_ADDR", "0.0.0.0:8123")
            .env("LEPTOS_SITE_ROOT", "/srv/quotaboard/site")
            .env("QUOTABOARD_WARNING_THRESHOLD", "60")
            .env("QUOTABOARD_DEFAULT_TIME_ZONE", "Asia/Tokyo")
            .env("DATABASE_URL", "postgres://qb:hunter2@db.internal:5432/qb")
            .env("QUOTABOARD_SECRET_KEY", "c0ffee".repeat(10) + "c0ff")
            .arg("config"),
    );

    assert!(
        printed.contains("site-addr = \"0.0.0.0:8123\""),
        "{printed}"
    );
    assert!(
        printed.contains("site-root = \"/srv/quotaboard/site\""),
        "{printed}"
    );
    assert!(printed.contains("warning-threshold = 60"), "{printed}");
    assert!(
        printed.contains("default-time-zone = \"Asia/Tokyo\""),
        "{printed}"
    );
    assert!(
        printed.contains("postgres://qb:***@db.internal:5432/qb"),
        "{printed}"
    );
    assert!(!printed.contains("hunter2"), "{printed}");
    assert!(printed.contains("secret-key = \"***\""), "{printed}");
    assert!(!printed.contains("c0ffee"), "{printed}");
}

#[test]
fn serving_postgres_without_a_secret_key_is_refused_with_the_key_named() {
    // The key is checked before anything listens or connects.
    let output = quotaboard()
        .env("DATABASE_URL", "postgres://qb@127.0.0.1:1/qb")
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .arg("serve")
        .output()
        .expect("run quotaboard");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("QUOTABOARD_SECRET_KEY"), "{stderr}");
}

#[test]
fn backup_copies_the_database_and_its_key_file_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("temp dir");
    let database = dir.path().join("qb.db");
    let url = format!("sqlite://{}", database.display());
    // Serving makes the key file on first start; `demo` then `backup` use it.
    let mut server = quotaboard()
        .env("DATABASE_URL", &url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .arg("serve")
        .spawn()
        .expect("serve");
    let key_file = dir.path().join("qb.db.key");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !key_file.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    server.kill().expect("stop");
    server.wait().expect("stopped");
    let key = std::fs::read_to_string(&key_file).expect("key file made at start");
    assert_eq!(key.trim().len(), 64);

    let copy = dir.path().join("copy.db");
    stdout_of(
        quotaboard()
            .env("DATABASE_URL", &url)
            .arg("backup")
            .arg(&copy),
    );
    assert!(copy.is_file());
    let copied_key = std::fs::read_to_string(dir.path().join("copy.db.key")).expect("key copied");
    assert_eq!(copied_key, key);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for file in [&key_file, &dir.path().join("copy.db.key")] {
            let mode = std::fs::metadata(file)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{}", file.display());
        }
    }

    let again = quotaboard()
        .env("DATABASE_URL", &url)
        .arg("backup")
        .arg(&copy)
        .output()
        .expect("run quotaboard");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
}

#[test]
fn an_invalid_setting_stops_start_up_with_exit_code_2_and_names_the_key() {
    let output = quotaboard()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QUOTABOARD_CRITICAL_THRESHOLD", "50")
        .arg("config")
        .output()
        .expect("run quotaboard");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("critical-threshold"), "{stderr}");
}

#[test]
fn migrate_creates_a_missing_sqlite_database_and_its_directory() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("nested/dir/qb.db");

    let output = quotaboard()
        .env("DATABASE_URL", format!("sqlite://{}", path.display()))
        .arg("migrate")
        .output()
        .expect("run quotaboard");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(path.is_file());
}

#[test]
fn json_log_format_writes_one_json_object_per_line() {
    let output = quotaboard()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QUOTABOARD_DEFAULT_CURRENCY", "dollars")
        .args(["--log-format", "json", "config"])
        .output()
        .expect("run quotaboard");

    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let line = stderr.lines().next().expect("a log line");
    let event: serde_json::Value = serde_json::from_str(line).expect("JSON log line");
    assert_eq!(event["level"], "ERROR");
    assert!(
        event["error"]
            .as_str()
            .unwrap_or_default()
            .contains("default-currency"),
        "{line}"
    );
}

#[test]
fn keys_create_prints_the_key_last_and_list_and_revoke_find_it_by_prefix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("qb.db").display());
    let run = |args: &[&str]| stdout_of(quotaboard().env("DATABASE_URL", &url).args(args));
    run(&["demo"]);

    let created = run(&[
        "keys", "create", "--org", "acme", "--role", "admin", "--name", "ci",
    ]);

    let key = created.lines().last().expect("key line").to_string();
    let prefix = quotaboard::server::access::api_keys::prefix_of(&key).expect("a well-formed key");
    let listed = run(&["keys", "list", "--org", "acme"]);
    assert!(
        listed.contains(prefix) && listed.contains("admin"),
        "{listed}"
    );
    assert!(!listed.contains(&key), "the secret must never be listed");
    let revoked = run(&["keys", "revoke", &key]);
    assert!(revoked.contains(prefix), "{revoked}");
    let output = quotaboard()
        .env("DATABASE_URL", &url)
        .args(["keys", "revoke", prefix])
        .output()
        .expect("run quotaboard");
    assert!(!output.status.success(), "revoking twice must fail");
}

#[test]
fn users_create_stores_an_argon2id_hash_and_checks_org_and_role() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("qb.db").display());
    let attempt = |args: &[&str]| {
        quotaboard()
            .env("DATABASE_URL", &url)
            .args(args)
            .output()
            .expect("run quotaboard")
    };
    assert!(attempt(&["demo"]).status.success());

    let member = attempt(&[
        "users",
        "create",
        "--email",
        "Ana@Acme.example",
        "--password",
        "s3cret-pass",
        "--org",
        "acme",
        "--role",
        "member",
    ]);
    let operator = attempt(&[
        "users",
        "create",
        "--email",
        "ops@quotaboard.example",
        "--password",
        "s3cret-pass",
        "--role",
        "platform-admin",
    ]);
    let no_org = attempt(&[
        "users",
        "create",
        "--email",
        "x@acme.example",
        "--password",
        "s3cret-pass",
        "--role",
        "admin",
    ]);
    let taken = attempt(&[
        "users",
        "create",
        "--email",
        "ana@acme.example",
        "--password",
        "another-pass",
        "--org",
        "acme",
        "--role",
        "admin",
    ]);
    let short = attempt(&[
        "users",
        "create",
        "--email",
        "y@acme.example",
        "--password",
        "short",
        "--org",
        "acme",
        "--role",
        "admin",
    ]);

    assert!(
        member.status.success(),
        "{}",
        String::from_utf8_lossy(&member.stderr)
    );
    assert!(
        operator.status.success(),
        "{}",
        String::from_utf8_lossy(&operator.stderr)
    );
    for refused in [&no_org, &taken, &short] {
        assert!(!refused.status.success());
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let stored: Vec<(String, String, String)> = runtime.block_on(async {
        let db = quotaboard::server::db::Database::connect(&url)
            .await
            .expect("database");
        sqlx::query_as(
            // Besides the demo's own users.
            "select email, role, password_hash from users
             where email in ('ana@acme.example', 'ops@quotaboard.example',
                             'x@acme.example', 'y@acme.example')
             order by id",
        )
        .fetch_all(db.pool())
        .await
        .expect("users")
    });
    assert_eq!(stored.len(), 2, "{stored:?}");
    assert_eq!(
        (stored[0].0.as_str(), stored[0].1.as_str()),
        ("ana@acme.example", "member")
    );
    assert!(stored[0].2.starts_with("$argon2id$"), "{}", stored[0].2);
    assert!(stored
        .iter()
        .all(|(_, _, hash)| !hash.contains("s3cret-pass")));
    assert_eq!(stored[1].1, "platform-admin");
}

#[test]
fn purge_reports_what_it_removed_and_a_second_demo_run_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("qb.db").display());
    let run = |args: &[&str]| stdout_of(quotaboard().env("DATABASE_URL", &url).args(args));
    run(&["demo"]);
    run(&["demo"]);

    let purged = run(&["purge"]);

    assert!(
        purged.contains("Purged 0 raw events older than 13 months"),
        "{purged}"
    );
}
