//! Tenant isolation: RLS on every tenant table (enabled and forced), an unfiltered query
//! through the request transaction sees only its tenant, other tenants' ids are NOT_FOUND.

use opsgraph_core::{Tenant, TxDb};
use opsgraph_e2e::{TestApp, code, data};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde_json::json;

#[tokio::test]
async fn every_tenant_table_has_forced_rls() {
    let app = TestApp::spawn().await;
    let rows = app
        .pool
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT c.relname AS name, c.relrowsecurity AS rls, c.relforcerowsecurity AS forced, \
               EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy, \
               EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'client_scope' \
                       AND NOT p.polpermissive) AS client_scoped \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = 'public' AND c.relkind = 'r' \
               AND (EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped) \
                    OR c.relname = 'organizations')",
        ))
        .await
        .expect("catalog");
    assert!(rows.len() >= 10, "expected the tenant tables, found {}", rows.len());
    let mut missing = vec![];
    for r in rows {
        let name: String = r.try_get("", "name").expect("name");
        let ok = r.try_get::<bool>("", "rls").expect("rls")
            && r.try_get::<bool>("", "forced").expect("forced")
            && r.try_get::<bool>("", "has_policy").expect("p")
            // Every tenant table says what a CLIENT may see of it (default: nothing).
            && (r.try_get::<bool>("", "client_scoped").expect("c")
                || ["organizations", "notifications", "notification_preferences"].contains(&name.as_str()));
        // refresh_tokens is per user (no tenant); it has a nullable org_id hint only.
        if !ok && name != "refresh_tokens" {
            missing.push(name);
        }
    }
    assert!(missing.is_empty(), "tables without forced RLS or a client_scope policy: {missing:?}");
    app.finish().await;
}

#[tokio::test]
async fn an_unfiltered_query_sees_only_its_tenant() {
    let app = TestApp::spawn().await;
    let (a, _) = app.sign_up("a@example.com", "Alpha").await;
    let (b, _) = app.sign_up("b@example.com", "Beta").await;
    for (t, names) in [(&a, vec!["A1", "A2"]), (&b, vec!["B1", "B2", "B3"])] {
        for n in names {
            let r = app
                .gql(
                    Some(t),
                    "mutation($n: String!) { createTeam(input: { name: $n }) { team { id } } }",
                    json!({ "n": n }),
                )
                .await;
            data(&r);
        }
    }
    let org_a = app.org_of(&a).await;
    // The same transaction set-up every request uses, then queries that forget the tenant.
    let db = TxDb::begin(&app.pool, &Tenant { org_id: Some(org_a), ..Default::default() }).await.expect("tx");
    for (sql, expected) in [
        ("SELECT count(*) AS n FROM teams", 2i64),
        ("SELECT count(*) AS n FROM memberships", 1),
        ("SELECT count(*) AS n FROM organizations", 1),
        ("SELECT count(*) AS n FROM audit_log WHERE action = 'team.create'", 2),
    ] {
        let row =
            db.query_one_raw(Statement::from_string(DbBackend::Postgres, sql)).await.expect("query").expect("row");
        assert_eq!(row.try_get::<i64>("", "n").expect("n"), expected, "{sql}");
    }
    // Writing into another tenant is refused by the policy's WITH CHECK.
    let org_b = app.org_of(&b).await;
    let insert = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO teams (id, org_id, name) VALUES ($1, $2, 'sneaky')",
            [uuid::Uuid::now_v7().into(), org_b.into()],
        ))
        .await;
    assert!(insert.is_err(), "RLS must refuse rows of another tenant");
    db.rollback().await.expect("rollback");
    // No tenant at all: nothing is visible.
    let none = TxDb::begin(&app.pool, &Tenant::default()).await.expect("tx");
    let row = none
        .query_one_raw(Statement::from_string(DbBackend::Postgres, "SELECT count(*) AS n FROM teams"))
        .await
        .expect("q")
        .expect("row");
    assert_eq!(row.try_get::<i64>("", "n").expect("n"), 0);
    none.rollback().await.expect("rollback");
    app.finish().await;
}

#[tokio::test]
async fn other_tenants_ids_are_not_found() {
    let app = TestApp::spawn().await;
    let (a, _) = app.sign_up("a@example.com", "Alpha").await;
    let (b, _) = app.sign_up("b@example.com", "Beta").await;
    let r = app
        .gql(Some(&b), "mutation { createTeam(input: { name: \"Secret\" }) { team { id version } } }", json!({}))
        .await;
    let team_b = data(&r)["createTeam"]["team"]["id"].as_str().expect("id").to_owned();
    let me_b = app.gql(Some(&b), "{ viewer { membership { id } } }", json!({})).await;
    let member_b = data(&me_b)["viewer"]["membership"]["id"].as_str().expect("id").to_owned();

    let node = app.gql(Some(&a), "query($id: ID!) { node(id: $id) { id } }", json!({ "id": team_b })).await;
    assert_eq!(code(&node), Some("NOT_FOUND"), "{node}");
    let nodes = app.gql(Some(&a), "query($id: ID!) { nodes(ids: [$id]) { id } }", json!({ "id": member_b })).await;
    assert_eq!(code(&nodes), Some("NOT_FOUND"));
    let upd = app.gql(Some(&a), "mutation($id: ID!) { updateTeam(input: { id: $id, expectedVersion: 1, name: \"pwned\" }) { team { id } } }", json!({ "id": team_b })).await;
    assert_eq!(code(&upd), Some("NOT_FOUND"));
    let del = app
        .gql(
            Some(&a),
            "mutation($id: ID!) { deleteTeam(input: { id: $id }) { deletedTeamId } }",
            json!({ "id": team_b }),
        )
        .await;
    assert_eq!(code(&del), Some("NOT_FOUND"));
    let role = app.gql(Some(&a), "mutation($id: ID!) { changeMemberRole(input: { id: $id, role: VIEWER, expectedVersion: 1 }) { membership { id } } }", json!({ "id": member_b })).await;
    assert_eq!(code(&role), Some("NOT_FOUND"));
    assert_eq!(app.count("SELECT count(*) AS n FROM teams WHERE name = 'Secret'").await, 1, "nothing changed");
    // The owner of B still sees it.
    let own =
        app.gql(Some(&b), "query($id: ID!) { node(id: $id) { ... on Team { name } } }", json!({ "id": team_b })).await;
    assert_eq!(data(&own)["node"]["name"], "Secret");
    app.finish().await;
}

#[tokio::test]
async fn every_tenant_table_hides_other_tenants_rows() {
    // Two organisations full of work data (projects, tasks, staffing, milestones, risks, time,
    // OKRs, events); then every table with an `org_id`, queried without any tenant filter
    // inside A's request transaction, holds exactly A's rows.
    let app = TestApp::spawn().await;
    let (a, _) = app.sign_up("a@iso.example", "Iso A").await;
    app.sign_up("b@iso.example", "Iso B").await;
    for (email, projects, tasks) in [("a@iso.example", 2, 3), ("b@iso.example", 3, 4)] {
        let (org, me) = opsgraph_e2e::portfolio::owner_ids(&app.pool, email).await.expect("ids");
        opsgraph_e2e::portfolio::seed(&app.pool, org, me, projects, tasks).await.expect("seed");
    }
    data(&app.gql(Some(&a), "{ organization { projects { totalCount } } }", json!({})).await);
    let org_a = app.org_of(&a).await;
    let tables: Vec<String> = app
        .pool
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped \
             WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relname <> 'refresh_tokens' ORDER BY 1",
        ))
        .await
        .expect("catalog")
        .iter()
        .map(|r| r.try_get("", "name").expect("name"))
        .collect();
    assert!(tables.len() >= 30, "expected every tenant table, found {tables:?}");
    let db = TxDb::begin(&app.pool, &Tenant { org_id: Some(org_a), ..Default::default() }).await.expect("tx");
    let mut populated = 0;
    for t in &tables {
        let seen = db
            .query_one_raw(Statement::from_string(DbBackend::Postgres, format!("SELECT count(*) AS n FROM {t}")))
            .await
            .expect("query")
            .expect("row")
            .try_get::<i64>("", "n")
            .expect("n");
        let own = app.count(&format!("SELECT count(*) AS n FROM {t} WHERE org_id = '{org_a}'")).await;
        let all = app.count(&format!("SELECT count(*) AS n FROM {t}")).await;
        assert_eq!(seen, own, "{t}: an unfiltered query must see exactly its tenant's rows");
        if all > own {
            populated += 1;
        }
    }
    assert!(populated >= 10, "the other tenant must have rows in the work tables ({populated})");
    db.rollback().await.expect("rollback");
    app.finish().await;
}

/// A transaction begins with its tenant's settings in the same message as `BEGIN`
/// (written as literals): every value arrives exactly, whatever it holds, and a lazy
/// transaction begins as the tenant recorded before its first statement.
#[tokio::test]
async fn settings_sent_with_begin_arrive_exactly() {
    let app = TestApp::spawn().await;
    let hostile = "ab'c\\'; SELECT set_config('role', 'postgres', true); --\u{e9}";
    let org = uuid::Uuid::now_v7();
    let tenant = Tenant { org_id: Some(org), api_key_prefix: Some(hostile.to_owned()), ..Default::default() };
    let read = Statement::from_string(
        DbBackend::Postgres,
        "SELECT current_setting('app.api_key_prefix') AS prefix, current_setting('app.org_id') AS org, \
           current_user::text AS who, current_setting('app.system', true) AS system",
    );
    for db in [TxDb::begin(&app.pool, &tenant).await.expect("tx"), {
        let lazy = TxDb::lazy(&app.pool, Tenant::default());
        lazy.set_tenant(&tenant).await.expect("recorded");
        lazy
    }] {
        let row = db.query_one_raw(read.clone()).await.expect("query").expect("row");
        assert_eq!(row.try_get::<String>("", "prefix").expect("prefix"), hostile);
        assert_eq!(row.try_get::<String>("", "org").expect("org"), org.to_string());
        assert_eq!(row.try_get::<String>("", "who").expect("who"), opsgraph_core::db::APP_ROLE);
        assert_eq!(row.try_get::<Option<String>>("", "system").expect("system").unwrap_or_default(), "");
        assert_eq!(db.statement_count(), 1, "the set-up is not one of the request's statements");
        db.rollback().await.expect("rollback");
    }
    // A statement that travels with `BEGIN` sees the tenant and stays in the transaction.
    let lazy = TxDb::lazy(&app.pool, tenant.clone());
    let first = Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT current_setting('app.org_id') AS org, current_user::text AS who, \
         set_config('app.probe', 'in the transaction', true) AS probe, $1::text AS echo",
        [hostile.into()],
    );
    let row = lazy.query_one_first(first).await.expect("first statement").expect("its row");
    assert_eq!(row.try_get::<String>("", "echo").expect("echo"), hostile, "its values are bound");
    assert_eq!(row.try_get::<String>("", "org").expect("org"), org.to_string());
    assert_eq!(row.try_get::<String>("", "who").expect("who"), opsgraph_core::db::APP_ROLE);
    let probe = Statement::from_string(DbBackend::Postgres, "SELECT current_setting('app.probe', true) AS probe");
    let row = lazy.query_one_raw(probe).await.expect("second statement").expect("its row");
    assert_eq!(row.try_get::<String>("", "probe").expect("probe"), "in the transaction");
    assert_eq!(lazy.statement_count(), 2);
    lazy.rollback().await.expect("rollback");
    let job = TxDb::begin_system(&app.pool, Some(org), "kpi").await.expect("tx");
    let row = job.query_one_raw(read).await.expect("query").expect("row");
    assert_eq!(row.try_get::<Option<String>>("", "system").expect("system").as_deref(), Some("kpi"));
    job.rollback().await.expect("rollback");
    app.finish().await;
}

/// A pool of ONE connection to `app`'s database (the same backend serves every
/// transaction), and a tenant for it.
async fn one_connection(app: &TestApp) -> (sea_orm::DatabaseConnection, Tenant) {
    let mut opts = sea_orm::ConnectOptions::new(app.database_url());
    opts.max_connections(1).min_connections(1).sqlx_logging(false);
    let pool = sea_orm::Database::connect(opts).await.expect("one-connection pool");
    (pool, Tenant { org_id: Some(uuid::Uuid::now_v7()), ..Default::default() })
}

/// A transaction whose first statement failed in the round trip that began it, and one dropped while
/// open, are rolled back before their connection serves anyone else: on a pool of ONE
/// connection, the next transactions run normally and see none of their writes.
#[tokio::test]
async fn a_failed_or_dropped_transaction_leaves_its_connection_clean() {
    let app = TestApp::spawn().await;
    let (pool, tenant) = one_connection(&app).await;
    // `txid_current()` gives each transaction its own, increasing id.
    let setting = "SELECT current_setting('app.left', true) AS left_over, txid_current() AS txn";
    let first = |sql: &str| Statement::from_string(DbBackend::Postgres, sql);
    let clean = async |pool: &sea_orm::DatabaseConnection| {
        let db = TxDb::lazy(pool, tenant.clone());
        let row = db.query_one_first(first(setting)).await.expect("a clean transaction").expect("its row");
        db.rollback().await.expect("rollback");
        (row.try_get::<Option<String>>("", "left_over").expect("left_over").unwrap_or_default(), row)
    };

    let failing = TxDb::lazy(&pool, tenant.clone());
    let err = failing.query_one_first(first("SELECT set_config('app.left', 'failed', true), 1 / 0 AS boom")).await;
    assert!(err.is_err(), "division by zero fails");
    drop(failing);
    let (left, _) = clean(&pool).await;
    assert_eq!(left, "", "nothing of the failed transaction is left");

    let open = TxDb::lazy(&pool, tenant.clone());
    let opened = open
        .query_one_first(first("SELECT set_config('app.left', 'dropped', true) AS s, txid_current() AS txn"))
        .await
        .expect("opened")
        .expect("its row");
    drop(open);
    let (left, row) = clean(&pool).await;
    assert_eq!(left, "", "the dropped transaction was rolled back");
    let txn = |row: &sea_orm::QueryResult| row.try_get::<i64>("", "txn").expect("txn");
    assert!(txn(&row) > txn(&opened), "a new transaction, not the old one");

    // A transaction that ended well gives its connection straight back: the same backend
    // serves the next one, in a new transaction.
    let last = std::sync::atomic::AtomicI64::new(txn(&row));
    let backend = async |db: &TxDb| {
        let row = db.query_one_first(first("SELECT pg_backend_pid() AS pid, txid_current() AS txn")).await;
        let row = row.expect("pid").expect("its row");
        let previous = last.swap(txn(&row), std::sync::atomic::Ordering::SeqCst);
        assert!(txn(&row) > previous, "a new transaction");
        row.try_get::<i32>("", "pid").expect("pid")
    };
    let first = TxDb::lazy(&pool, tenant.clone());
    let before = backend(&first).await;
    first.commit().await.expect("commit");
    let second = TxDb::lazy(&pool, tenant.clone());
    assert_eq!(backend(&second).await, before, "the committed connection was reused, not replaced");
    second.rollback().await.expect("rollback");
    let third = TxDb::lazy(&pool, tenant.clone());
    assert_eq!(backend(&third).await, before, "so was the rolled back one");
    drop(third);
    pool.close().await.expect("close");
    app.finish().await;
}

#[tokio::test]
async fn reads_sent_together_succeed_and_fail_as_they_would_one_by_one() {
    let app = TestApp::spawn().await;
    let (pool, tenant) = one_connection(&app).await;
    let read = |sql: &str, n: i32| Statement::from_sql_and_values(DbBackend::Postgres, sql, [n.into()]);
    let value = |rows: &[sea_orm::QueryResult]| rows[0].try_get::<i32>("", "n").expect("n");

    // Three reads of concurrent futures: one round trip, each its own rows.
    let db = TxDb::lazy(&pool, tenant.clone());
    let (a, b, c) = tokio::join!(
        db.query_all_raw(read("SELECT $1::int AS n", 1)),
        db.query_all_raw(read("SELECT $1::int + 1 AS n", 2)),
        db.query_all_raw(read("SELECT n FROM generate_series(1, $1::int) AS n", 3)),
    );
    assert_eq!((value(&a.expect("a")), value(&b.expect("b"))), (1, 3));
    assert_eq!(c.expect("c").len(), 3);
    assert_eq!((db.statement_count(), db.round_trip_count()), (3, 1));
    // A write runs alone.
    let (w, r) = tokio::join!(
        db.query_all_raw(read("WITH x AS (SELECT $1::int AS n) SELECT n FROM x", 4)),
        db.query_all_raw(read("SELECT $1::int AS n", 5)),
    );
    assert_eq!((value(&w.expect("w")), value(&r.expect("r"))), (4, 5));
    assert_eq!((db.statement_count(), db.round_trip_count()), (5, 3));
    db.commit().await.expect("commit");

    // The second of three fails: the first has its rows, the third did not run (in the
    // aborted transaction it would have failed too).
    let db = TxDb::lazy(&pool, tenant.clone());
    let (a, b, c) = tokio::join!(
        db.query_all_raw(read("SELECT $1::int AS n", 1)),
        db.query_all_raw(read("SELECT 1 / ($1::int - 2) AS n", 2)),
        db.query_all_raw(read("SELECT $1::int AS n", 3)),
    );
    assert_eq!(value(&a.expect("the first ran")), 1);
    assert!(b.expect_err("division by zero").to_string().contains("division by zero"));
    assert!(c.expect_err("not run").to_string().contains("not run"));
    assert_eq!(db.round_trip_count(), 1);
    db.rollback().await.expect("rollback");

    // The connection is clean and answers the next transaction.
    let db = TxDb::lazy(&pool, tenant);
    let rows = db.query_all_raw(read("SELECT $1::int AS n", 7)).await.expect("next transaction");
    assert_eq!(value(&rows), 7);
    db.rollback().await.expect("rollback");
    pool.close().await.expect("close");
    app.finish().await;
}
