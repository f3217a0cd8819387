//! The crm domain through the endpoint: accounts, contacts, search, pipelines, the deal
//! board and its statement count.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

async fn id(app: &TestApp, token: &str, q: &str, vars: Value, path: &[&str]) -> String {
    let r = app.gql(Some(token), q, vars).await;
    let mut v = data(&r);
    for p in path {
        v = &v[*p];
    }
    v.as_str().unwrap_or_else(|| panic!("no id at {path:?}: {r}")).to_owned()
}

const ACCOUNT: &str = "mutation($i: CreateAccountInput!) { createAccount(input: $i) { account { id name country website industry { name } version } } }";
const CONTACT: &str = "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id fullName email phone account { name } } } }";
const SEARCH: &str =
    "query($q: String!) { organization { contacts(filter: { search: { like: $q } }) { nodes { fullName } } } }";

fn names(r: &Value) -> Vec<String> {
    data(r)["organization"]["contacts"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["fullName"].as_str().expect("name").to_owned())
        .collect()
}

#[tokio::test]
async fn accounts_contacts_and_typo_tolerant_search() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Crm Co").await;
    let ind = id(
        &app,
        &owner,
        "mutation { createIndustry(input: { name: \"Retail\" }) { industry { id } } }",
        json!({}),
        &["createIndustry", "industry", "id"],
    )
    .await;
    let dup = app
        .gql(Some(&owner), "mutation { createIndustry(input: { name: \"retail\" }) { industry { id } } }", json!({}))
        .await;
    assert_eq!(code(&dup), Some("CONFLICT"));

    let r = app.gql(Some(&owner), ACCOUNT, json!({ "i": { "name": "Acme Stores", "industryId": ind, "country": "gb", "website": "https://acme.example" } })).await;
    let a = &data(&r)["createAccount"]["account"];
    assert_eq!((a["country"].as_str(), a["industry"]["name"].as_str()), (Some("GB"), Some("Retail")));
    let acme = a["id"].as_str().expect("id").to_owned();
    for (input, f) in [
        (json!({ "name": "X", "website": "acme.example" }), "website"),
        (json!({ "name": "X", "country": "GBR" }), "country"),
        (json!({ "name": "" }), "name"),
    ] {
        let bad = app.gql(Some(&owner), ACCOUNT, json!({ "i": input })).await;
        assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some(f)));
    }

    let john = app
        .gql(Some(&owner), CONTACT, json!({ "i": { "accountId": acme, "firstName": "John", "lastName": "Smith", "email": "John.Smith@Acme.example", "phone": "+44 20 7946-0958" } }))
        .await;
    let j = &data(&john)["createContact"]["contact"];
    assert_eq!((j["phone"].as_str(), j["account"]["name"].as_str()), (Some("+442079460958"), Some("Acme Stores")));
    let taken =
        app.gql(Some(&owner), CONTACT, json!({ "i": { "firstName": "J", "email": "john.smith@acme.EXAMPLE" } })).await;
    assert_eq!(code(&taken), Some("CONFLICT"));
    let phone = app.gql(Some(&owner), CONTACT, json!({ "i": { "firstName": "P", "phone": "020 7946 0958" } })).await;
    assert_eq!((code(&phone), field(&phone)), (Some("BAD_USER_INPUT"), Some("phone")));
    for (first, last, company) in [("Jane", "Doe", "Globex"), ("Maria", "Garcia", "Initech")] {
        data(
            &app.gql(
                Some(&owner),
                CONTACT,
                json!({ "i": { "firstName": first, "lastName": last, "company": company } }),
            )
            .await,
        );
    }

    assert_eq!(names(&app.gql(Some(&owner), SEARCH, json!({ "q": "Jon Smyth" })).await), ["John Smith"]);
    assert_eq!(names(&app.gql(Some(&owner), SEARCH, json!({ "q": "globx" })).await), ["Jane Doe"]);
    assert_eq!(names(&app.gql(Some(&owner), SEARCH, json!({ "q": "acme.example" })).await), ["John Smith"]);
    assert!(names(&app.gql(Some(&owner), SEARCH, json!({ "q": "zzzz" })).await).is_empty());

    // A deleted contact frees its e-mail; a deleted account leaves the list until restored.
    let jid = j["id"].as_str().expect("id");
    data(
        &app.gql(
            Some(&owner),
            "mutation($id: ID!) { deleteContact(input: { id: $id }) { contact { id } } }",
            json!({ "id": jid }),
        )
        .await,
    );
    data(
        &app.gql(Some(&owner), CONTACT, json!({ "i": { "firstName": "John", "email": "john.smith@acme.example" } }))
            .await,
    );
    let del = "mutation($id: ID!) { deleteAccount(input: { id: $id }) { account { isDeleted } } }";
    data(&app.gql(Some(&owner), del, json!({ "id": acme })).await);
    let list = "{ organization { accounts { totalCount } } }";
    assert_eq!(data(&app.gql(Some(&owner), list, json!({})).await)["organization"]["accounts"]["totalCount"], 0);
    data(
        &app.gql(
            Some(&owner),
            "mutation($id: ID!) { restoreAccount(input: { id: $id }) { account { id } } }",
            json!({ "id": acme }),
        )
        .await,
    );
    let upd = "mutation($i: UpdateAccountInput!) { updateAccount(input: $i) { account { status version } } }";
    let u = app.gql(Some(&owner), upd, json!({ "i": { "id": acme, "expectedVersion": 3, "status": "ACTIVE" } })).await;
    assert_eq!(data(&u)["updateAccount"]["account"], json!({ "status": "ACTIVE", "version": 4 }));

    // Who may: a viewer reads, cannot write; a client sees nothing of crm.
    let (viewer, _) = app.member(&owner, "v@example.com", "VIEWER").await;
    assert_eq!(data(&app.gql(Some(&viewer), list, json!({})).await)["organization"]["accounts"]["totalCount"], 1);
    assert_eq!(code(&app.gql(Some(&viewer), ACCOUNT, json!({ "i": { "name": "V" } })).await), Some("FORBIDDEN"));
    let (client, _) = app.member(&owner, "c@example.com", "CLIENT").await;
    assert_eq!(code(&app.gql(Some(&client), list, json!({})).await), Some("FORBIDDEN"));
    app.finish().await;
}

const PIPELINE: &str = "mutation { createPipeline(input: { name: \"Sales\", stages: [\
    { name: \"Lead\", probability: 10 }, { name: \"Qualified\", probability: 30 }, { name: \"Proposal\", probability: 60 }, \
    { name: \"Won\", probability: 100, kind: WON }, { name: \"Lost\", probability: 0, kind: LOST }] }) \
    { pipeline { id isDefault stages { id name kind } } } }";
const DEAL: &str = "mutation($i: CreateDealInput!) { createDeal(input: $i) { deal { id probability amount { amount currency } weightedAmount { amount } stage { name } } } }";
const MOVE: &str = "mutation($i: MoveDealInput!) { moveDeal(input: $i) { deal { stage { name } actualCloseDate lostReason stageHistory { stage { name } leftAt } } } }";

async fn pipeline(app: &TestApp, token: &str) -> Vec<String> {
    let r = app.gql(Some(token), PIPELINE, json!({})).await;
    let p = &data(&r)["createPipeline"]["pipeline"];
    assert_eq!(p["isDefault"], true, "the first pipeline is the default");
    p["stages"].as_array().expect("stages").iter().map(|s| s["id"].as_str().expect("id").to_owned()).collect()
}

async fn column(app: &TestApp, token: &str, stage: &str) -> Vec<String> {
    let q = "query($id: ID!) { node(id: $id) { ... on PipelineStage { deals { nodes { name } } } } }";
    let r = app.gql(Some(token), q, json!({ "id": stage })).await;
    data(&r)["node"]["deals"]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .map(|n| n["name"].as_str().expect("n").to_owned())
        .collect()
}

#[tokio::test]
async fn deals_move_on_the_board_with_history() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Deal Co").await;
    let no_pipeline = app.gql(Some(&owner), DEAL, json!({ "i": { "name": "Early" } })).await;
    assert_eq!((code(&no_pipeline), field(&no_pipeline)), (Some("BAD_USER_INPUT"), Some("pipelineId")));
    let stages = pipeline(&app, &owner).await;

    let r =
        app.gql(Some(&owner), DEAL, json!({ "i": { "name": "Big", "amount": "12345.67", "currency": "EUR" } })).await;
    let d = &data(&r)["createDeal"]["deal"];
    assert_eq!(d["stage"]["name"], "Lead");
    assert_eq!((d["probability"].as_i64(), d["amount"]["currency"].as_str()), (Some(10), Some("EUR")));
    assert_eq!(d["weightedAmount"]["amount"], "1234.57");
    let big = d["id"].as_str().expect("id").to_owned();
    let usd = app.gql(Some(&owner), DEAL, json!({ "i": { "name": "Default currency" } })).await;
    assert_eq!(data(&usd)["createDeal"]["deal"]["amount"]["currency"], "USD");

    // Order within a column: new deals go to the bottom; afterId places one.
    for n in ["A", "B", "C"] {
        data(&app.gql(Some(&owner), DEAL, json!({ "i": { "name": n, "stageId": stages[1] } })).await);
    }
    assert_eq!(column(&app, &owner, &stages[1]).await, ["A", "B", "C"]);
    let ids = "query($id: ID!) { node(id: $id) { ... on PipelineStage { deals { nodes { id } } } } }";
    let col = app.gql(Some(&owner), ids, json!({ "id": stages[1] })).await;
    let (a, c) =
        (data(&col)["node"]["deals"]["nodes"][0]["id"].clone(), data(&col)["node"]["deals"]["nodes"][2]["id"].clone());
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": c, "afterId": a } })).await);
    assert_eq!(column(&app, &owner, &stages[1]).await, ["A", "C", "B"]);
    let self_after = app.gql(Some(&owner), MOVE, json!({ "i": { "id": c, "afterId": c } })).await;
    assert_eq!(field(&self_after), Some("afterId"));

    // Across stages: history, closing on WON / LOST, reopening.
    let m = app.gql(Some(&owner), MOVE, json!({ "i": { "id": big, "stageId": stages[2] } })).await;
    let h = &data(&m)["moveDeal"]["deal"]["stageHistory"];
    assert_eq!((h[0]["stage"]["name"].as_str(), h[1]["stage"]["name"].as_str()), (Some("Lead"), Some("Proposal")));
    assert!(h[0]["leftAt"].is_string() && h[1]["leftAt"].is_null());
    let won = app.gql(Some(&owner), MOVE, json!({ "i": { "id": big, "stageId": stages[3] } })).await;
    let today = chrono::Utc::now().date_naive().to_string();
    assert_eq!(data(&won)["moveDeal"]["deal"]["actualCloseDate"], json!(today));
    let lost = app
        .gql(Some(&owner), MOVE, json!({ "i": { "id": big, "stageId": stages[4], "lostReason": "Budget cut" } }))
        .await;
    assert_eq!(data(&lost)["moveDeal"]["deal"]["lostReason"], "Budget cut");
    let reopened = app.gql(Some(&owner), MOVE, json!({ "i": { "id": big, "stageId": stages[0] } })).await;
    assert_eq!(
        (
            data(&reopened)["moveDeal"]["deal"]["actualCloseDate"].clone(),
            data(&reopened)["moveDeal"]["deal"]["lostReason"].clone()
        ),
        (Value::Null, Value::Null)
    );
    let kinds = app
        .count("SELECT count(*) AS n FROM domain_events WHERE kind IN ('deal.won', 'deal.lost', 'deal.stage_changed')")
        .await;
    assert_eq!(kinds, 4);

    // A stage of another pipeline is refused.
    let other = "mutation { createPipeline(input: { name: \"Renewals\", stages: [{ name: \"Due\", probability: 50 }, { name: \"Renewed\", probability: 100, kind: WON }] }) { pipeline { stages { id } } } }";
    let o = app.gql(Some(&owner), other, json!({})).await;
    let foreign = data(&o)["createPipeline"]["pipeline"]["stages"][0]["id"].clone();
    let wrong = app.gql(Some(&owner), MOVE, json!({ "i": { "id": big, "stageId": foreign } })).await;
    assert_eq!((code(&wrong), field(&wrong)), (Some("BAD_USER_INPUT"), Some("stageId")));

    // Money per currency and groups by stage through the aggregate machinery.
    let agg = "{ organization { deals { aggregate { count sum { amount { amount currency } } } groupBy(field: STAGE) { key count } } } }";
    let g = app.gql(Some(&owner), agg, json!({})).await;
    assert_eq!(data(&g)["organization"]["deals"]["aggregate"]["count"], 5);
    assert_eq!(data(&g)["organization"]["deals"]["groupBy"].as_array().map(Vec::len), Some(2));
    app.finish().await;
}

#[tokio::test]
async fn concurrent_moves_keep_a_stable_order() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Race Co").await;
    let stages = pipeline(&app, &owner).await;
    let mut deals = vec![];
    for i in 0..8 {
        let r = app.gql(Some(&owner), DEAL, json!({ "i": { "name": format!("D{i}") } })).await;
        deals.push(data(&r)["createDeal"]["deal"]["id"].as_str().expect("id").to_owned());
    }
    let moves = deals.iter().map(|d| {
        let vars = json!({ "i": { "id": d, "stageId": stages[1] } });
        let (app, owner) = (&app, &owner);
        async move { app.gql(Some(owner), MOVE, vars).await }
    });
    for r in futures_util::future::join_all(moves).await {
        data(&r);
    }
    let col = column(&app, &owner, &stages[1]).await;
    assert_eq!(col.len(), 8);
    let distinct = app.count("SELECT count(DISTINCT position) AS n FROM deals").await;
    assert_eq!(distinct, 8, "every deal has its own place");
    app.finish().await;
}

#[tokio::test]
async fn the_board_loads_in_constant_statements() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Board Co").await;
    let stages = pipeline(&app, &owner).await;
    let acct = id(&app, &owner, ACCOUNT, json!({ "i": { "name": "Acme" } }), &["createAccount", "account", "id"]).await;
    let contact = id(
        &app,
        &owner,
        CONTACT,
        json!({ "i": { "firstName": "Ann", "accountId": acct } }),
        &["createContact", "contact", "id"],
    )
    .await;
    let board = "{ organization { pipelines { nodes { name stages { name deals(first: 20) { nodes { name amount { amount } probability \
        account { name } contact { fullName } owner { user { displayName } } } } } } } } }";
    let mut counts = vec![];
    for total in [3, 30] {
        while app.count("SELECT count(*) AS n FROM deals").await < total {
            let i = app.count("SELECT count(*) AS n FROM deals").await;
            let vars =
                json!({ "i": { "name": format!("D{i}"), "stageId": stages[(i % 3) as usize], "contactId": contact } });
            data(&app.gql(Some(&owner), DEAL, vars).await);
        }
        let r = app.gql(Some(&owner), board, json!({})).await;
        data(&r);
        counts.push(r["extensions"]["sqlStatements"].as_u64().expect("statements"));
    }
    assert_eq!(counts[0], counts[1], "board statements grow with deals: {counts:?}");
    app.finish().await;
}

#[tokio::test]
async fn won_deals_become_projects_of_their_account() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Convert Co").await;
    let stages = pipeline(&app, &owner).await;
    let acct = id(&app, &owner, ACCOUNT, json!({ "i": { "name": "Acme" } }), &["createAccount", "account", "id"]).await;
    let r = app
        .gql(
            Some(&owner),
            DEAL,
            json!({ "i": { "name": "Rebuild", "accountId": acct, "amount": "50000", "currency": "EUR" } }),
        )
        .await;
    let deal = data(&r)["createDeal"]["deal"]["id"].as_str().expect("id").to_owned();
    let convert = "mutation($i: ConvertDealToProjectInput!) { convertDealToProject(input: $i) { deal { project { key budget { amount currency } \
        client { name accountId } account { name } } } } }";
    let early = app.gql(Some(&owner), convert, json!({ "i": { "dealId": deal, "key": "ACME" } })).await;
    assert_eq!(code(&early), Some("CONFLICT"), "an open deal is not converted");
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": deal, "stageId": stages[3] } })).await);
    let done = app.gql(Some(&owner), convert, json!({ "i": { "dealId": deal, "key": "ACME" } })).await;
    let p = &data(&done)["convertDealToProject"]["deal"]["project"];
    assert_eq!(
        (p["key"].as_str(), p["account"]["name"].as_str(), p["client"]["name"].as_str()),
        (Some("ACME"), Some("Acme"), Some("Acme"))
    );
    assert_eq!(p["client"]["accountId"], json!(acct));
    assert_eq!(p["budget"], json!({ "amount": "50000.00", "currency": "EUR" }));
    let again = app.gql(Some(&owner), convert, json!({ "i": { "dealId": deal, "key": "ACME2" } })).await;
    assert_eq!(code(&again), Some("CONFLICT"));

    // Account.projects, and linking another project by hand.
    let other = id(
        &app,
        &owner,
        "mutation { createProject(input: { key: \"OPS\", name: \"Ops\" }) { project { id } } }",
        json!({}),
        &["createProject", "project", "id"],
    )
    .await;
    let link =
        "mutation($i: SetProjectAccountInput!) { setProjectAccount(input: $i) { project { account { name } } } }";
    let l = app.gql(Some(&owner), link, json!({ "i": { "projectId": other, "accountId": acct } })).await;
    assert_eq!(data(&l)["setProjectAccount"]["project"]["account"]["name"], "Acme");
    let q = "query($id: ID!) { node(id: $id) { ... on Account { projects { nodes { key } } } } }";
    let keys = app.gql(Some(&owner), q, json!({ "id": acct })).await;
    assert_eq!(
        data(&keys)["node"]["projects"]["nodes"],
        json!([{ "key": "OPS" }, { "key": "ACME" }]),
        "ordered by name: Ops, Rebuild"
    );
    app.finish().await;
}

#[tokio::test]
async fn the_board_is_live_and_resumable() {
    use opsgraph_e2e::live::Live;
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Live Deals").await;
    let (viewer, _) = app.member(&owner, "v@example.com", "VIEWER").await;
    let stages = pipeline(&app, &owner).await;
    let q = "{ organization { pipelines { nodes { id } } } }";
    let pipe = data(&app.gql(Some(&owner), q, json!({})).await)["organization"]["pipelines"]["nodes"][0]["id"].clone();
    let other = "mutation { createPipeline(input: { name: \"Other\", stages: [{ name: \"A\", probability: 5 }, { name: \"B\", probability: 9 }] }) { pipeline { id } } }";
    let other = data(&app.gql(Some(&owner), other, json!({})).await)["createPipeline"]["pipeline"]["id"].clone();
    let sub = "subscription($p: ID!, $a: EventSeq) { dealChanged(pipelineId: $p, after: $a) { seq kind dealId deal { name stage { name } } } }";
    let from = app.count("SELECT coalesce(max(last_seq), 0) AS n FROM event_counters").await.to_string();
    let mut live = Live::connect(&app.base, &viewer).await;
    live.subscribe("d", sub, json!({ "p": pipe, "a": from })).await;

    let r = app.gql(Some(&owner), DEAL, json!({ "i": { "name": "Live one" } })).await;
    let deal = data(&r)["createDeal"]["deal"]["id"].clone();
    data(&app.gql(Some(&owner), DEAL, json!({ "i": { "name": "Elsewhere", "pipelineId": other } })).await);
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": deal, "stageId": stages[1] } })).await);
    let first = live.next_data("d").await;
    assert_eq!(
        (first["dealChanged"]["kind"].as_str(), first["dealChanged"]["dealId"].clone()),
        (Some("deal.created"), deal.clone())
    );
    let second = live.next_data("d").await;
    assert_eq!(second["dealChanged"]["kind"], "deal.stage_changed", "the other pipeline's deal is not on this board");
    assert_eq!(second["dealChanged"]["deal"]["stage"]["name"], "Qualified");

    // Resume after the first event: the move is replayed, once.
    let seen = first["dealChanged"]["seq"].clone();
    let mut again = Live::connect(&app.base, &viewer).await;
    again.subscribe("r", sub, json!({ "p": pipe, "a": seen })).await;
    assert_eq!(again.next_data("r").await["dealChanged"]["kind"], "deal.stage_changed");
    again.assert_silent(std::time::Duration::from_millis(500)).await;
    app.finish().await;
}

#[tokio::test]
async fn interactions_keep_last_contacted_and_fill_the_timeline() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Timeline Co").await;
    let stages = pipeline(&app, &owner).await;
    let acct = id(&app, &owner, ACCOUNT, json!({ "i": { "name": "Acme" } }), &["createAccount", "account", "id"]).await;
    let ann = id(
        &app,
        &owner,
        CONTACT,
        json!({ "i": { "firstName": "Ann", "accountId": acct } }),
        &["createContact", "contact", "id"],
    )
    .await;
    let bob = id(
        &app,
        &owner,
        CONTACT,
        json!({ "i": { "firstName": "Bob", "accountId": acct } }),
        &["createContact", "contact", "id"],
    )
    .await;
    let deal =
        data(&app.gql(Some(&owner), DEAL, json!({ "i": { "name": "Pilot", "accountId": acct } })).await)["createDeal"]
            ["deal"]["id"]
            .clone();
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": deal, "stageId": stages[3] } })).await);

    let log = "mutation($i: LogInteractionInput!) { logInteraction(input: $i) { interaction { id account { name } contacts { firstName } recordingSeconds } } }";
    let call = json!({ "i": { "kind": "CALL", "direction": "OUTBOUND", "subject": "Kick-off", "occurredAt": "2026-11-20T10:00:00Z", "contactIds": [ann, bob, ann],
        "recording": { "url": "s3://calls/1.ogg", "seconds": 1800, "transcript": "Hello" } } });
    let r = app.gql(Some(&owner), log, call).await;
    let i = &data(&r)["logInteraction"]["interaction"];
    assert_eq!(i["account"]["name"], "Acme", "the account comes from the contacts");
    assert_eq!(i["contacts"].as_array().map(Vec::len), Some(2), "a contact named twice takes part once");
    assert_eq!(i["recordingSeconds"], 1800);
    let note = json!({ "i": { "kind": "NOTE", "body": "Older note", "occurredAt": "2026-11-01T10:00:00Z", "contactIds": [ann] } });
    data(&app.gql(Some(&owner), log, note).await);
    let future = json!({ "i": { "kind": "NOTE", "occurredAt": "2999-01-01T00:00:00Z", "contactIds": [] } });
    assert_eq!(field(&app.gql(Some(&owner), log, future).await), Some("occurredAt"));

    // lastContactedAt moves forward only.
    let q = "query($id: ID!) { node(id: $id) { ... on Contact { lastContactedAt timeline { source kind } } } }";
    let a = app.gql(Some(&owner), q, json!({ "id": ann })).await;
    assert_eq!(data(&a)["node"]["lastContactedAt"], "2026-11-20T10:00:00.000Z");
    assert_eq!(
        data(&a)["node"]["timeline"],
        json!([{ "source": "INTERACTION", "kind": "CALL" }, { "source": "INTERACTION", "kind": "NOTE" }])
    );

    // The account's timeline merges interactions and deal milestones, newest first.
    let t = "query($id: ID!, $n: Int) { node(id: $id) { ... on Account { timeline(first: $n) { source kind deal { name } interaction { subject } } } } }";
    let tl = app.gql(Some(&owner), t, json!({ "id": acct, "n": 10 })).await;
    let kinds: Vec<&str> =
        data(&tl)["node"]["timeline"].as_array().expect("t").iter().map(|e| e["kind"].as_str().expect("k")).collect();
    assert_eq!(kinds, ["deal.won", "deal.created", "CALL", "NOTE"]);
    let two = app.gql(Some(&owner), t, json!({ "id": acct, "n": 2 })).await;
    assert_eq!(data(&two)["node"]["timeline"].as_array().map(Vec::len), Some(2));
    app.finish().await;
}

#[tokio::test]
async fn pipeline_numbers_convert_at_dated_rates_and_report_what_they_cannot() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Numbers Co").await;
    let stages = pipeline(&app, &owner).await;
    let rate = "mutation($c: String!, $r: Decimal!, $d: Date!) { setExchangeRate(input: { currency: $c, rate: $r, validFrom: $d }) { exchangeRate { rate } } }";
    data(&app.gql(Some(&owner), rate, json!({ "c": "EUR", "r": "1.1", "d": "2026-01-01" })).await);
    data(&app.gql(Some(&owner), rate, json!({ "c": "EUR", "r": "1.2", "d": "2026-06-01" })).await);
    let own = app.gql(Some(&owner), rate, json!({ "c": "USD", "r": "1", "d": "2026-01-01" })).await;
    assert_eq!(field(&own), Some("currency"));
    let (manager, _) = app.member(&owner, "m@example.com", "MANAGER").await;
    assert_eq!(
        code(&app.gql(Some(&manager), rate, json!({ "c": "GBP", "r": "1.3", "d": "2026-01-01" })).await),
        Some("FORBIDDEN")
    );

    let deals = [
        json!({ "name": "D1", "amount": "1000", "currency": "USD", "expectedCloseDate": "2026-12-15" }),
        json!({ "name": "D2", "amount": "1000", "currency": "EUR", "expectedCloseDate": "2026-03-01" }),
        json!({ "name": "D3", "amount": "1000", "currency": "EUR", "expectedCloseDate": "2026-07-01", "stageId": stages[1] }),
        json!({ "name": "D4", "amount": "500", "currency": "GBP" }),
        json!({ "name": "D5", "amount": "333.33", "currency": "USD", "probability": 33, "stageId": stages[2] }),
        json!({ "name": "D6", "amount": "200", "currency": "USD" }),
        json!({ "name": "D7", "amount": "100", "currency": "USD" }),
    ];
    let mut ids = vec![];
    for d in deals {
        ids.push(data(&app.gql(Some(&owner), DEAL, json!({ "i": d })).await)["createDeal"]["deal"]["id"].clone());
    }
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": ids[5], "stageId": stages[3] } })).await);
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": ids[6], "stageId": stages[4] } })).await);

    let q = "{ organization { pipelines { nodes { numbers { currency stages { stage { name } count total { amount } weighted { amount } } \
        byMonth { month count total { amount } } unconverted { count total { amount currency } } won lost winRate averageCycleDays } } } } }";
    let r = app.gql(Some(&owner), q, json!({})).await;
    let n = &data(&r)["organization"]["pipelines"]["nodes"][0]["numbers"];
    assert_eq!(n["currency"], "USD");
    let stage = |i: usize| {
        (
            n["stages"][i]["count"].clone(),
            n["stages"][i]["total"]["amount"].clone(),
            n["stages"][i]["weighted"]["amount"].clone(),
        )
    };
    assert_eq!(stage(0), (json!(2), json!("2100.00"), json!("210.00")), "USD 1000 + EUR 1000 at 1.1; GBP left out");
    assert_eq!(stage(1), (json!(1), json!("1200.00"), json!("360.00")), "EUR at the June rate");
    assert_eq!(stage(2), (json!(1), json!("333.33"), json!("110.00")), "333.33 x 33% = 109.9989 -> 110.00");
    assert_eq!(stage(3), (json!(1), json!("200.00"), json!("200.00")));
    assert_eq!(n["unconverted"], json!([{ "count": 1, "total": { "amount": "500.00", "currency": "GBP" } }]));
    assert_eq!((n["won"].clone(), n["lost"].clone(), n["winRate"].clone()), (json!(1), json!(1), json!(0.5)));
    let months: Vec<Value> = n["byMonth"].as_array().expect("m").iter().map(|m| m["month"].clone()).collect();
    assert_eq!(months, [json!("2026-03-01"), json!("2026-07-01"), json!("2026-12-01"), Value::Null]);

    // The same figures from the platform's aggregates on any deal list, by any group field.
    let q = "{ organization { deals { aggregate { count sum { convertedAmount { amount currency } unconvertedAmount { amount currency } } } \
        groupBy(field: STAGE) { count sum { convertedAmount { amount } weightedAmount { amount } } } } } }";
    let r = app.gql(Some(&owner), q, json!({})).await;
    let deals = &data(&r)["organization"]["deals"];
    assert_eq!(
        deals["aggregate"],
        json!({ "count": 7, "sum": {
            "convertedAmount": [{ "amount": "3933.33", "currency": "USD" }],
            "unconvertedAmount": [{ "amount": "500.00", "currency": "GBP" }]
        } }),
        "1000 + 1100 + 1200 + 333.33 + 200 + 100; GBP reported apart"
    );
    let groups: Vec<(Value, Value, Value)> = deals["groupBy"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| {
            let amount = |m: &str| g["sum"][m][0]["amount"].clone();
            (g["count"].clone(), amount("convertedAmount"), amount("weightedAmount"))
        })
        .collect();
    // Groups by stage come in stage-id order, which is not creation order within a millisecond.
    assert!(groups.contains(&(json!(3), json!("2100.00"), json!("210.00"))), "the GBP deal counts, converts nothing");
    assert!(groups.contains(&(json!(1), json!("333.33"), json!("110.00"))), "rounded once, after summing");
    app.finish().await;
}

#[tokio::test]
async fn lifetime_value_sums_won_deals_at_their_close_date_rate() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Value Co").await;
    let stages = pipeline(&app, &owner).await;
    let rate = "mutation($r: Decimal!, $d: Date!) { setExchangeRate(input: { currency: \"EUR\", rate: $r, validFrom: $d }) { exchangeRate { rate } } }";
    data(&app.gql(Some(&owner), rate, json!({ "r": "1.1", "d": "2020-01-01" })).await);
    let acct =
        id(&app, &owner, ACCOUNT, json!({ "i": { "name": "Loyal" } }), &["createAccount", "account", "id"]).await;
    for (amount, currency, won) in
        [("1000", "USD", true), ("1000", "EUR", true), ("500", "GBP", true), ("9999", "USD", false)]
    {
        let d = json!({ "name": "D", "amount": amount, "currency": currency, "accountId": acct });
        let deal = data(&app.gql(Some(&owner), DEAL, json!({ "i": d })).await)["createDeal"]["deal"]["id"].clone();
        if won {
            data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": deal, "stageId": stages[3] } })).await);
        }
    }
    let q = "query($id: ID!) { node(id: $id) { ... on Account { lifetimeValue { total { amount currency } wonDeals unconverted { count total { amount currency } } } } } }";
    let r = app.gql(Some(&owner), q, json!({ "id": acct })).await;
    assert_eq!(
        data(&r)["node"]["lifetimeValue"],
        json!({
            "total": { "amount": "2100.00", "currency": "USD" },
            "wonDeals": 2,
            "unconverted": [{ "count": 1, "total": { "amount": "500.00", "currency": "GBP" } }]
        }),
        "USD 1000 + EUR 1000 x 1.1; GBP has no rate; the open deal does not count"
    );
    app.finish().await;
}

#[tokio::test]
async fn merging_duplicates_dry_run_then_apply() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Merge Co").await;
    pipeline(&app, &owner).await;
    let keep = id(&app, &owner, ACCOUNT, json!({ "i": { "name": "Acme" } }), &["createAccount", "account", "id"]).await;
    let dup = id(
        &app,
        &owner,
        ACCOUNT,
        json!({ "i": { "name": "ACME Inc", "website": "https://acme.example", "country": "US" } }),
        &["createAccount", "account", "id"],
    )
    .await;
    let c1 = id(
        &app,
        &owner,
        CONTACT,
        json!({ "i": { "firstName": "Ann", "accountId": dup, "email": "ann@acme.example" } }),
        &["createContact", "contact", "id"],
    )
    .await;
    let c2 = id(
        &app,
        &owner,
        CONTACT,
        json!({ "i": { "firstName": "Ann", "lastName": "Lee", "phone": "+15550100200" } }),
        &["createContact", "contact", "id"],
    )
    .await;
    data(&app.gql(Some(&owner), DEAL, json!({ "i": { "name": "Dup deal", "accountId": dup, "contactId": c2 } })).await);
    let p = id(
        &app,
        &owner,
        "mutation { createProject(input: { key: \"DUP\", name: \"Dup\" }) { project { id } } }",
        json!({}),
        &["createProject", "project", "id"],
    )
    .await;
    data(&app.gql(Some(&owner), "mutation($p: ID!, $a: ID!) { setProjectAccount(input: { projectId: $p, accountId: $a }) { project { id } } }", json!({ "p": p, "a": dup })).await);

    let merge = "mutation($i: MergeInput!) { mergeAccounts(input: $i) { dryRun contacts deals interactions projects filledFields account { name website } } }";
    let before = app.count("SELECT count(*) AS n FROM audit_log").await;
    let dry = app.gql(Some(&owner), merge, json!({ "i": { "targetId": keep, "sourceId": dup, "dryRun": true } })).await;
    assert_eq!(
        data(&dry)["mergeAccounts"],
        json!({ "dryRun": true, "contacts": 1, "deals": 1, "interactions": 0, "projects": 1, "filledFields": ["website", "country"], "account": { "name": "Acme", "website": null } })
    );
    assert_eq!(app.count("SELECT count(*) AS n FROM audit_log").await, before, "a dry run writes nothing");
    let done = app.gql(Some(&owner), merge, json!({ "i": { "targetId": keep, "sourceId": dup } })).await;
    assert_eq!(data(&done)["mergeAccounts"]["account"]["website"], "https://acme.example");
    let q = "query($id: ID!) { node(id: $id) { ... on Account { contacts { totalCount } deals { totalCount } projects { totalCount } } } }";
    let a = app.gql(Some(&owner), q, json!({ "id": keep })).await;
    assert_eq!(
        data(&a)["node"],
        json!({ "contacts": { "totalCount": 1 }, "deals": { "totalCount": 1 }, "projects": { "totalCount": 1 } })
    );
    assert_eq!(
        data(&app.gql(Some(&owner), "{ organization { accounts { totalCount } } }", json!({})).await)["organization"]["accounts"]
            ["totalCount"],
        1
    );
    let restore = app
        .gql(
            Some(&owner),
            "mutation($id: ID!) { restoreAccount(input: { id: $id }) { account { id } } }",
            json!({ "id": dup }),
        )
        .await;
    assert_eq!(code(&restore), Some("NOT_FOUND"), "a merged account is not restorable");

    // Contacts: the duplicate's e-mail moves to the target, its deal too.
    let cm = "mutation($i: MergeInput!) { mergeContacts(input: $i) { deals filledFields contact { email phone deals { totalCount } } } }";
    let m = app.gql(Some(&owner), cm, json!({ "i": { "targetId": c2, "sourceId": c1 } })).await;
    let r = &data(&m)["mergeContacts"];
    assert_eq!(r["contact"]["email"], "ann@acme.example");
    assert_eq!(r["contact"]["phone"], "+15550100200");
    let self_merge = app.gql(Some(&owner), cm, json!({ "i": { "targetId": c2, "sourceId": c2 } })).await;
    assert_eq!(field(&self_merge), Some("sourceId"));
    app.finish().await;
}

#[tokio::test]
async fn proposals_are_revised_sent_accepted_and_win_their_deal_and_feedback_averages() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Proposal Co").await;
    pipeline(&app, &owner).await;
    let acct = id(&app, &owner, ACCOUNT, json!({ "i": { "name": "Acme" } }), &["createAccount", "account", "id"]).await;
    let deal = data(
        &app.gql(
            Some(&owner),
            DEAL,
            json!({ "i": { "name": "Pilot", "accountId": acct, "amount": "9000", "currency": "EUR" } }),
        )
        .await,
    )["createDeal"]["deal"]["id"]
        .clone();
    let create = "mutation($i: CreateProposalInput!) { createProposal(input: $i) { proposal { id status revision amount { amount currency } account { name } } } }";
    let r = app
        .gql(
            Some(&owner),
            create,
            json!({ "i": { "dealId": deal, "title": "Pilot proposal", "validUntil": "2999-01-01" } }),
        )
        .await;
    let p = &data(&r)["createProposal"]["proposal"];
    assert_eq!(
        (p["status"].as_str(), p["revision"].as_i64(), p["account"]["name"].as_str()),
        (Some("DRAFT"), Some(1), Some("Acme"))
    );
    assert_eq!(p["amount"], json!({ "amount": "9000.00", "currency": "EUR" }), "value from the deal");
    let pid = p["id"].clone();
    let revise =
        "mutation($i: ReviseProposalInput!) { reviseProposal(input: $i) { proposal { revision amount { amount } } } }";
    let rv = app.gql(Some(&owner), revise, json!({ "i": { "id": pid, "expectedVersion": 1, "amount": "8500" } })).await;
    assert_eq!(data(&rv)["reviseProposal"]["proposal"], json!({ "revision": 2, "amount": { "amount": "8500.00" } }));
    let decide = "mutation($i: DecideProposalInput!) { decideProposal(input: $i) { proposal { status deal { stage { kind } } } } }";
    let early = app.gql(Some(&owner), decide, json!({ "i": { "id": pid, "status": "ACCEPTED" } })).await;
    assert_eq!(field(&early), Some("status"), "a draft is sent before it is accepted");
    data(&app.gql(Some(&owner), decide, json!({ "i": { "id": pid, "status": "SENT" } })).await);
    let sent_revise =
        app.gql(Some(&owner), revise, json!({ "i": { "id": pid, "expectedVersion": 3, "title": "x" } })).await;
    assert_eq!(code(&sent_revise), Some("CONFLICT"));
    let won = app.gql(Some(&owner), decide, json!({ "i": { "id": pid, "status": "ACCEPTED", "winDeal": true } })).await;
    assert_eq!(
        data(&won)["decideProposal"]["proposal"],
        json!({ "status": "ACCEPTED", "deal": { "stage": { "kind": "WON" } } })
    );
    let expired = app
        .gql(Some(&owner), create, json!({ "i": { "accountId": acct, "title": "Old", "validUntil": "2020-01-01" } }))
        .await;
    let old = data(&expired)["createProposal"]["proposal"]["id"].clone();
    let sent = app.gql(Some(&owner), decide, json!({ "i": { "id": old, "status": "SENT" } })).await;
    assert_eq!(data(&sent)["decideProposal"]["proposal"]["status"], "EXPIRED");

    let give = "mutation($i: GiveClientFeedbackInput!) { giveClientFeedback(input: $i) { feedback { id rating } } }";
    for rating in [5, 4, 4] {
        data(
            &app.gql(Some(&owner), give, json!({ "i": { "accountId": acct, "rating": rating, "comment": "ok" } }))
                .await,
        );
    }
    let bad = app.gql(Some(&owner), give, json!({ "i": { "accountId": acct, "rating": 6 } })).await;
    assert_eq!(field(&bad), Some("rating"));
    let q = "query($id: ID!) { node(id: $id) { ... on Account { averageRating feedback { totalCount } proposals { totalCount } } } }";
    let a = app.gql(Some(&owner), q, json!({ "id": acct })).await;
    assert_eq!(
        data(&a)["node"],
        json!({ "averageRating": 4.33, "feedback": { "totalCount": 3 }, "proposals": { "totalCount": 2 } })
    );
    app.finish().await;
}

#[tokio::test]
async fn owners_are_notified_through_the_dispatcher() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Notify Co").await;
    let (rep, rep_id) = app.member(&owner, "rep@example.com", "MEMBER").await;
    let stages = pipeline(&app, &owner).await;
    let r = app.gql(Some(&owner), DEAL, json!({ "i": { "name": "Pilot", "ownerId": rep_id } })).await;
    let deal = data(&r)["createDeal"]["deal"]["id"].clone();
    data(&app.gql(Some(&owner), MOVE, json!({ "i": { "id": deal, "stageId": stages[3] } })).await);
    data(&app.gql(Some(&rep), CONTACT, json!({ "i": { "firstName": "Self" } })).await);
    opsgraph_org::service::dispatch::run_once(&app.pool).await.expect("dispatch");
    let inbox =
        "{ viewer { notifications(orderBy: [{ field: CREATED_AT, direction: ASC }]) { nodes { kind title } } } }";
    let n = app.gql(Some(&rep), inbox, json!({})).await;
    assert_eq!(
        data(&n)["viewer"]["notifications"]["nodes"],
        json!([{ "kind": "ASSIGNMENT", "title": "Deal assigned to you: Pilot" }, { "kind": "SUCCESS", "title": "Deal won: Pilot" }]),
        "what they did themselves does not notify them"
    );
    app.finish().await;
}

#[tokio::test]
async fn segments_follow_their_contacts_and_campaigns_freeze_them() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Segment Co").await;
    for (first, status) in [("Ann", "LEAD"), ("Bob", "QUALIFIED"), ("Cid", "LEAD")] {
        data(&app.gql(Some(&owner), CONTACT, json!({ "i": { "firstName": first } })).await);
        if status != "LEAD" {
            let q =
                "query($n: String!) { organization { contacts(filter: { firstName: { eq: $n } }) { nodes { id } } } }";
            let id = data(&app.gql(Some(&owner), q, json!({ "n": first })).await)["organization"]["contacts"]["nodes"]
                [0]["id"]
                .clone();
            let up = "mutation($id: ID!, $s: ContactStatus!) { updateContact(input: { id: $id, expectedVersion: 1, status: $s }) { contact { id } } }";
            data(&app.gql(Some(&owner), up, json!({ "id": id, "s": status })).await);
        }
    }
    let seg = "mutation($i: CreateSegmentInput!) { createSegment(input: $i) { segment { id contacts { nodes { firstName } } } } }";
    let r =
        app.gql(Some(&owner), seg, json!({ "i": { "name": "Leads", "filter": { "status": { "eq": "LEAD" } } } })).await;
    let s = &data(&r)["createSegment"]["segment"];
    assert_eq!(s["contacts"]["nodes"], json!([{ "firstName": "Ann" }, { "firstName": "Cid" }]));
    let bad =
        app.gql(Some(&owner), seg, json!({ "i": { "name": "Bad", "filter": { "leadScore": { "gt": "x" } } } })).await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));

    let camp = "mutation($s: ID!) { createCampaign(input: { name: \"Hello\", segmentId: $s }) { campaign { id recipients { contact { firstName } status } } } }";
    let c = app.gql(Some(&owner), camp, json!({ "s": s["id"] })).await;
    let cid = data(&c)["createCampaign"]["campaign"]["id"].clone();
    assert_eq!(data(&c)["createCampaign"]["campaign"]["recipients"].as_array().map(Vec::len), Some(2));
    // A new lead joins the segment, not the frozen campaign.
    data(&app.gql(Some(&owner), CONTACT, json!({ "i": { "firstName": "Dee" } })).await);
    let q = "query($s: ID!, $c: ID!) { s: node(id: $s) { ... on Segment { contacts { totalCount } } } c: node(id: $c) { ... on Campaign { recipients { contact { id firstName } } } } }";
    let now = app.gql(Some(&owner), q, json!({ "s": s["id"], "c": cid })).await;
    assert_eq!(data(&now)["s"]["contacts"]["totalCount"], 3);
    let recipients = data(&now)["c"]["recipients"].as_array().expect("r").clone();
    assert_eq!(recipients.len(), 2);
    let set = "mutation($c: ID!, $p: ID!) { setRecipientStatus(input: { campaignId: $c, contactId: $p, status: OPENED }) { campaign { recipients { status } } } }";
    let opened = app.gql(Some(&owner), set, json!({ "c": cid, "p": recipients[0]["contact"]["id"] })).await;
    let statuses: Vec<&str> = data(&opened)["setRecipientStatus"]["campaign"]["recipients"]
        .as_array()
        .expect("r")
        .iter()
        .map(|r| r["status"].as_str().expect("s"))
        .collect();
    assert!(statuses.contains(&"OPENED") && statuses.contains(&"PENDING"));
    // The segment is edited (a bad filter changes nothing) and deleted; the campaign stays.
    let up = "mutation($i: UpdateSegmentInput!) { updateSegment(input: $i) { segment { name version contacts { totalCount } } } }";
    let bad = app.gql(Some(&owner), up, json!({ "i": { "id": s["id"], "expectedVersion": 1, "name": "X", "filter": { "leadScore": { "gt": "x" } } } })).await;
    assert_eq!(code(&bad), Some("BAD_USER_INPUT"));
    let r = app.gql(Some(&owner), up, json!({ "i": { "id": s["id"], "expectedVersion": 1, "name": "Qualified", "filter": { "status": { "eq": "QUALIFIED" } } } })).await;
    assert_eq!(
        data(&r)["updateSegment"]["segment"],
        json!({ "name": "Qualified", "version": 2, "contacts": { "totalCount": 1 } })
    );
    let del = "mutation($id: ID!) { deleteSegment(input: { id: $id }) { segment { id } } }";
    data(&app.gql(Some(&owner), del, json!({ "id": s["id"] })).await);
    let after = app.gql(Some(&owner), q, json!({ "s": s["id"], "c": cid })).await;
    assert_eq!(code(&after), Some("NOT_FOUND"));
    assert_eq!(after["data"]["c"]["recipients"].as_array().map(Vec::len), Some(2), "{after}");
    app.finish().await;
}

#[tokio::test]
async fn lead_rules_score_and_route_new_contacts() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Rules Co").await;
    let (_rep, rep_id) = app.member(&owner, "rep@example.com", "MEMBER").await;
    let rule = "mutation($i: CreateLeadRuleInput!) { createLeadRule(input: $i) { leadRule { id } } }";
    for input in [
        json!({ "kind": "SCORING", "name": "Execs", "field": "TITLE", "operator": "CONTAINS", "value": "chief", "points": 30 }),
        json!({ "kind": "SCORING", "name": "Big co", "field": "EMAIL", "operator": "ENDS_WITH", "value": "@big.example", "points": 20 }),
        json!({ "kind": "ROUTING", "name": "Big co to rep", "field": "EMAIL", "operator": "ENDS_WITH", "value": "@big.example", "assignToId": rep_id }),
    ] {
        data(&app.gql(Some(&owner), rule, json!({ "i": input })).await);
    }
    let no_member = app
        .gql(
            Some(&owner),
            rule,
            json!({ "i": { "kind": "ROUTING", "name": "x", "field": "TITLE", "operator": "EQUALS", "value": "x" } }),
        )
        .await;
    assert_eq!(field(&no_member), Some("assignToId"));
    let create =
        "mutation($i: CreateContactInput!) { createContact(input: $i) { contact { id leadScore owner { id } } } }";
    let big = app
        .gql(
            Some(&owner),
            create,
            json!({ "i": { "firstName": "Zoe", "email": "zoe@big.example", "title": "Chief of Staff" } }),
        )
        .await;
    let c = &data(&big)["createContact"]["contact"];
    assert_eq!((c["leadScore"].as_i64(), c["owner"]["id"].as_str()), (Some(50), Some(rep_id.as_str())));
    let small = app
        .gql(
            Some(&owner),
            create,
            json!({ "i": { "firstName": "Yan", "email": "yan@small.example", "title": "Engineer" } }),
        )
        .await;
    assert_eq!(data(&small)["createContact"]["contact"]["leadScore"], 0);
    // The score follows changes.
    let up = "mutation($id: ID!) { updateContact(input: { id: $id, expectedVersion: 1, title: \"Engineer\" }) { contact { leadScore } } }";
    let u = app.gql(Some(&owner), up, json!({ "id": c["id"] })).await;
    assert_eq!(data(&u)["updateContact"]["contact"]["leadScore"], 20);
    app.finish().await;
}
