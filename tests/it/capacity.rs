//! OKRs with computed progress, time entries and hours, time off, availability and the
//! capacity planner's maths through the API.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().expect("string").to_owned()
}

async fn project(app: &TestApp, token: &str, key: &str) -> String {
    let r = app
        .gql(
            Some(token),
            "mutation($k: String!) { createProject(input: { key: $k, name: $k, status: ACTIVE }) { project { id } } }",
            json!({ "k": key }),
        )
        .await;
    s(&data(&r)["createProject"]["project"]["id"])
}

#[tokio::test]
async fn okrs_progress_and_links() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@okr.example", "OKR Co").await;
    let (dev, _) = app.member(&owner, "dev@okr.example", "MEMBER").await;
    let p = project(&app, &owner, "OKR").await;
    let create =
        "mutation($i: CreateObjectiveInput!) { createObjective(input: $i) { objective { id progress status } } }";
    let o = data(&app.gql(Some(&owner), create, json!({ "i": { "title": "Delight clients", "periodStart": "2026-10-01", "periodEnd": "2026-12-31", "idempotencyKey": "okr-q4" } })).await)["createObjective"]["objective"].clone();
    assert_eq!((o["progress"].as_f64(), o["status"].as_str()), (Some(0.0), Some("ACTIVE")));
    let bad = app
        .gql(
            Some(&owner),
            create,
            json!({ "i": { "title": "x", "periodStart": "2026-12-01", "periodEnd": "2026-10-01" } }),
        )
        .await;
    assert_eq!(field(&bad), Some("periodEnd"));
    let by_member = app
        .gql(
            Some(&dev),
            create,
            json!({ "i": { "title": "x", "periodStart": "2026-10-01", "periodEnd": "2026-12-31" } }),
        )
        .await;
    assert_eq!(code(&by_member), Some("FORBIDDEN"));

    let add = "mutation($i: AddKeyResultInput!) { addKeyResult(input: $i) { keyResult { id progress version } } }";
    let nps = data(&app.gql(Some(&owner), add, json!({ "i": { "objectiveId": o["id"], "title": "NPS 30 -> 50", "startValue": "30", "targetValue": "50", "currentValue": "40", "weight": "3" } })).await)["addKeyResult"]["keyResult"].clone();
    assert_eq!(nps["progress"], 0.5);
    let churn = data(&app.gql(Some(&owner), add, json!({ "i": { "objectiveId": o["id"], "title": "Churn 10% -> 5%", "startValue": "10", "targetValue": "5", "unit": "%" } })).await)["addKeyResult"]["keyResult"].clone();
    let same = app
        .gql(
            Some(&owner),
            add,
            json!({ "i": { "objectiveId": o["id"], "title": "flat", "startValue": "1", "targetValue": "1" } }),
        )
        .await;
    assert_eq!(field(&same), Some("targetValue"));
    let check = "mutation($i: CheckInKeyResultInput!) { checkInKeyResult(input: $i) { keyResult { progress currentValue version } } }";
    let r = app
        .gql(Some(&dev), check, json!({ "i": { "id": churn["id"], "expectedVersion": 1, "currentValue": "6" } }))
        .await;
    assert_eq!(data(&r)["checkInKeyResult"]["keyResult"]["progress"], 0.8);
    let stale = app
        .gql(Some(&dev), check, json!({ "i": { "id": churn["id"], "expectedVersion": 1, "currentValue": "5" } }))
        .await;
    assert_eq!(code(&stale), Some("CONFLICT"));

    let link = "mutation($o: ID!, $s: ID!) { linkObjective(input: { objectiveId: $o, subjectId: $s }) { objective { projects { id } } } }";
    let r = app.gql(Some(&owner), link, json!({ "o": o["id"], "s": p })).await;
    assert_eq!(data(&r)["linkObjective"]["objective"]["projects"], json!([{ "id": p }]));
    data(&app.gql(Some(&owner), link, json!({ "o": o["id"], "s": p })).await);
    // Weighted: (3 x 0.5 + 1 x 0.8) / 4 = 0.575.
    let q = "query($p: ID!) { node(id: $p) { ... on Project { okrProgress objectives { title progress keyResults { title } } } } objectives(filter: { status: { eq: ACTIVE } }) { totalCount } }";
    let r = app.gql(Some(&dev), q, json!({ "p": p })).await;
    let d = data(&r);
    assert!((d["node"]["okrProgress"].as_f64().expect("f64") - 0.575).abs() < 1e-9);
    assert_eq!(d["node"]["objectives"].as_array().map(Vec::len), Some(1), "linking twice keeps one link");
    assert_eq!(d["objectives"]["totalCount"], 1);
    let upd = "mutation($i: UpdateObjectiveInput!) { updateObjective(input: $i) { objective { status version owner { id } } } }";
    let r =
        app.gql(Some(&owner), upd, json!({ "i": { "id": o["id"], "expectedVersion": 1, "status": "ACHIEVED" } })).await;
    assert_eq!(data(&r)["updateObjective"]["objective"]["status"], "ACHIEVED");
    let stale = app.gql(Some(&owner), upd, json!({ "i": { "id": o["id"], "expectedVersion": 1, "title": "x" } })).await;
    assert_eq!(code(&stale), Some("CONFLICT"));
    let bad = app.gql(Some(&owner), upd, json!({ "i": { "id": o["id"], "expectedVersion": 2, "title": "" } })).await;
    assert_eq!(field(&bad), Some("title"));
    let t = data(
        &app.gql(
            Some(&owner),
            "mutation($p: ID!) { createTask(input: { projectId: $p, title: \"KR work\" }) { task { id } } }",
            json!({ "p": p }),
        )
        .await,
    )["createTask"]["task"]["id"]
        .clone();
    data(&app.gql(Some(&owner), link, json!({ "o": o["id"], "s": t })).await);
    let r = app.gql(Some(&dev), "query($t: ID!, $o: ID!) { t: node(id: $t) { ... on Task { objectives { id } } } o: node(id: $o) { ... on Objective { tasks { id } } } }", json!({ "t": t, "o": o["id"] })).await;
    assert_eq!(data(&r)["t"]["objectives"], json!([{ "id": o["id"] }]));
    assert_eq!(data(&r)["o"]["tasks"], json!([{ "id": t }]));
    let unlink = "mutation($o: ID!, $s: ID!) { unlinkObjective(input: { objectiveId: $o, subjectId: $s }) { objective { projects { id } } } }";
    let r = app.gql(Some(&owner), unlink, json!({ "o": o["id"], "s": p })).await;
    assert_eq!(data(&r)["unlinkObjective"]["objective"]["projects"], json!([]));
    let r = app.gql(Some(&dev), q, json!({ "p": p })).await;
    assert!(data(&r)["node"]["okrProgress"].is_null());
    app.finish().await;
}

#[tokio::test]
async fn time_entries_and_hours() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@hours.example", "Hours Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@hours.example", "MEMBER").await;
    let (other, _) = app.member(&owner, "other@hours.example", "MEMBER").await;
    let p = project(&app, &owner, "HRS").await;
    let t = data(&app.gql(Some(&owner), "mutation($p: ID!) { createTask(input: { projectId: $p, title: \"Build\", estimateHours: \"10\" }) { task { id } } }", json!({ "p": p })).await)["createTask"]["task"]["id"].clone();
    let log = "mutation($i: LogTimeInput!) { logTime(input: $i) { timeEntry { id hours isBillable version project { id } membership { id } } } }";
    let e1 = data(
        &app.gql(
            Some(&dev),
            log,
            json!({ "i": { "taskId": t, "date": "2026-11-20", "hours": "6.5", "idempotencyKey": "t1" } }),
        )
        .await,
    )["logTime"]["timeEntry"]
        .clone();
    assert_eq!(
        (e1["project"]["id"].as_str(), e1["membership"]["id"].as_str()),
        (Some(p.as_str()), Some(dev_id.as_str()))
    );
    let retry = data(
        &app.gql(
            Some(&dev),
            log,
            json!({ "i": { "taskId": t, "date": "2026-11-20", "hours": "6.5", "idempotencyKey": "t1" } }),
        )
        .await,
    )["logTime"]["timeEntry"]["id"]
        .clone();
    assert_eq!(retry, e1["id"]);
    data(
        &app.gql(
            Some(&dev),
            log,
            json!({ "i": { "projectId": p, "date": "2026-11-20", "hours": "1.5", "isBillable": false } }),
        )
        .await,
    );
    let too_much =
        app.gql(Some(&dev), log, json!({ "i": { "projectId": p, "date": "2026-11-20", "hours": "17" } })).await;
    assert_eq!(
        (code(&too_much), field(&too_much)),
        (Some("BAD_USER_INPUT"), Some("hours")),
        "a day holds at most 24 hours"
    );
    for bad in ["0", "-1", "24.5", "1.005"] {
        let r = app.gql(Some(&dev), log, json!({ "i": { "projectId": p, "date": "2026-11-19", "hours": bad } })).await;
        assert_eq!(field(&r), Some("hours"), "{bad}");
    }
    let future = app.gql(Some(&dev), log, json!({ "i": { "projectId": p, "date": "2099-01-01", "hours": "1" } })).await;
    assert_eq!(field(&future), Some("date"));
    let neither = app.gql(Some(&dev), log, json!({ "i": { "date": "2026-11-20", "hours": "1" } })).await;
    assert_eq!(field(&neither), Some("taskId"));
    let for_other = app
        .gql(
            Some(&other),
            log,
            json!({ "i": { "projectId": p, "membershipId": dev_id, "date": "2026-11-20", "hours": "1" } }),
        )
        .await;
    assert_eq!(code(&for_other), Some("FORBIDDEN"), "members log only their own time");

    let q = "query($p: ID!, $t: ID!, $m: ID!) { p: node(id: $p) { ... on Project { hours { estimatedHours loggedHours billableHours remainingHours } taskStats { status loggedHours } } } t: node(id: $t) { ... on Task { loggedHours timeEntries { totalCount } } } m: node(id: $m) { ... on Membership { timeEntries(filter: { isBillable: { eq: true } }) { totalCount } } } }";
    let r = app.gql(Some(&owner), q, json!({ "p": p, "t": t, "m": dev_id })).await;
    let d = data(&r);
    assert_eq!(
        d["p"]["hours"],
        json!({ "estimatedHours": "10", "loggedHours": "8", "billableHours": "6.5", "remainingHours": "2" })
    );
    assert_eq!(d["p"]["taskStats"], json!([{ "status": "TODO", "loggedHours": "6.5" }]));
    assert_eq!(d["t"], json!({ "loggedHours": "6.5", "timeEntries": { "totalCount": 1 } }));
    assert_eq!(d["m"]["timeEntries"]["totalCount"], 1);

    let upd = "mutation($i: UpdateTimeEntryInput!) { updateTimeEntry(input: $i) { timeEntry { hours version } } }";
    let not_mine =
        app.gql(Some(&other), upd, json!({ "i": { "id": e1["id"], "expectedVersion": 1, "hours": "1" } })).await;
    assert_eq!(code(&not_mine), Some("FORBIDDEN"));
    let r = app.gql(Some(&dev), upd, json!({ "i": { "id": e1["id"], "expectedVersion": 1, "hours": "7" } })).await;
    assert_eq!(data(&r)["updateTimeEntry"]["timeEntry"], json!({ "hours": "7", "version": 2 }));
    let r = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { deleteTimeEntry(input: { id: $id }) { timeEntry { hours } } }",
            json!({ "id": e1["id"] }),
        )
        .await;
    assert_eq!(data(&r)["deleteTimeEntry"]["timeEntry"]["hours"], "7", "managers may correct anyone's time");
    app.finish().await;
}

#[tokio::test]
async fn capacity_planner_maths() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("owner@cap.example", "Capacity Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@cap.example", "MEMBER").await;
    let a = project(&app, &owner, "CAPA").await;
    let b = project(&app, &owner, "CAPB").await;
    let staff = "mutation($p: ID!, $m: ID!, $a: Int!, $s: Date) { addProjectMember(input: { projectId: $p, membershipId: $m, allocationPercent: $a, startDate: $s }) { projectMember { id } } }";
    data(&app.gql(Some(&owner), staff, json!({ "p": a, "m": dev_id, "a": 60 })).await);
    data(&app.gql(Some(&owner), staff, json!({ "p": b, "m": dev_id, "a": 50, "s": "2026-11-25" })).await);

    // Time off: requested -> approved by a manager; overlaps are refused.
    let req = "mutation($i: RequestTimeOffInput!) { requestTimeOff(input: $i) { timeOff { id status version } } }";
    let off = data(
        &app.gql(Some(&dev), req, json!({ "i": { "startDate": "2026-11-26", "endDate": "2026-11-29" } })).await,
    )["requestTimeOff"]["timeOff"]
        .clone();
    let overlap =
        app.gql(Some(&dev), req, json!({ "i": { "startDate": "2026-11-29", "endDate": "2026-12-02" } })).await;
    assert_eq!(code(&overlap), Some("CONFLICT"));
    let reversed =
        app.gql(Some(&dev), req, json!({ "i": { "startDate": "2026-12-10", "endDate": "2026-12-01" } })).await;
    assert_eq!(field(&reversed), Some("endDate"));
    let decide =
        "mutation($i: DecideTimeOffInput!) { decideTimeOff(input: $i) { timeOff { status decidedBy { id } } } }";
    let self_approve = app
        .gql(Some(&dev), decide, json!({ "i": { "id": off["id"], "expectedVersion": 1, "status": "APPROVED" } }))
        .await;
    assert_eq!(code(&self_approve), Some("FORBIDDEN"));
    data(
        &app.gql(Some(&owner), decide, json!({ "i": { "id": off["id"], "expectedVersion": 1, "status": "APPROVED" } }))
            .await,
    );
    let pending = app
        .gql(
            Some(&owner),
            "{ organization { timeOff(filter: { status: { eq: APPROVED } }) { totalCount } } }",
            json!({}),
        )
        .await;
    assert_eq!(data(&pending)["organization"]["timeOff"]["totalCount"], 1);

    let log = "mutation($p: ID!, $d: Date!, $h: Decimal!, $b: Boolean) { logTime(input: { projectId: $p, date: $d, hours: $h, isBillable: $b }) { timeEntry { id } } }";
    data(&app.gql(Some(&dev), log, json!({ "p": a, "d": "2026-11-23", "h": "6" })).await);
    data(&app.gql(Some(&dev), log, json!({ "p": b, "d": "2026-11-24", "h": "3", "b": false })).await);

    let q = "query($m: ID!) { node(id: $m) { ... on Membership { capacity(from: \"2026-11-25\", weeks: 2) { weekStart capacityHours timeOffHours availableHours allocatedHours allocationPercent loggedHours billableHours freeHours overAllocated } availability { weekday hours } } } }";
    let r = app.gql(Some(&dev), q, json!({ "m": dev_id })).await;
    let weeks = &data(&r)["node"]["capacity"];
    // Mon-Tue at 60% (4.8 h) + Wed-Fri at 110% (8.8 h) = 36 h booked against 40 - 16 (Thu, Fri off) = 24 h.
    assert_eq!(
        weeks[0],
        json!({ "weekStart": "2026-11-23", "capacityHours": "40", "timeOffHours": "16", "availableHours": "24", "allocatedHours": "36", "allocationPercent": 90, "loggedHours": "9", "billableHours": "6", "freeHours": "-12", "overAllocated": true })
    );
    assert_eq!((weeks[1]["allocatedHours"].as_str(), weeks[1]["overAllocated"].as_bool()), (Some("44"), Some(true)));

    // A part-time pattern (Mon, Wed 4 h) changes the maths; an empty pattern restores 8 h weekdays.
    let set = "mutation($d: [DayHoursInput!]!) { setAvailability(input: { days: $d }) { membership { availability { weekday hours } } } }";
    let r = app
        .gql(Some(&dev), set, json!({ "d": [{ "weekday": 1, "hours": "4" }, { "weekday": 3, "hours": "4" }] }))
        .await;
    assert_eq!(data(&r)["setAvailability"]["membership"]["availability"][2], json!({ "weekday": 3, "hours": "4" }));
    let dup = app
        .gql(Some(&dev), set, json!({ "d": [{ "weekday": 1, "hours": "4" }, { "weekday": 1, "hours": "2" }] }))
        .await;
    assert_eq!(field(&dup), Some("days"));
    let r = app.gql(Some(&owner), "{ capacity(from: \"2026-11-30\", weeks: 1) { membership { user { email } } overAllocated weeks { capacityHours allocatedHours freeHours } } }", json!({})).await;
    let rows = data(&r)["capacity"].as_array().expect("rows").clone();
    let dev_row = rows.iter().find(|r| r["membership"]["user"]["email"] == "dev@cap.example").expect("dev row");
    assert_eq!(dev_row["weeks"][0], json!({ "capacityHours": "8", "allocatedHours": "8.8", "freeHours": "-0.8" }));
    let owner_row = rows.iter().find(|r| r["membership"]["user"]["email"] == "owner@cap.example").expect("owner row");
    assert_eq!(owner_row["overAllocated"], false);
    data(&app.gql(Some(&dev), set, json!({ "d": [] })).await);
    for (args, f) in [("weeks: 0", Some("weeks")), ("weeks: 27", Some("weeks")), ("from: \"soon\"", None)] {
        let r = app.gql(Some(&owner), &format!("{{ capacity({args}) {{ overAllocated }} }}"), json!({})).await;
        assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), f), "{args}");
    }
    // Cancelling the leave gives the hours back.
    let cancel = app
        .gql(Some(&dev), decide, json!({ "i": { "id": off["id"], "expectedVersion": 2, "status": "CANCELLED" } }))
        .await;
    assert_eq!(data(&cancel)["decideTimeOff"]["timeOff"]["status"], "CANCELLED");
    let r = app.gql(Some(&dev), q, json!({ "m": dev_id })).await;
    assert_eq!(data(&r)["node"]["capacity"][0]["timeOffHours"], "0");
    app.finish().await;
}
