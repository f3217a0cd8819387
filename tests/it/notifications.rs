//! Domain events become notifications: the right recipients (assignee, mentioned members,
//! watchers), never the actor, per preferences (e-mail/push queued as pending), exactly once
//! even with concurrent dispatchers; inbox operations; the background dispatcher.

use opsgraph_e2e::{TestApp, code, data, field};
use opsgraph_org::service::dispatch;
use serde_json::{Value, json};

const INBOX: &str = "{ viewer { unreadNotificationCount notifications(first: 50, orderBy: [{ field: CREATED_AT, direction: ASC }]) { totalCount nodes { id kind title } } } }";

fn kinds(r: &Value) -> Vec<String> {
    data(r)["viewer"]["notifications"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["kind"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn events_reach_the_right_people_once() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@notify.example", "Notify Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@notify.example", "MEMBER").await;
    let (ana, _) = app.member(&owner, "ana@notify.example", "MEMBER").await;
    let p = data(
        &app.gql(
            Some(&owner),
            "mutation { createProject(input: { key: \"NTF\", name: \"Notify\" }) { project { id } } }",
            json!({}),
        )
        .await,
    )["createProject"]["project"]["id"]
        .clone();
    let t = data(&app.gql(Some(&owner), "mutation($p: ID!, $a: ID) { createTask(input: { projectId: $p, title: \"Fix login\", assigneeId: $a }) { task { id } } }", json!({ "p": p, "a": dev_id })).await)["createTask"]["task"]["id"].clone();
    let comment =
        "mutation($s: ID!, $b: String!) { addComment(input: { subjectId: $s, body: $b }) { comment { id } } }";
    data(&app.gql(Some(&ana), comment, json!({ "s": t, "b": "@dev can you look at this?" })).await);
    data(&app.gql(Some(&dev), "mutation($t: ID!) { transitionTask(input: { id: $t, status: IN_PROGRESS, expectedVersion: 1 }) { task { id } } }", json!({ "t": t })).await);

    let created = dispatch::run_once(&app.pool).await.expect("dispatch");
    assert_eq!(dispatch::run_once(&app.pool).await.expect("again"), 0, "nothing is dispatched twice");
    // dev: assigned + mentioned (own status change not notified).
    let r = app.gql(Some(&dev), INBOX, json!({})).await;
    assert_eq!(kinds(&r), ["ASSIGNMENT", "MENTION"]);
    assert_eq!(data(&r)["viewer"]["notifications"]["nodes"][0]["title"], "Assigned to you: Fix login");
    // owner: watches project and task -> the comment and the status change, not their own creation.
    let r = app.gql(Some(&owner), INBOX, json!({})).await;
    assert_eq!(kinds(&r), ["COMMENT", "STATUS_CHANGE"]);
    assert_eq!(data(&r)["viewer"]["notifications"]["nodes"][1]["title"], "Fix login: TODO → IN_PROGRESS");
    // ana: started watching by commenting -> the status change only.
    let r = app.gql(Some(&ana), INBOX, json!({})).await;
    assert_eq!(kinds(&r), ["STATUS_CHANGE"]);
    assert_eq!(created, 5);
    // E-mail is queued for the assignment and the mention (default channels).
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_deliveries WHERE channel = 'EMAIL' AND status = 'PENDING'")
            .await,
        2
    );

    // Preferences: ana turns in-app comments off and e-mail on.
    let prefs =
        app.gql(Some(&ana), "{ viewer { notificationPreferences { kind inApp email push } } }", json!({})).await;
    let all = data(&prefs)["viewer"]["notificationPreferences"].as_array().expect("prefs").clone();
    assert_eq!(all.len(), 10);
    assert!(all.contains(&json!({ "kind": "MENTION", "inApp": true, "email": true, "push": false })));
    let set = "mutation($i: SetNotificationPreferenceInput!) { setNotificationPreference(input: $i) { preference { kind inApp email push } } }";
    let r = app.gql(Some(&ana), set, json!({ "i": { "kind": "COMMENT", "inApp": false, "email": true } })).await;
    assert_eq!(
        data(&r)["setNotificationPreference"]["preference"],
        json!({ "kind": "COMMENT", "inApp": false, "email": true, "push": false })
    );
    let bad = app.gql(Some(&ana), set, json!({ "i": { "kind": "SHOUT" } })).await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));
    data(&app.gql(Some(&dev), comment, json!({ "s": t, "b": "Looking now" })).await);
    dispatch::run_once(&app.pool).await.expect("dispatch");
    let r = app.gql(Some(&ana), INBOX, json!({})).await;
    assert_eq!(kinds(&r), ["STATUS_CHANGE"], "no in-app COMMENT for ana");
    assert_eq!(
        app.count("SELECT count(*) AS n FROM notification_deliveries WHERE kind = 'COMMENT' AND channel = 'EMAIL'")
            .await,
        1
    );

    // Inbox operations.
    let r = app.gql(Some(&dev), INBOX, json!({})).await;
    assert_eq!(data(&r)["viewer"]["unreadNotificationCount"], 2);
    let first = data(&r)["viewer"]["notifications"]["nodes"][0]["id"].clone();
    let archive = "mutation($ids: [ID!]!, $a: Boolean) { archiveNotifications(input: { ids: $ids, archived: $a }) { updatedCount } }";
    assert_eq!(
        data(&app.gql(Some(&dev), archive, json!({ "ids": [first] })).await)["archiveNotifications"]["updatedCount"],
        1
    );
    assert_eq!(
        data(&app.gql(Some(&dev), archive, json!({ "ids": [first] })).await)["archiveNotifications"]["updatedCount"],
        0
    );
    let r = app.gql(Some(&dev), "{ viewer { unreadNotificationCount notifications(filter: { archivedAt: { isNull: true } }) { totalCount } } }", json!({})).await;
    assert_eq!(data(&r)["viewer"], json!({ "unreadNotificationCount": 1, "notifications": { "totalCount": 1 } }));
    let theirs = app.gql(Some(&ana), archive, json!({ "ids": [first] })).await;
    assert_eq!(data(&theirs)["archiveNotifications"]["updatedCount"], 0, "someone else's notification is untouched");
    let too_many: Vec<Value> = (0..101).map(|_| first.clone()).collect();
    let r = app.gql(Some(&dev), archive, json!({ "ids": too_many })).await;
    assert_eq!(field(&r), Some("ids"));
    let r = app.gql(Some(&dev), "mutation { markAllNotificationsRead { updatedCount } }", json!({})).await;
    assert_eq!(data(&r)["markAllNotificationsRead"]["updatedCount"], 2);
    let r = app.gql(Some(&dev), "{ viewer { unreadNotificationCount } }", json!({})).await;
    assert_eq!(data(&r)["viewer"]["unreadNotificationCount"], 0);
    app.finish().await;
}

#[tokio::test]
async fn concurrent_dispatchers_never_duplicate() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@race.example", "Race Co").await;
    let (_, dev_id) = app.member(&owner, "dev@race.example", "MEMBER").await;
    let p = data(
        &app.gql(
            Some(&owner),
            "mutation { createProject(input: { key: \"RACE\", name: \"Race\" }) { project { id } } }",
            json!({}),
        )
        .await,
    )["createProject"]["project"]["id"]
        .clone();
    for i in 0..60 {
        data(&app.gql(Some(&owner), "mutation($p: ID!, $a: ID, $t: String!) { createTask(input: { projectId: $p, title: $t, assigneeId: $a }) { task { id } } }", json!({ "p": p, "a": dev_id, "t": format!("t{i}") })).await);
    }
    let pools: Vec<_> = (0..4).map(|_| app.pool.clone()).collect();
    let runs = futures_util::future::join_all(pools.iter().map(|p| async move {
        let mut n = 0;
        loop {
            let k = dispatch::run_once(p).await.expect("dispatch");
            if k == 0 {
                break n;
            }
            n += k;
        }
    }))
    .await;
    assert_eq!(runs.iter().sum::<usize>(), 60, "{runs:?}");
    assert_eq!(app.count("SELECT count(*) AS n FROM notifications").await, 60);
    assert_eq!(app.count("SELECT count(*) AS n FROM domain_events WHERE dispatched_at IS NULL").await, 0);
    app.finish().await;
}

#[tokio::test]
async fn the_background_dispatcher_delivers() {
    let app = TestApp::spawn_with(|c| c.dispatch_interval_ms = 50).await;
    let (owner, _) = app.sign_up("owner@bg.example", "Background Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@bg.example", "MEMBER").await;
    assign_in_new_project(&app, &owner, "BG", &dev_id).await;
    let mut seen = 0;
    for _ in 0..300 {
        let r = app.gql(Some(&dev), "{ viewer { unreadNotificationCount } }", json!({})).await;
        seen = data(&r)["viewer"]["unreadNotificationCount"].as_i64().unwrap_or(0);
        if seen > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // What the dispatcher sees (forced Row Level Security hides both from the owner role).
    let pending = app
        .count_as_system("SELECT count(*) AS n FROM event_counters WHERE last_seq > dispatched_seq", "dispatcher")
        .await;
    let rows = app.count_as_system("SELECT count(*) AS n FROM notifications", "dispatcher").await;
    // And what a pass of its own makes of them now (an error says why the job did not).
    let pass = if seen > 0 { Ok(0) } else { dispatch::run_once(&app.pool).await };
    assert_eq!(
        seen, 1,
        "the assignment arrives without anyone calling the dispatcher (pending {pending}, rows {rows}, a pass now: {pass:?})"
    );
    app.finish().await;
}

/// Creates project `key` and in it a task assigned to member `assignee` (a global id).
async fn assign_in_new_project(app: &TestApp, owner: &str, key: &str, assignee: &str) {
    let q = "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }";
    let p = data(&app.gql(Some(owner), q, json!({ "k": key })).await)["createProject"]["project"]["id"].clone();
    let q = "mutation($p: ID!, $a: ID) { createTask(input: { projectId: $p, title: \"Ship\", assigneeId: $a }) { task { id } } }";
    data(&app.gql(Some(owner), q, json!({ "p": p, "a": assignee })).await);
}

#[tokio::test]
async fn one_organisations_undeliverable_event_does_not_hold_back_the_others() {
    let app = TestApp::spawn().await;
    let (first, _) = app.sign_up("owner@one.example", "One Co").await;
    let (second, _) = app.sign_up("owner@two.example", "Two Co").await;
    let (a, b) = (app.org_of(&first).await, app.org_of(&second).await);
    // A pass takes organisations in id order: the broken one comes first.
    let ((broken, _), (fine, owner)) = if a < b { ((a, first), (b, second)) } else { ((b, second), (a, first)) };
    assert!(broken < fine);
    // The broken organisation's outbox holds an event for a recipient that is no
    // membership: its notification cannot be stored, so its dispatch fails on every pass.
    let db =
        opsgraph_core::TxDb::begin(&app.pool, &opsgraph_core::Tenant { org_id: Some(broken), ..Default::default() })
            .await
            .expect("tx");
    emit_assignment(&db, broken, uuid::Uuid::new_v4(), "Nobody's").await;
    db.commit().await.expect("commit");
    // The other organisation's assignment is dispatched all the same.
    let (dev, dev_id) = app.member(&owner, "dev@fine.example", "MEMBER").await;
    assign_in_new_project(&app, &owner, "FI", &dev_id).await;
    let pass = dispatch::run_once(&app.pool).await;
    assert!(pass.is_err(), "the pass reports the broken organisation's failure: {pass:?}");
    let r = app.gql(Some(&dev), "{ viewer { unreadNotificationCount } }", json!({})).await;
    assert_eq!(data(&r)["viewer"]["unreadNotificationCount"], 1, "the other organisation's member is told: {r}");
    app.finish().await;
}

/// Appends a `task.assigned` event for `recipient` in `tx` (not committed here).
async fn emit_assignment(tx: &opsgraph_core::TxDb, org: uuid::Uuid, recipient: uuid::Uuid, title: &str) {
    let event = opsgraph_core::events::DomainEvent {
        kind: "task.assigned",
        subject_type: "Task",
        subject_id: uuid::Uuid::new_v4(),
        recipients: vec![recipient],
        data: json!({ "title": title }),
        ..Default::default()
    };
    opsgraph_core::events::emit(tx, &opsgraph_core::Session::anonymous("test"), org, event).await.expect("emit");
}

#[tokio::test]
async fn an_event_committing_during_a_dispatch_pass_is_dispatched_by_the_next() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@race.example", "Race Co").await;
    let (dev, dev_gid) = app.member(&owner, "dev@race.example", "MEMBER").await;
    let dev_member = opsgraph_core::id::decode_as(&dev_gid, "Membership", "id").expect("membership id");
    let org = app.org_of(&owner).await;
    let tenant = opsgraph_core::Tenant { org_id: Some(org), ..Default::default() };
    let first = opsgraph_core::TxDb::begin(&app.pool, &tenant).await.expect("tx");
    emit_assignment(&first, org, dev_member, "First").await;
    first.commit().await.expect("commit");
    // The second event's transaction holds the organisation's counter while a pass
    // dispatches the first: the pass waits for it to commit.
    let second = opsgraph_core::TxDb::begin(&app.pool, &tenant).await.expect("tx");
    emit_assignment(&second, org, dev_member, "Second").await;
    let pool = app.pool.clone();
    let pass = tokio::spawn(async move { dispatch::run_once(&pool).await });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!pass.is_finished(), "the pass waits for the counter");
    second.commit().await.expect("commit");
    pass.await.expect("pass task").expect("pass");
    // The second event was not in the pass's snapshot: the next pass dispatches it.
    dispatch::run_once(&app.pool).await.expect("next pass");
    let r = app.gql(Some(&dev), "{ viewer { unreadNotificationCount } }", json!({})).await;
    assert_eq!(data(&r)["viewer"]["unreadNotificationCount"], 2, "both assignments: {r}");
    app.finish().await;
}

#[tokio::test]
async fn reminders_happen_once_across_instances() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@remind.example", "Remind Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@remind.example", "MEMBER").await;
    let p = data(
        &app.gql(
            Some(&owner),
            "mutation { createProject(input: { key: \"REM\", name: \"Remind\" }) { project { id } } }",
            json!({}),
        )
        .await,
    )["createProject"]["project"]["id"]
        .clone();
    let today = chrono::Utc::now().date_naive();
    let day = |d: i64| (today + chrono::Duration::days(d)).to_string();
    let mk = "mutation($p: ID!, $a: ID, $t: String!, $d: Date) { createTask(input: { projectId: $p, title: $t, assigneeId: $a, dueDate: $d }) { task { id } } }";
    for (title, due) in [("tomorrow", day(1)), ("late", day(-3)), ("next week", day(7))] {
        data(&app.gql(Some(&owner), mk, json!({ "p": p, "a": dev_id, "t": title, "d": due })).await);
    }
    data(&app.gql(Some(&owner), mk, json!({ "p": p, "a": null, "t": "nobody's", "d": day(1) })).await);
    data(&app.gql(Some(&owner), "mutation($p: ID!, $d: Date) { createMilestone(input: { projectId: $p, name: \"Beta\", dueDate: $d }) { milestone { id } } }", json!({ "p": p, "d": day(1) })).await);
    dispatch::run_once(&app.pool).await.expect("dispatch creation events");

    // Two instances run the job at the same moment: every reminder exactly once.
    let (a, b) = tokio::join!(
        opsgraph_work::service::reminders::run(&app.pool, today),
        opsgraph_work::service::reminders::run(&app.pool, today)
    );
    assert_eq!(a.expect("a") + b.expect("b"), 3, "due tomorrow, overdue, milestone");
    assert_eq!(opsgraph_work::service::reminders::run(&app.pool, today).await.expect("again"), 0);
    dispatch::run_once(&app.pool).await.expect("dispatch reminders");
    let r = app.gql(Some(&dev), "{ viewer { notifications(filter: { kind: { eq: REMINDER } }, orderBy: [{ field: CREATED_AT, direction: ASC }]) { nodes { title } } } }", json!({})).await;
    let mut titles: Vec<String> = data(&r)["viewer"]["notifications"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["title"].as_str().unwrap_or_default().to_owned())
        .collect();
    titles.sort();
    assert_eq!(titles, ["Due tomorrow: tomorrow", "Overdue: late"]);
    let r = app
        .gql(
            Some(&owner),
            "{ viewer { notifications(filter: { kind: { eq: REMINDER } }) { nodes { title } } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data(&r)["viewer"]["notifications"]["nodes"],
        json!([{ "title": "Milestone due: Beta" }]),
        "the project's watchers hear of the milestone"
    );
    app.finish().await;
}
