//! Subscriptions over graphql-transport-ws through the real server: live delivery,
//! filtering by arguments, per-event permission re-checks, resume with `after` (no gap, no
//! duplicate), authentication and token expiry, limits, shutdown close frames, and
//! delivery across two server processes (including a LISTEN connection that drops).

use std::time::Duration;

use opsgraph_e2e::live::{Frame, Live, open};
use opsgraph_e2e::{ServerProcess, TestApp, data};
use opsgraph_org::service::dispatch;
use serde_json::{Value, json};

const NOTIFICATIONS: &str =
    "subscription($a: EventSeq) { notificationAdded(after: $a) { seq notification { kind title } } }";
const TASKS: &str = "subscription($p: ID!, $a: EventSeq) { taskChanged(projectId: $p, after: $a) { seq kind taskId actor { id } task { title } } }";
const PROJECT: &str = "subscription($p: ID!, $a: EventSeq) { projectChanged(id: $p, after: $a) { seq kind subjectType project { key } } }";
const SHORT: Duration = Duration::from_millis(700);

async fn project(app: &TestApp, token: &str, key: &str) -> Value {
    let r = app
        .gql(
            Some(token),
            "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }",
            json!({ "k": key }),
        )
        .await;
    data(&r)["createProject"]["project"]["id"].clone()
}

async fn task(app: &TestApp, token: &str, project: &Value, title: &str, assignee: Option<&str>) -> Value {
    let r = app
        .gql(
            Some(token),
            "mutation($p: ID!, $t: String!, $a: ID) { createTask(input: { projectId: $p, title: $t, assigneeId: $a }) { task { id } } }",
            json!({ "p": project, "t": title, "a": assignee }),
        )
        .await;
    data(&r)["createTask"]["task"]["id"].clone()
}

/// The organisation's newest event sequence number (a starting point without races).
async fn head(app: &TestApp) -> String {
    app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await.to_string()
}

fn error_code(frame: &Frame, id: &str) -> String {
    match frame {
        Frame::Msg(m) if m["type"] == "error" && m["id"] == id => {
            m["payload"][0]["extensions"]["code"].as_str().unwrap_or_default().to_owned()
        }
        other => panic!("expected an error for {id}, got {other:?}"),
    }
}

#[tokio::test]
async fn notifications_arrive_live_and_resume_without_gap_or_duplicate() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@live.example", "Live Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@live.example", "MEMBER").await;
    let p = project(&app, &owner, "LIV").await;
    let from = head(&app).await;

    let mut live = Live::connect(&app.base, &dev).await;
    live.subscribe("n", NOTIFICATIONS, json!({ "a": from })).await;
    task(&app, &owner, &p, "First", Some(&dev_id)).await;
    task(&app, &owner, &p, "Not for dev", None).await;
    dispatch::run_once(&app.pool).await.expect("dispatch");
    let first = live.next_data("n").await;
    assert_eq!(
        first["notificationAdded"]["notification"],
        json!({ "kind": "ASSIGNMENT", "title": "Assigned to you: First" })
    );
    live.assert_silent(SHORT).await;
    let seen = first["notificationAdded"]["seq"].as_str().expect("seq").to_owned();
    live.close().await;

    // Missed while disconnected, then resumed from the last seq received.
    for t in ["Second", "Third"] {
        task(&app, &owner, &p, t, Some(&dev_id)).await;
    }
    dispatch::run_once(&app.pool).await.expect("dispatch");
    let mut live = Live::connect(&app.base, &dev).await;
    live.subscribe("n", NOTIFICATIONS, json!({ "a": seen })).await;
    let mut seqs = vec![seen.parse::<i64>().expect("number")];
    for want in ["Assigned to you: Second", "Assigned to you: Third"] {
        let d = live.next_data("n").await;
        assert_eq!(d["notificationAdded"]["notification"]["title"], want);
        seqs.push(d["notificationAdded"]["seq"].as_str().and_then(|s| s.parse().ok()).expect("seq"));
    }
    // Then live again, in order, nothing twice.
    task(&app, &owner, &p, "Fourth", Some(&dev_id)).await;
    dispatch::run_once(&app.pool).await.expect("dispatch");
    let d = live.next_data("n").await;
    assert_eq!(d["notificationAdded"]["notification"]["title"], "Assigned to you: Fourth");
    seqs.push(d["notificationAdded"]["seq"].as_str().and_then(|s| s.parse().ok()).expect("seq"));
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "strictly increasing: {seqs:?}");
    live.assert_silent(SHORT).await;

    // A cursor from the future, or before the retention window, is refused with a reason.
    live.subscribe("bad", NOTIFICATIONS, json!({ "a": "999999" })).await;
    assert_eq!(error_code(&live.recv(SHORT * 4).await, "bad"), "BAD_USER_INPUT");
    app.count("WITH d AS (DELETE FROM domain_events WHERE seq <= 3 RETURNING 1) SELECT count(*) AS n FROM d").await;
    live.subscribe("old", NOTIFICATIONS, json!({ "a": "1" })).await;
    assert_eq!(error_code(&live.recv(SHORT * 4).await, "old"), "BAD_USER_INPUT");
    app.finish().await;
}

#[tokio::test]
async fn task_streams_filter_and_recheck_access_per_event() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@stream.example", "Stream Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@stream.example", "MEMBER").await;
    let (other, _) = app.member(&owner, "other@stream.example", "MEMBER").await;
    let p1 = project(&app, &owner, "ONE").await;
    let p2 = project(&app, &owner, "TWO").await;
    let staff = data(
        &app.gql(
            Some(&owner),
            "mutation($p: ID!, $m: ID!) { addProjectMember(input: { projectId: $p, membershipId: $m }) { projectMember { id } } }",
            json!({ "p": p1, "m": dev_id }),
        )
        .await,
    )["addProjectMember"]["projectMember"]["id"]
        .clone();
    let from = head(&app).await;

    let mut dev_ws = Live::connect(&app.base, &dev).await;
    dev_ws.subscribe("t", TASKS, json!({ "p": p1, "a": from })).await;
    let mut owner_ws = Live::connect(&app.base, &owner).await;
    owner_ws.subscribe("p", PROJECT, json!({ "p": p1, "a": from })).await;
    // Not on the project: refused up front; unknown project: NOT_FOUND.
    let mut other_ws = Live::connect(&app.base, &other).await;
    other_ws.subscribe("x", TASKS, json!({ "p": p1 })).await;
    assert_eq!(error_code(&other_ws.recv(SHORT * 4).await, "x"), "FORBIDDEN");
    other_ws
        .subscribe("y", TASKS, json!({ "p": "UHJvamVjdDowMTk0ZTZlMC0wMDAwLTcwMDAtODAwMC0wMDAwMDAwMDAwMDA=" }))
        .await;
    let code = error_code(&other_ws.recv(SHORT * 4).await, "y");
    assert!(code == "NOT_FOUND" || code == "BAD_USER_INPUT", "{code}");

    task(&app, &owner, &p2, "Elsewhere", None).await;
    task(&app, &owner, &p1, "Here", None).await;
    let d = dev_ws.next_data("t").await;
    assert_eq!(d["taskChanged"]["kind"], "task.created");
    assert_eq!(d["taskChanged"]["task"]["title"], "Here");
    assert!(d["taskChanged"]["actor"]["id"].is_string());
    dev_ws.assert_silent(SHORT).await;
    let d = owner_ws.next_data("p").await;
    assert_eq!(
        (d["projectChanged"]["kind"].as_str(), d["projectChanged"]["subjectType"].as_str()),
        (Some("task.created"), Some("Task"))
    );
    assert_eq!(d["projectChanged"]["project"]["key"], "ONE");

    // Taken off the project: the next event of the project ends dev's stream with FORBIDDEN.
    data(
        &app.gql(
            Some(&owner),
            "mutation($i: ID!) { removeProjectMember(input: { id: $i }) { projectMember { id } } }",
            json!({ "i": staff }),
        )
        .await,
    );
    task(&app, &owner, &p1, "After removal", None).await;
    assert_eq!(error_code(&dev_ws.recv(SHORT * 4).await, "t"), "FORBIDDEN");
    dev_ws.assert_silent(SHORT).await;
    // The manager still follows everything, in order.
    for kind in ["project.member_removed", "task.created"] {
        assert_eq!(owner_ws.next_data("p").await["projectChanged"]["kind"], kind);
    }
    app.finish().await;
}

#[tokio::test]
async fn sockets_authenticate_expire_and_are_limited() {
    let mut app = TestApp::spawn_with(|c| {
        c.access_ttl_secs = 3;
        c.ws_max_subscriptions = 2;
        c.ws_init_timeout_secs = 1;
    })
    .await;
    let (owner, _) = app.sign_up("owner@sock.example", "Sock Co").await;

    let mut bad = open(&app.base).await;
    bad.init(json!({ "Authorization": "Bearer nope" })).await;
    match bad.recv(SHORT * 4).await {
        Frame::Closed(4403, reason) => assert!(reason.contains("invalid access token"), "{reason}"),
        other => panic!("expected 4403, got {other:?}"),
    }
    let mut early = open(&app.base).await;
    early.subscribe("s", NOTIFICATIONS, json!({})).await;
    assert!(matches!(early.recv(SHORT * 4).await, Frame::Closed(4401, _)));
    let mut silent = open(&app.base).await;
    assert!(matches!(silent.recv(Duration::from_secs(4)).await, Frame::Closed(4408, _)));

    let mut ws = Live::connect(&app.base, &owner).await;
    ws.init(json!({ "Authorization": format!("Bearer {owner}") })).await;
    assert!(matches!(ws.recv(SHORT * 4).await, Frame::Closed(4429, _)));

    let mut ws = Live::connect(&app.base, &owner).await;
    // Queries run over the socket too.
    ws.subscribe("q", "{ viewer { user { email } } }", json!({})).await;
    assert_eq!(ws.next_data("q").await["viewer"]["user"]["email"], "owner@sock.example");
    assert!(matches!(ws.recv(SHORT).await, Frame::Msg(m) if m["type"] == "complete"));
    ws.subscribe("a", NOTIFICATIONS, json!({})).await;
    ws.subscribe("b", NOTIFICATIONS, json!({})).await;
    ws.subscribe("c", NOTIFICATIONS, json!({})).await;
    assert_eq!(error_code(&ws.recv(SHORT * 4).await, "c"), "BAD_USER_INPUT");
    ws.subscribe("a", NOTIFICATIONS, json!({})).await;
    assert!(matches!(ws.recv(SHORT * 4).await, Frame::Closed(4409, _)));

    // The access token expires: the socket is closed with 4403.
    let mut ws = Live::connect(&app.base, &owner).await;
    ws.subscribe("a", NOTIFICATIONS, json!({})).await;
    match ws.recv(Duration::from_secs(6)).await {
        Frame::Closed(4403, reason) => assert!(reason.contains("expired"), "{reason}"),
        other => panic!("expected 4403 on expiry, got {other:?}"),
    }

    // Graceful shutdown: every open socket gets a close frame.
    let token = app.log_in("owner@sock.example").await;
    let mut one = Live::connect(&app.base, &token).await;
    let mut two = Live::connect(&app.base, &token).await;
    two.subscribe("a", NOTIFICATIONS, json!({})).await;
    app.shutdown();
    for ws in [&mut one, &mut two] {
        assert!(matches!(ws.recv(Duration::from_secs(5)).await, Frame::Closed(1001, _)));
    }
    app.finish().await;
}

#[tokio::test]
async fn events_reach_subscribers_of_another_server_process() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@multi.example", "Multi Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@multi.example", "MEMBER").await;
    let p = project(&app, &owner, "MLT").await;
    let other = ServerProcess::spawn(&app.database_url(), &[]).await;
    let from = head(&app).await;

    let mut ws = Live::connect(&other.base, &dev).await;
    ws.subscribe("n", NOTIFICATIONS, json!({ "a": from })).await;
    let mut mgr = Live::connect(&other.base, &owner).await;
    mgr.subscribe("p", PROJECT, json!({ "p": p, "a": from })).await;
    // Committed through this process, delivered by the other one.
    task(&app, &owner, &p, "Across", Some(&dev_id)).await;
    dispatch::run_once(&app.pool).await.expect("dispatch");
    assert_eq!(mgr.next_data("p").await["projectChanged"]["kind"], "task.created");
    assert_eq!(ws.next_data("n").await["notificationAdded"]["notification"]["title"], "Assigned to you: Across");

    // The other process's LISTEN connection is killed: it reconnects, catches up from the
    // outbox, and nothing committed meanwhile is lost.
    let killed = app
        .count(&format!(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity \
             WHERE datname = '{}' AND query ILIKE 'LISTEN%' AND pid <> pg_backend_pid()",
            app.db_name
        ))
        .await;
    assert!(killed >= 1, "the other process listens");
    for t in ["During", "After"] {
        task(&app, &owner, &p, t, Some(&dev_id)).await;
    }
    dispatch::run_once(&app.pool).await.expect("dispatch");
    for t in ["During", "After"] {
        assert_eq!(mgr.next_data("p").await["projectChanged"]["kind"], "task.created");
        assert_eq!(
            ws.next_data("n").await["notificationAdded"]["notification"]["title"],
            format!("Assigned to you: {t}")
        );
    }
    ws.assert_silent(SHORT).await;
    drop(other);
    app.finish().await;
}

/// A burst larger than a subscriber's queue (one transaction of 40 events, queue of 1):
/// the feed marks it lagging instead of waiting for it, and it catches up (from the
/// feed's memory, or from the database when memory keeps nothing): every event once, in
/// order, then live again.
async fn burst_overflows_a_queue_of_one(history: usize) {
    use opsgraph_core::events::{DomainEvent, emit};
    use opsgraph_core::node::NodeType;
    use sea_orm::TransactionTrait;
    let app = TestApp::spawn_with(|c| {
        c.live_queue = 1;
        c.live_history = history;
    })
    .await;
    let (owner, _) = app.sign_up("owner@burst.example", "Burst Co").await;
    let p = project(&app, &owner, "BUR").await;
    let t = task(&app, &owner, &p, "Target", None).await;
    let from = head(&app).await;
    let mut live = Live::connect(&app.base, &owner).await;
    live.subscribe("t", TASKS, json!({ "p": p, "a": from })).await;
    live.assert_silent(SHORT).await;
    let project_id = opsgraph_work::nodes::Project::decode(p.as_str().expect("id"), "p").expect("project id");
    let task_id = opsgraph_work::nodes::Task::decode(t.as_str().expect("id"), "t").expect("task id");
    let caught_up = opsgraph_core::live::catch_ups();
    let org = org_id(&app).await;
    let txn = app.pool.begin().await.expect("begin");
    let session = opsgraph_core::Session::anonymous("burst");
    for i in 0..40 {
        let event = DomainEvent {
            kind: "task.updated",
            subject_type: "Task",
            subject_id: task_id,
            project_id: Some(project_id),
            data: json!({ "i": i }),
            ..Default::default()
        };
        emit(&txn, &session, org, event).await.expect("emit");
    }
    txn.commit().await.expect("commit");
    let first: i64 = from.parse::<i64>().expect("head") + 1;
    let mut seqs = vec![];
    for _ in 0..40 {
        let d = live.next_data("t").await;
        seqs.push(d["taskChanged"]["seq"].as_str().and_then(|s| s.parse::<i64>().ok()).expect("seq"));
    }
    assert_eq!(seqs, (first..first + 40).collect::<Vec<_>>(), "every event once, in order");
    assert!(opsgraph_core::live::catch_ups() > caught_up, "the burst overflowed the queue of one");
    live.assert_silent(SHORT).await;
    task(&app, &owner, &p, "Live again", None).await;
    assert_eq!(live.next_data("t").await["taskChanged"]["kind"], "task.created");
    app.finish().await;
}

#[tokio::test]
async fn a_subscriber_behind_its_queue_catches_up_from_the_database() {
    burst_overflows_a_queue_of_one(0).await;
}

#[tokio::test]
async fn a_subscriber_behind_its_queue_catches_up_from_the_feeds_memory() {
    burst_overflows_a_queue_of_one(4096).await;
}

/// The one organisation of a test database.
async fn org_id(app: &TestApp) -> uuid::Uuid {
    use sea_orm::ConnectionTrait;
    let row = app
        .pool
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT id FROM organizations LIMIT 1",
        ))
        .await
        .expect("org")
        .expect("an organisation");
    row.try_get("", "id").expect("org id")
}

/// A subscriber resuming from a position the feed still holds in memory is served from
/// there: it gets what it missed even once the events are gone from the database (which
/// a resume read from the database would refuse as past the retention window).
#[tokio::test]
async fn a_resume_within_the_feeds_memory_reads_no_events_from_the_database() {
    use sea_orm::ConnectionTrait;
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@recent.example", "Recent Co").await;
    let p = project(&app, &owner, "REC").await;
    let mut first = Live::connect(&app.base, &owner).await;
    first.subscribe("t", TASKS, json!({ "p": p })).await;
    first.assert_silent(SHORT).await;
    let from = head(&app).await;
    for title in ["One", "Two", "Three"] {
        task(&app, &owner, &p, title, None).await;
    }
    let mut seen = vec![];
    for _ in 0..3 {
        seen.push(first.next_data("t").await["taskChanged"]["seq"].clone());
    }
    app.pool
        .execute_unprepared(&format!("DELETE FROM domain_events WHERE seq > {from}"))
        .await
        .expect("events removed");
    let mut again = Live::connect(&app.base, &owner).await;
    again
        .subscribe(
            "r",
            "subscription($p: ID!, $a: EventSeq) { taskChanged(projectId: $p, after: $a) { seq kind } }",
            json!({ "p": p, "a": from }),
        )
        .await;
    let mut resumed = vec![];
    for _ in 0..3 {
        resumed.push(again.next_data("r").await["taskChanged"]["seq"].clone());
    }
    assert_eq!(resumed, seen, "the missed events, once and in order, from memory");
    again.assert_silent(SHORT).await;
    app.finish().await;
}

/// Sockets connecting and subscribing at once authenticate and pass their start checks in
/// shared batches (far fewer statements than sockets); the checks read the member's
/// current role, not the one the socket connected with.
#[tokio::test]
async fn subscription_starts_of_many_sockets_share_their_checks() {
    let app = TestApp::spawn_with(|c| c.live_batch_window_ms = 20).await;
    let (owner, _) = app.sign_up("owner@crowd.example", "Crowd Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@crowd.example", "MEMBER").await;
    let p = project(&app, &owner, "CRW").await;
    let scope = app.events.start_scope(org_id(&app).await);

    let sockets = 24;
    let before = scope.batches();
    let mut crowd = futures_util::future::join_all((0..sockets).map(|i| {
        let (base, p) = (app.base.clone(), p.clone());
        let token = owner.clone();
        async move {
            let mut ws = Live::connect(&base, &token).await;
            ws.subscribe(&format!("s{i}"), TASKS, json!({ "p": p })).await;
            ws
        }
    }))
    .await;
    tokio::time::sleep(SHORT).await;
    task(&app, &owner, &p, "For everyone", None).await;
    for (i, ws) in crowd.iter_mut().enumerate() {
        assert_eq!(ws.next_data(&format!("s{i}")).await["taskChanged"]["kind"], "task.created");
    }
    assert_eq!(app.events.followers(), sockets, "every subscription started and follows the feed");
    let batches = scope.batches() - before;
    eprintln!("{sockets} sockets connected and subscribed with {batches} start batches");
    // Unbatched, each socket would run five: its credentials twice (connection and
    // subscription), the project, the role and the staffing.
    assert!(batches < sockets as u64, "{batches} batches for {sockets} sockets");

    // A member not on the project is refused; promoted to manager, the same socket may
    // follow it: the subscription's start read the role anew.
    let mut ws = Live::connect(&app.base, &dev).await;
    ws.subscribe("x", TASKS, json!({ "p": p })).await;
    assert_eq!(error_code(&ws.recv(SHORT * 4).await, "x"), "FORBIDDEN");
    let r = app
        .gql(
            Some(&owner),
            "query($id: ID!) { node(id: $id) { ... on Membership { version } } }",
            json!({ "id": dev_id }),
        )
        .await;
    let version = data(&r)["node"]["version"].clone();
    let r = app
        .gql(
            Some(&owner),
            "mutation($i: ChangeMemberRoleInput!) { changeMemberRole(input: $i) { membership { role } } }",
            json!({ "i": { "id": dev_id, "role": "MANAGER", "expectedVersion": version } }),
        )
        .await;
    assert_eq!(data(&r)["changeMemberRole"]["membership"]["role"], "MANAGER");
    ws.subscribe("y", TASKS, json!({ "p": p })).await;
    ws.assert_silent(SHORT).await;
    task(&app, &owner, &p, "For managers too", None).await;
    assert_eq!(ws.next_data("y").await["taskChanged"]["kind"], "task.created");

    // Deactivated, the member's open socket can start nothing more.
    let r = app
        .gql(
            Some(&owner),
            "mutation($i: MemberIdInput!) { deactivateMember(input: $i) { membership { isActive } } }",
            json!({ "i": { "id": dev_id } }),
        )
        .await;
    data(&r);
    ws.subscribe("z", TASKS, json!({ "p": p })).await;
    let code = error_code(&ws.recv(SHORT * 4).await, "z");
    assert!(code == "FORBIDDEN" || code == "UNAUTHENTICATED", "{code}");
    app.finish().await;
}
