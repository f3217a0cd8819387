//! The operator CLI, run as the real binary: `opsgraph create-admin` starts an empty
//! database with its first organisation and owner (who can sign in) and refuses a second
//! time; `opsgraph check` reports every check and exits 0 when ready, 1 when the
//! database cannot be reached; `opsgraph probe` (the container health check) exits 0 only
//! when the URL answers 200.

use opsgraph_e2e::{TestApp, opsgraph_bin};
use serde_json::json;

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(opsgraph_bin());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the CLI")
}

#[tokio::test]
async fn create_admin_then_check() {
    let app = TestApp::spawn().await;
    let url = app.database_url();
    let args = ["create-admin", "--email", "root@example.com", "--first-name", "Ada", "--organization", "First Co"];
    let no_password = run(&args, &[("DATABASE_URL", &url)]);
    assert!(!no_password.status.success(), "the password comes from the environment");
    let env = [("DATABASE_URL", url.as_str()), ("OPSGRAPH_ADMIN_PASSWORD", "correct horse battery")];
    let made = run(&args, &env);
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let token = app.log_in_as("root@example.com", "correct horse battery").await;
    let r = app.gql(Some(&token), "{ organization { name } viewer { role } }", json!({})).await;
    assert_eq!(r["data"], json!({ "organization": { "name": "First Co" }, "viewer": { "role": "OWNER" } }));
    assert_eq!(app.count("SELECT count(*) AS n FROM projects").await, 0, "no demo data");
    let again = run(&args, &env);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("already has"));

    let ok = run(&["check"], &[("DATABASE_URL", &url)]);
    let report = String::from_utf8_lossy(&ok.stdout).to_string();
    assert!(ok.status.success(), "{report}");
    for line in ["ok    database: reachable", "ok    migrations: up to date", "ok    application role: opsgraph_app"] {
        assert!(report.contains(line), "{line} in {report}");
    }
    assert!(report.contains("ok    pgvector: "));
    let broken = url.rsplit_once('/').map(|(base, _)| format!("{base}/no_such_database")).unwrap_or_default();
    let bad = run(&["check"], &[("DATABASE_URL", &broken)]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stdout).contains("FAIL  database"));
    app.finish().await;
}

#[tokio::test]
async fn probe_exits_zero_only_on_200() {
    let app = TestApp::spawn().await;
    let server = opsgraph_e2e::ServerProcess::spawn(&app.database_url(), &[]).await;
    let probe = |url: String| async move {
        tokio::process::Command::new(opsgraph_bin()).args(["probe", "--url", &url]).status().await.expect("probe")
    };
    // Ready once its pool has a connection: on a loaded machine that may take a moment.
    let mut ready = false;
    for _ in 0..20 {
        ready = probe(format!("{}/readyz", server.base)).await.success();
        if ready {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(ready, "ready");
    assert_eq!(probe(format!("{}/nope", server.base)).await.code(), Some(1), "404");
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    assert_eq!(probe(format!("http://127.0.0.1:{closed}/readyz")).await.code(), Some(1), "nothing listens");
    drop(server);
    app.finish().await;
}
