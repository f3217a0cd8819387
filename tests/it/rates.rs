//! Rates over time: a member's cost and bill rates are periods of days, changed from a
//! day on (also backwards), readable as a history; billing and labour cost price each
//! day's work at that day's rates.

use opsgraph_e2e::{TestApp, code, data, field};
use serde_json::{Value, json};

const UPDATE: &str = "mutation($i: UpdateMemberInput!) { updateMember(input: $i) { membership { version costRate { amount } billRate { amount } } } }";
const HISTORY: &str = "query($m: ID!) { node(id: $m) { ... on Membership { rateHistory { validFrom validUntil costRate { amount currency } billRate { amount } } } } }";

async fn set(app: &TestApp, token: &str, input: Value) -> Value {
    data(&app.gql(Some(token), UPDATE, json!({ "i": input })).await)["updateMember"]["membership"].clone()
}

fn period(from: Value, until: Value, cost: &str, bill: &str) -> Value {
    json!({ "validFrom": from, "validUntil": until, "costRate": { "amount": cost, "currency": "USD" }, "billRate": { "amount": bill } })
}

#[tokio::test]
async fn work_is_priced_at_the_rates_of_its_day() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Rates Co").await;
    let (dev, dev_id) = app.member(&owner, "dev@example.com", "MEMBER").await;
    let (peer, _) = app.member(&owner, "peer@example.com", "MEMBER").await;

    // A member's first rates hold since the start; a raise from a day; then a correction
    // inside the first period, which splits it.
    let m = set(&app, &owner, json!({ "id": dev_id, "expectedVersion": 1, "costRate": "50", "billRate": "100" })).await;
    assert_eq!(m["version"], 2);
    let raise = json!({ "id": dev_id, "expectedVersion": 2, "costRate": "60", "billRate": "120", "ratesValidFrom": "2026-11-16" });
    let m = set(&app, &owner, raise).await;
    assert_eq!((m["version"].as_i64(), m["costRate"]["amount"].as_str()), (Some(3), Some("60.00")), "today's: {m}");
    let fix = json!({ "id": dev_id, "expectedVersion": 3, "billRate": "110", "ratesValidFrom": "2026-11-12" });
    assert_eq!(set(&app, &owner, fix.clone()).await["version"], 4);
    let expected = json!([
        period(Value::Null, json!("2026-11-11"), "50.00", "100.00"),
        period(json!("2026-11-12"), json!("2026-11-15"), "50.00", "110.00"),
        period(json!("2026-11-16"), Value::Null, "60.00", "120.00"),
    ]);
    let history = app.gql(Some(&owner), HISTORY, json!({ "m": dev_id })).await;
    assert_eq!(data(&history)["node"]["rateHistory"], expected);
    // Restating a rate changes nothing: no new version, no new period.
    let again = json!({ "id": dev_id, "expectedVersion": 4, "billRate": "110", "ratesValidFrom": "2026-11-12" });
    assert_eq!(set(&app, &owner, again).await["version"], 4);
    // A stale version changes nothing either, rates included.
    let stale = json!({ "id": dev_id, "expectedVersion": 3, "billRate": "999", "ratesValidFrom": "2026-11-20" });
    assert_eq!(code(&app.gql(Some(&owner), UPDATE, json!({ "i": stale })).await), Some("CONFLICT"));
    let lone = json!({ "id": dev_id, "expectedVersion": 4, "ratesValidFrom": "2026-11-20" });
    assert_eq!(field(&app.gql(Some(&owner), UPDATE, json!({ "i": lone })).await), Some("ratesValidFrom"));
    assert_eq!(data(&app.gql(Some(&dev), HISTORY, json!({ "m": dev_id })).await)["node"]["rateHistory"], expected);
    assert_eq!(code(&app.gql(Some(&peer), HISTORY, json!({ "m": dev_id })).await), Some("FORBIDDEN"));

    // Work on each side of the changes, billed and costed at its day's rates.
    let acct = data(
        &app.gql(Some(&owner), "mutation { createAccount(input: { name: \"Client\" }) { account { id } } }", json!({}))
            .await,
    )["createAccount"]["account"]["id"]
        .clone();
    let mk = "mutation { createProject(input: { key: \"RATE\", name: \"Rates\" }) { project { id } } }";
    let p = data(&app.gql(Some(&owner), mk, json!({})).await)["createProject"]["project"]["id"].clone();
    let link =
        "mutation($p: ID!, $a: ID) { setProjectAccount(input: { projectId: $p, accountId: $a }) { project { id } } }";
    data(&app.gql(Some(&owner), link, json!({ "p": p, "a": acct })).await);
    let log = "mutation($p: ID!, $d: Date!, $h: Decimal!) { logTime(input: { projectId: $p, date: $d, hours: $h }) { timeEntry { id } } }";
    for (d, h) in [("2026-11-10", "2"), ("2026-11-13", "1"), ("2026-11-20", "3"), ("2026-11-21", "1")] {
        data(&app.gql(Some(&dev), log, json!({ "p": p, "d": d, "h": h })).await);
    }
    let bill = "mutation($p: ID!) { billProject(input: { projectId: $p, from: \"2026-11-01\", to: \"2026-11-30\" }) { invoice { total { amount } lines { description quantity unitPrice } } } }";
    let inv = data(&app.gql(Some(&owner), bill, json!({ "p": p })).await)["billProject"]["invoice"].clone();
    assert_eq!(
        inv["lines"],
        json!([
            { "description": "Services 2026-11-10 to 2026-11-10: M MEMBER", "quantity": "2", "unitPrice": "100.00" },
            { "description": "Services 2026-11-13 to 2026-11-13: M MEMBER", "quantity": "1", "unitPrice": "110.00" },
            { "description": "Services 2026-11-20 to 2026-11-21: M MEMBER", "quantity": "4", "unitPrice": "120.00" },
        ])
    );
    assert_eq!(inv["total"]["amount"], "790.00", "2 x 100 + 1 x 110 + 4 x 120");
    let fin = "query($p: ID!) { node(id: $p) { ... on Project { financials { hours labourCost { amount } } } } }";
    assert_eq!(
        data(&app.gql(Some(&owner), fin, json!({ "p": p })).await)["node"]["financials"],
        json!({ "hours": "7", "labourCost": { "amount": "390.00" } }),
        "3 h x 50 + 4 h x 60"
    );
    let pnl = "{ organization { profitAndLoss(from: \"2026-11-01\", to: \"2026-11-30\") { labourCost { amount } } } }";
    assert_eq!(
        data(&app.gql(Some(&owner), pnl, json!({})).await)["organization"]["profitAndLoss"],
        json!([{ "labourCost": { "amount": "390.00" } }])
    );

    // Work on a day without a bill rate is refused by name, not billed at zero.
    let (newbie, newbie_id) = app.member(&owner, "new@example.com", "MEMBER").await;
    let late = json!({ "id": newbie_id, "expectedVersion": 1, "billRate": "90", "ratesValidFrom": "2026-11-25" });
    set(&app, &owner, late).await;
    data(&app.gql(Some(&newbie), log, json!({ "p": p, "d": "2026-11-24", "h": "1" })).await);
    let refused = app.gql(Some(&owner), bill, json!({ "p": p })).await;
    assert_eq!(field(&refused), Some("projectId"), "{refused}");
    assert!(refused.to_string().contains("on 2026-11-24"), "{refused}");
    app.finish().await;
}
