//! The finance domain through the endpoint: the fiscal calendar, invoices from draft to
//! paid, gapless numbers under concurrency, payments, refunds, credit notes and voids.

use std::collections::BTreeSet;

use opsgraph_e2e::{TestApp, code, data, field, pdf_text};
use serde_json::{Value, json};

const CREATE: &str = "mutation($i: CreateInvoiceInput!) { createInvoice(input: $i) { invoice { id status number subtotal { amount } taxTotal { amount } total { amount currency } version } } }";
const ISSUE: &str = "mutation($id: ID!, $v: Int!, $d: Date) { issueInvoice(input: { id: $id, expectedVersion: $v, issueDate: $d }) { invoice { number status issueDate dueDate total { amount } } } }";
const PAY: &str = "mutation($i: RecordPaymentInput!) { recordPayment(input: $i) { payment { id applied { amount } invoice { status paidTotal { amount } outstanding { amount } } } } }";

async fn account(app: &TestApp, token: &str, name: &str) -> String {
    let q = "mutation($n: String!) { createAccount(input: { name: $n }) { account { id } } }";
    data(&app.gql(Some(token), q, json!({ "n": name })).await)["createAccount"]["account"]["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn lines() -> Value {
    json!([
        { "description": "Consulting", "quantity": "3", "unitPrice": "33.335", "taxRate": "20" },
        { "description": "Travel", "quantity": "1", "unitPrice": "50.00" }
    ])
}

#[tokio::test]
async fn an_invoice_from_draft_to_paid_credited_and_refunded() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Money Co").await;
    let acct = account(&app, &owner, "Client Co").await;

    // Lines are validated; totals follow the one rounding rule.
    let bad = app.gql(Some(&owner), CREATE, json!({ "i": { "accountId": acct, "lines": lines() } })).await;
    assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some("lines[0].unitPrice")), "{bad}");
    let good = json!([
        { "description": "Consulting", "quantity": "3", "unitPrice": "33.34", "taxRate": "20" },
        { "description": "Travel", "quantity": "1", "unitPrice": "50.00" }
    ]);
    let r = app
        .gql(Some(&owner), CREATE, json!({ "i": { "accountId": acct, "lines": good, "idempotencyKey": "inv-1" } }))
        .await;
    let inv = data(&r)["createInvoice"]["invoice"].clone();
    assert_eq!(
        (inv["subtotal"]["amount"].as_str(), inv["taxTotal"]["amount"].as_str(), inv["total"]["amount"].as_str()),
        (Some("150.02"), Some("20.00"), Some("170.02")),
        "100.02 + 50.00; tax 20.004 -> 20.00"
    );
    assert_eq!((inv["status"].as_str(), inv["number"].is_null()), (Some("DRAFT"), true));
    let again = app
        .gql(Some(&owner), CREATE, json!({ "i": { "accountId": acct, "lines": [], "idempotencyKey": "inv-1" } }))
        .await;
    assert_eq!(data(&again)["createInvoice"]["invoice"]["id"], inv["id"], "a retried create is the same draft");
    let id = inv["id"].as_str().expect("id").to_owned();

    // Issued: numbered, dated, final.
    let r = app.gql(Some(&owner), ISSUE, json!({ "id": id, "v": inv["version"], "d": "2026-11-10" })).await;
    let issued = &data(&r)["issueInvoice"]["invoice"];
    assert_eq!(
        (issued["number"].as_str(), issued["status"].as_str(), issued["dueDate"].as_str()),
        (Some("INV-2026-0001"), Some("ISSUED"), Some("2026-12-10"))
    );
    // The document people send: a PDF whose text reads back.
    let auth = format!("Bearer {owner}");
    let path = format!("/invoices/{id}.pdf");
    let (status, headers, pdf) = app.request(reqwest::Method::GET, &path, &[("authorization", &auth)], None).await;
    assert_eq!((status, headers.get("content-type").and_then(|v| v.to_str().ok())), (200, Some("application/pdf")));
    assert!(pdf.starts_with("%PDF-"));
    let text = pdf_text(&pdf);
    for want in [
        "INVOICE INV-2026-0001",
        "Billed to: Client Co",
        "Consulting | 3 | 33.34 | 20 | 100.02",
        "Travel | 1 | 50.00 | 0 | 50.00",
        "Total: 170.02 USD",
    ] {
        assert!(text.iter().any(|t| t == want), "{want} in {text:?}");
    }
    assert_eq!(app.request(reqwest::Method::GET, &path, &[], None).await.0, 401);
    let upd =
        "mutation($id: ID!) { updateInvoice(input: { id: $id, expectedVersion: 2, notes: \"x\" }) { invoice { id } } }";
    assert_eq!(code(&app.gql(Some(&owner), upd, json!({ "id": id })).await), Some("BAD_USER_INPUT"), "issued is final");

    // Partial payment, a retried one, then an over-payment: PAID, the rest is credit.
    let pay = |amount: &str, r: &str| json!({ "i": { "invoiceId": id, "amount": amount, "method": "BANK_TRANSFER", "paidOn": "2026-11-20", "externalRef": r } });
    let r = app.gql(Some(&owner), PAY, pay("100.00", "bank-1")).await;
    let p1 = data(&r)["recordPayment"]["payment"].clone();
    assert_eq!(p1["invoice"]["status"], "PARTIALLY_PAID");
    let retry = app.gql(Some(&owner), PAY, pay("100.00", "bank-1")).await;
    assert_eq!(data(&retry)["recordPayment"]["payment"]["id"], p1["id"], "a retried payment is recorded once");
    // Without an external reference, an idempotency key does the same.
    let keyed = json!({ "i": { "invoiceId": id, "amount": "0.01", "method": "CASH", "paidOn": "2026-11-20", "idempotencyKey": "cash-1" } });
    let k1 = data(&app.gql(Some(&owner), PAY, keyed.clone()).await)["recordPayment"]["payment"]["id"].clone();
    assert_eq!(data(&app.gql(Some(&owner), PAY, keyed).await)["recordPayment"]["payment"]["id"], k1);
    let clash = app.gql(Some(&owner), PAY, pay("5.00", "bank-1")).await;
    assert_eq!(code(&clash), Some("CONFLICT"));
    let r = app.gql(Some(&owner), PAY, pay("100.00", "bank-2")).await;
    let p2 = &data(&r)["recordPayment"]["payment"];
    assert_eq!(
        (
            p2["applied"]["amount"].as_str(),
            p2["invoice"]["status"].as_str(),
            p2["invoice"]["outstanding"]["amount"].as_str()
        ),
        (Some("70.01"), Some("PAID"), Some("0.00"))
    );
    let credits = "query($a: ID!) { node(id: $a) { ... on Account { credits { amount { amount } reason } } } }";
    assert_eq!(
        data(&app.gql(Some(&owner), credits, json!({ "a": acct })).await)["node"]["credits"],
        json!([{ "amount": { "amount": "29.99" }, "reason": "over-payment of INV-2026-0001" }]),
        "the over-payment became the account's credit"
    );

    // A paid invoice cannot be voided; a refund opens it again.
    let void = "mutation($id: ID!) { voidInvoice(input: { id: $id, reason: \"typo\" }) { invoice { status } } }";
    assert_eq!(code(&app.gql(Some(&owner), void, json!({ "id": id })).await), Some("BAD_USER_INPUT"));
    let refund = "mutation($p: ID!, $a: Decimal!) { refundPayment(input: { paymentId: $p, amount: $a }) { payment { kind invoice { status paidTotal { amount } } } } }";
    let too_much = app.gql(Some(&owner), refund, json!({ "p": p1["id"], "a": "100.01" })).await;
    assert_eq!(code(&too_much), Some("BAD_USER_INPUT"));
    let r = app.gql(Some(&owner), refund, json!({ "p": p1["id"], "a": "20.02" })).await;
    let inv_after = &data(&r)["refundPayment"]["payment"]["invoice"];
    assert_eq!(
        (inv_after["status"].as_str(), inv_after["paidTotal"]["amount"].as_str()),
        (Some("PARTIALLY_PAID"), Some("150.00"))
    );

    // Credit notes: their own series, never more than is creditable.
    let cn = "mutation($id: ID!, $p: String!) { issueCreditNote(input: { invoiceId: $id, lines: [{ description: \"Discount\", quantity: \"1\", unitPrice: $p }] }) { invoice { number kind total { amount } creditOf { creditedTotal { amount } status } } } }";
    let over = app.gql(Some(&owner), cn, json!({ "id": id, "p": "170.03" })).await;
    assert_eq!(code(&over), Some("BAD_USER_INPUT"), "{over}");
    let r = app.gql(Some(&owner), cn, json!({ "id": id, "p": "20.02" })).await;
    let note = &data(&r)["issueCreditNote"]["invoice"];
    assert_eq!(note["number"], "CN-2026-0001");
    assert_eq!(
        (note["creditOf"]["creditedTotal"]["amount"].as_str(), note["creditOf"]["status"].as_str()),
        (Some("20.02"), Some("PAID"))
    );

    // A second invoice: issued and voided while unpaid; its number stays used.
    let r = app.gql(Some(&owner), CREATE, json!({ "i": { "accountId": acct, "lines": [{ "description": "x", "quantity": "1", "unitPrice": "10" }] } })).await;
    let second = data(&r)["createInvoice"]["invoice"].clone();
    let r =
        app.gql(Some(&owner), ISSUE, json!({ "id": second["id"], "v": second["version"], "d": "2026-11-11" })).await;
    assert_eq!(data(&r)["issueInvoice"]["invoice"]["number"], "INV-2026-0002");
    assert_eq!(
        data(&app.gql(Some(&owner), void, json!({ "id": second["id"] })).await)["voidInvoice"]["invoice"]["status"],
        "VOID"
    );

    let q = "query($a: ID!) { node(id: $a) { ... on Account { invoices(filter: { kind: { eq: INVOICE } }) { nodes { number status } aggregate { sum { total { amount } outstanding { amount } } } } } } }";
    let r = app.gql(Some(&owner), q, json!({ "a": acct })).await;
    let list = &data(&r)["node"]["invoices"];
    assert_eq!(list["nodes"].as_array().map(Vec::len), Some(2));
    assert_eq!(list["aggregate"]["sum"]["total"], json!([{ "amount": "180.02" }]));
    app.finish().await;
}

#[tokio::test]
async fn closed_periods_take_no_postings_and_finance_needs_its_roles() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Calendar Co").await;
    let (member, _) = app.member(&owner, "m@example.com", "MEMBER").await;
    let (viewer, _) = app.member(&owner, "v@example.com", "VIEWER").await;
    let acct = account(&app, &owner, "Client Co").await;
    let year = "mutation { createFiscalYear(input: { year: 2026 }) { fiscalYear { year startDate endDate periods { id number startDate } } } }";
    let r = app.gql(Some(&owner), year, json!({})).await;
    let y = &data(&r)["createFiscalYear"]["fiscalYear"];
    assert_eq!((y["startDate"].as_str(), y["endDate"].as_str()), (Some("2026-01-01"), Some("2026-12-31")));
    assert_eq!(y["periods"].as_array().map(Vec::len), Some(12));
    let november = y["periods"][10]["id"].clone();
    assert_eq!(code(&app.gql(Some(&owner), year, json!({})).await), Some("CONFLICT"));
    let close = "mutation($id: ID!) { closeFiscalPeriod(input: { id: $id }) { fiscalPeriod { isClosed } } }";
    assert_eq!(code(&app.gql(Some(&member), close, json!({ "id": november })).await), Some("FORBIDDEN"));
    assert_eq!(
        data(&app.gql(Some(&owner), close, json!({ "id": november })).await)["closeFiscalPeriod"]["fiscalPeriod"]["isClosed"],
        true
    );

    let r = app.gql(Some(&owner), CREATE, json!({ "i": { "accountId": acct, "lines": [{ "description": "x", "quantity": "2", "unitPrice": "10" }] } })).await;
    let inv = data(&r)["createInvoice"]["invoice"].clone();
    let r = app.gql(Some(&owner), ISSUE, json!({ "id": inv["id"], "v": inv["version"], "d": "2026-11-30" })).await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("issueDate")), "{r}");
    let r = app.gql(Some(&owner), ISSUE, json!({ "id": inv["id"], "v": inv["version"], "d": "2026-10-31" })).await;
    assert_eq!(data(&r)["issueInvoice"]["invoice"]["number"], "INV-2026-0001", "the refused issue used no number");
    let r = app
        .gql(
            Some(&owner),
            PAY,
            json!({ "i": { "invoiceId": inv["id"], "amount": "5", "method": "CASH", "paidOn": "2026-11-01" } }),
        )
        .await;
    assert_eq!((code(&r), field(&r)), (Some("BAD_USER_INPUT"), Some("paidOn")));

    // Members see no finance; viewers read it and change nothing.
    let list = "{ organization { invoices { totalCount } } }";
    assert_eq!(code(&app.gql(Some(&member), list, json!({})).await), Some("FORBIDDEN"));
    assert_eq!(data(&app.gql(Some(&viewer), list, json!({})).await)["organization"]["invoices"]["totalCount"], 1);
    let r = app.gql(Some(&viewer), CREATE, json!({ "i": { "accountId": acct } })).await;
    assert_eq!(code(&r), Some("FORBIDDEN"));
    app.finish().await;
}

/// 50 drafts issued from 10 concurrent connections get INV-…-0001..0050, each once.
#[tokio::test]
async fn concurrent_issuing_numbers_without_gaps_or_duplicates() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Busy Co").await;
    let acct = account(&app, &owner, "Client Co").await;
    let mut drafts = vec![];
    for n in 0..50 {
        let i = json!({ "accountId": acct, "lines": [{ "description": format!("Work {n}"), "quantity": "1", "unitPrice": "100" }] });
        drafts.push(data(&app.gql(Some(&owner), CREATE, json!({ "i": i })).await)["createInvoice"]["invoice"].clone());
    }
    let mut numbers = BTreeSet::new();
    for chunk in drafts.chunks(10) {
        let issues = chunk.iter().map(|d| app.gql(Some(&owner), ISSUE, json!({ "id": d["id"], "v": d["version"] })));
        for r in futures_util::future::join_all(issues).await {
            let n = data(&r)["issueInvoice"]["invoice"]["number"].as_str().expect("number").to_owned();
            assert!(numbers.insert(n.clone()), "{n} twice");
        }
    }
    let year = chrono::Utc::now().format("%Y").to_string();
    let expected: BTreeSet<String> = (1..=50).map(|n| format!("INV-{year}-{n:04}")).collect();
    assert_eq!(numbers, expected);
    app.finish().await;
}

/// The client portal reads its account's issued invoices, never drafts or others'.
#[tokio::test]
async fn a_client_reads_its_own_issued_invoices() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Portal Money Co").await;
    let mine = account(&app, &owner, "Client Co").await;
    let theirs = account(&app, &owner, "Other Co").await;
    let contact = "mutation($a: ID!) { createContact(input: { firstName: \"Cara\", email: \"cara@client.example\", accountId: $a }) { contact { id } } }";
    let cara =
        data(&app.gql(Some(&owner), contact, json!({ "a": mine })).await)["createContact"]["contact"]["id"].clone();
    let grant = "mutation($c: ID!) { setPortalAccess(input: { contactId: $c, enabled: true }) { contact { id } } }";
    data(&app.gql(Some(&owner), grant, json!({ "c": cara })).await);
    let token = app.emailed_token("cara@client.example", "member.invite").await.expect("invitation");
    let accept = "mutation($t: String!) { acceptInvitation(input: { token: $t, password: \"correct horse battery staple\" }) { accessToken } }";
    let client = data(&app.gql(None, accept, json!({ "t": token })).await)["acceptInvitation"]["accessToken"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut ids = vec![];
    for (a, issue) in [(&mine, true), (&mine, false), (&theirs, true)] {
        let i = json!({ "accountId": a, "lines": [{ "description": "x", "quantity": "1", "unitPrice": "10" }] });
        let d = data(&app.gql(Some(&owner), CREATE, json!({ "i": i })).await)["createInvoice"]["invoice"].clone();
        if issue {
            data(&app.gql(Some(&owner), ISSUE, json!({ "id": d["id"], "v": d["version"] })).await);
        }
        ids.push(d["id"].as_str().expect("id").to_owned());
    }
    // Its own issued invoice as a PDF; not the draft, not another account's.
    let auth = format!("Bearer {client}");
    for (id, status) in [(&ids[0], 200), (&ids[1], 404), (&ids[2], 404)] {
        let path = format!("/invoices/{id}.pdf");
        assert_eq!(app.request(reqwest::Method::GET, &path, &[("authorization", &auth)], None).await.0, status, "{id}");
    }
    let q = "{ viewer { clientAccount { invoices { nodes { status total { amount } lines { description } } } } } }";
    let r = app.gql(Some(&client), q, json!({})).await;
    assert_eq!(
        data(&r)["viewer"]["clientAccount"]["invoices"]["nodes"],
        json!([{ "status": "ISSUED", "total": { "amount": "10.00" }, "lines": [{ "description": "x" }] }])
    );
    assert_eq!(
        code(&app.gql(Some(&client), "{ organization { invoices { totalCount } } }", json!({})).await),
        Some("FORBIDDEN")
    );
    app.finish().await;
}

/// Expenses are decided by someone else; billing a project's month drafts one line per
/// member (hours x bill rate) and one per rebillable expense, each item once; voiding the
/// invoice releases them.
#[tokio::test]
async fn expenses_and_billing_the_work() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Billing Co").await;
    let (manager, _) = app.member(&owner, "mgr@example.com", "MANAGER").await;
    let (dev, dev_id) = app.member(&owner, "dev@example.com", "MEMBER").await;
    let acct = account(&app, &owner, "Client Co").await;
    let rate = "mutation($id: ID!) { updateMember(input: { id: $id, expectedVersion: 1, billRate: \"150.00\" }) { membership { id } } }";
    data(&app.gql(Some(&owner), rate, json!({ "id": dev_id })).await);
    let p = data(
        &app.gql(
            Some(&owner),
            "mutation { createProject(input: { key: \"BILL\", name: \"Bill\" }) { project { id } } }",
            json!({}),
        )
        .await,
    )["createProject"]["project"]["id"]
        .clone();
    let link =
        "mutation($p: ID!, $a: ID) { setProjectAccount(input: { projectId: $p, accountId: $a }) { project { id } } }";
    data(&app.gql(Some(&owner), link, json!({ "p": p, "a": acct })).await);
    let log = "mutation($p: ID!, $d: Date!, $h: Decimal!, $b: Boolean) { logTime(input: { projectId: $p, date: $d, hours: $h, isBillable: $b }) { timeEntry { id } } }";
    let mut entries = vec![];
    for (d, h, b) in
        [("2026-11-02", "3", true), ("2026-11-03", "2", true), ("2026-11-04", "1", false), ("2026-12-01", "4", true)]
    {
        let r = app.gql(Some(&dev), log, json!({ "p": p, "d": d, "h": h, "b": b })).await;
        entries.push(data(&r)["logTime"]["timeEntry"]["id"].clone());
    }

    let submit = "mutation($i: SubmitExpenseInput!) { submitExpense(input: $i) { expense { id status amount { amount currency } } } }";
    let trip = json!({ "category": "TRAVEL", "description": "Train to the client", "amount": "120.50", "spentOn": "2026-11-04", "projectId": p, "billable": true, "vendor": "Rail Co" });
    let e = data(&app.gql(Some(&dev), submit, json!({ "i": trip })).await)["submitExpense"]["expense"].clone();
    assert_eq!(e["status"], "SUBMITTED");
    let own = json!({ "category": "MEALS", "description": "Lunch", "amount": "12", "spentOn": "2026-11-04" });
    let mine =
        data(&app.gql(Some(&manager), submit, json!({ "i": own })).await)["submitExpense"]["expense"]["id"].clone();
    let decide = "mutation($id: ID!, $s: ExpenseStatus!) { decideExpense(input: { id: $id, status: $s }) { expense { status decidedBy { id } } } }";
    assert_eq!(
        code(&app.gql(Some(&manager), decide, json!({ "id": mine, "s": "APPROVED" })).await),
        Some("FORBIDDEN"),
        "not one's own"
    );
    assert_eq!(code(&app.gql(Some(&dev), decide, json!({ "id": e["id"], "s": "APPROVED" })).await), Some("FORBIDDEN"));
    let r = app.gql(Some(&manager), decide, json!({ "id": e["id"], "s": "APPROVED" })).await;
    assert_eq!(data(&r)["decideExpense"]["expense"]["status"], "APPROVED");
    let my = data(&app.gql(Some(&dev), "{ myExpenses { totalCount } }", json!({})).await)["myExpenses"]["totalCount"]
        .clone();
    assert_eq!(my, 1);

    let bill = "mutation($p: ID!) { billProject(input: { projectId: $p, from: \"2026-11-01\", to: \"2026-11-30\" }) { invoice { id version total { amount } lines { description quantity unitPrice amount } } } }";
    let r = app.gql(Some(&owner), bill, json!({ "p": p })).await;
    let inv = data(&r)["billProject"]["invoice"].clone();
    assert_eq!(inv["total"]["amount"], "870.50", "5 h x 150 + 120.50: {inv}");
    let lines = inv["lines"].as_array().expect("lines");
    assert_eq!((lines[0]["quantity"].as_str(), lines[0]["unitPrice"].as_str()), (Some("5"), Some("150.00")));
    assert_eq!(lines[1]["description"], "Expense 2026-11-04: Train to the client (Rail Co)");
    let again = app.gql(Some(&owner), bill, json!({ "p": p })).await;
    assert_eq!(code(&again), Some("BAD_USER_INPUT"), "everything is billed once: {again}");
    // Invoiced time is frozen until the invoice is voided.
    let edit = "mutation($id: ID!) { updateTimeEntry(input: { id: $id, expectedVersion: 1, note: \"fixed\" }) { timeEntry { note } } }";
    let frozen = app.gql(Some(&dev), edit, json!({ "id": entries[0] })).await;
    assert_eq!(code(&frozen), Some("BAD_USER_INPUT"), "{frozen}");
    let del = "mutation($id: ID!) { deleteTimeEntry(input: { id: $id }) { timeEntry { id } } }";
    assert_eq!(code(&app.gql(Some(&dev), del, json!({ "id": entries[1] })).await), Some("BAD_USER_INPUT"));
    data(&app.gql(Some(&dev), edit, json!({ "id": entries[2] })).await);

    // Issued, then voided: the work is released and can be billed again.
    data(&app.gql(Some(&owner), ISSUE, json!({ "id": inv["id"], "v": inv["version"] })).await);
    let void = "mutation($id: ID!) { voidInvoice(input: { id: $id, reason: \"wrong month\" }) { invoice { status } } }";
    data(&app.gql(Some(&owner), void, json!({ "id": inv["id"] })).await);
    data(&app.gql(Some(&dev), edit, json!({ "id": entries[0] })).await);
    let r = app.gql(Some(&owner), bill, json!({ "p": p })).await;
    let inv = data(&r)["billProject"]["invoice"].clone();
    assert_eq!(inv["total"]["amount"], "870.50");

    // Each billed entry knows its line; the account what it owes.
    let entries = "query($m: ID!) { node(id: $m) { ... on Membership { timeEntries { nodes { date invoiceLine { description } } } } } }";
    let r = app.gql(Some(&owner), entries, json!({ "m": dev_id })).await;
    let billed: Vec<&Value> = data(&r)["node"]["timeEntries"]["nodes"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| !e["invoiceLine"].is_null())
        .collect();
    assert_eq!(billed.len(), 2, "the two billable November entries: {r}");

    // The project's financials, derived live: the voided invoice does not count.
    data(&app.gql(Some(&owner), ISSUE, json!({ "id": inv["id"], "v": inv["version"], "d": "2026-11-30" })).await);
    let pay = json!({ "i": { "invoiceId": inv["id"], "amount": "500", "method": "CARD", "paidOn": "2026-11-30" } });
    data(&app.gql(Some(&owner), PAY, pay).await);
    let cost = "mutation($id: ID!) { updateMember(input: { id: $id, expectedVersion: 2, costRate: \"60.00\", ratesValidFrom: \"2026-11-01\" }) { membership { id } } }";
    data(&app.gql(Some(&owner), cost, json!({ "id": dev_id })).await);
    let q = "query($p: ID!) { node(id: $p) { ... on Project { financials(from: \"2026-11-01\", to: \"2026-11-30\") { \
        invoiced { amount currency } paid { amount } outstanding { amount } expenses { amount } labourCost { amount } \
        margin { amount } marginPercent hours unconvertedDocuments } } } }";
    let r = app.gql(Some(&owner), q, json!({ "p": p })).await;
    assert_eq!(
        data(&r)["node"]["financials"],
        json!({
            "invoiced": { "amount": "870.50", "currency": "USD" }, "paid": { "amount": "500.00" },
            "outstanding": { "amount": "370.50" }, "expenses": { "amount": "120.50" },
            "labourCost": { "amount": "360.00" }, "margin": { "amount": "390.00" }, "marginPercent": "44.8",
            "hours": "6", "unconvertedDocuments": 0
        }),
        "6 h x 60 (the December hours are out of range; non-billable hours cost too)"
    );
    assert_eq!(code(&app.gql(Some(&dev), q, json!({ "p": p })).await), Some("FORBIDDEN"));
    let owes = "query($a: ID!) { node(id: $a) { ... on Account { outstanding { amount currency } } } }";
    assert_eq!(
        data(&app.gql(Some(&owner), owes, json!({ "a": acct })).await)["node"]["outstanding"],
        json!([{ "amount": "370.50", "currency": "USD" }])
    );
    // One level of financials costs the same statements for 1 project and for 3.
    let all = "{ organization { projects { nodes { financials { margin { amount } } } } } }";
    let one = app.gql(Some(&owner), all, json!({})).await["extensions"]["sqlStatements"].clone();
    for key in ["B2", "B3"] {
        let mk = "mutation($k: String!) { createProject(input: { key: $k, name: $k }) { project { id } } }";
        data(&app.gql(Some(&owner), mk, json!({ "k": key })).await);
    }
    let three = app.gql(Some(&owner), all, json!({})).await;
    assert_eq!(data(&three)["organization"]["projects"]["nodes"].as_array().map(Vec::len), Some(3));
    assert_eq!(three["extensions"]["sqlStatements"], one, "no statement per project");

    // The organisation's P&L by month.
    let pnl = "{ organization { profitAndLoss(from: \"2026-11-01\", to: \"2026-12-31\") { month revenue { amount } labourCost { amount } expenses { amount } margin { amount currency } } } }";
    let r = app.gql(Some(&owner), pnl, json!({})).await;
    assert_eq!(
        data(&r)["organization"]["profitAndLoss"],
        json!([
            { "month": "2026-11-01", "revenue": { "amount": "870.50" }, "labourCost": { "amount": "360.00" },
              "expenses": { "amount": "120.50" }, "margin": { "amount": "390.00", "currency": "USD" } },
            { "month": "2026-12-01", "revenue": { "amount": "0.00" }, "labourCost": { "amount": "240.00" },
              "expenses": { "amount": "0.00" }, "margin": { "amount": "-240.00", "currency": "USD" } }
        ])
    );
    assert_eq!(code(&app.gql(Some(&dev), pnl, json!({})).await), Some("FORBIDDEN"));

    // Forecasts: one per project and month, replaced when set again.
    let set = "mutation($p: ID!, $c: Decimal!) { setForecast(input: { projectId: $p, month: \"2027-01-15\", revenue: \"1000\", cost: \"600\", confidence: $c }) { forecast { id month version confidence } } }";
    let first =
        data(&app.gql(Some(&owner), set, json!({ "p": p, "c": "0.8" })).await)["setForecast"]["forecast"].clone();
    assert_eq!((first["month"].as_str(), first["version"].as_i64()), (Some("2027-01-01"), Some(1)));
    let again =
        data(&app.gql(Some(&owner), set, json!({ "p": p, "c": "0.6" })).await)["setForecast"]["forecast"].clone();
    assert_eq!((again["id"].clone(), again["version"].as_i64()), (first["id"].clone(), Some(2)));
    let bad = app.gql(Some(&owner), set, json!({ "p": p, "c": "1.5" })).await;
    assert_eq!((code(&bad), field(&bad)), (Some("BAD_USER_INPUT"), Some("confidence")));
    let list = "query($p: ID!) { node(id: $p) { ... on Project { forecasts { confidence revenue { amount } } } } }";
    assert_eq!(
        data(&app.gql(Some(&owner), list, json!({ "p": p })).await)["node"]["forecasts"],
        json!([{ "confidence": "0.6", "revenue": { "amount": "1000.00" } }])
    );
    app.finish().await;
}

/// The overdue job announces an invoice past due once, to the account's owner.
#[tokio::test]
async fn overdue_invoices_are_announced_once() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Late Co").await;
    let (rep, rep_id) = app.member(&owner, "rep@example.com", "MANAGER").await;
    let acct = account(&app, &owner, "Slow Payer").await;
    let own = "mutation($a: ID!, $m: ID!) { updateAccount(input: { id: $a, expectedVersion: 1, ownerId: $m }) { account { id } } }";
    data(&app.gql(Some(&owner), own, json!({ "a": acct, "m": rep_id })).await);
    let i = json!({ "accountId": acct, "lines": [{ "description": "x", "quantity": "1", "unitPrice": "10" }] });
    let d = data(&app.gql(Some(&owner), CREATE, json!({ "i": i })).await)["createInvoice"]["invoice"].clone();
    data(&app.gql(Some(&owner), ISSUE, json!({ "id": d["id"], "v": d["version"], "d": "2026-09-01" })).await);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 15).expect("date");
    assert_eq!(opsgraph_finance::service::overdue::run(&app.pool, today).await.expect("job"), 1);
    assert_eq!(opsgraph_finance::service::overdue::run(&app.pool, today).await.expect("job"), 0, "once");
    opsgraph_org::service::dispatch::run_once(&app.pool).await.expect("dispatch");
    let inbox = "{ viewer { notifications { nodes { kind title } } } }";
    let nodes = data(&app.gql(Some(&rep), inbox, json!({})).await)["viewer"]["notifications"]["nodes"].clone();
    let kinds: Vec<&str> = nodes.as_array().expect("nodes").iter().filter_map(|n| n["title"].as_str()).collect();
    assert!(kinds.contains(&"Invoice INV-2026-0001 issued: 10.00 USD"), "the owner hears of the issue: {kinds:?}");
    let warnings: Vec<&Value> = nodes.as_array().expect("nodes").iter().filter(|n| n["kind"] == "WARNING").collect();
    assert_eq!(
        warnings,
        [&json!({ "kind": "WARNING", "title": "Invoice INV-2026-0001 to Slow Payer is overdue (due 2026-10-01)" })]
    );
    let q = "query($id: ID!) { node(id: $id) { ... on Invoice { isOverdue } } }";
    assert_eq!(data(&app.gql(Some(&owner), q, json!({ "id": d["id"] })).await)["node"]["isOverdue"], true);
    app.finish().await;
}

/// Property: whatever credit notes are attempted, in whatever amounts, the credited total
/// never exceeds the invoice's total, and every refusal changes nothing.
#[tokio::test]
async fn credit_notes_never_exceed_what_is_creditable() {
    let app = TestApp::spawn().await;
    let (owner, _) = app.sign_up("o@example.com", "Credit Co").await;
    let acct = account(&app, &owner, "Client Co").await;
    let i = json!({ "accountId": acct, "lines": [{ "description": "x", "quantity": "3", "unitPrice": "33.33", "taxRate": "19" }] });
    let d = data(&app.gql(Some(&owner), CREATE, json!({ "i": i })).await)["createInvoice"]["invoice"].clone();
    let total = data(&app.gql(Some(&owner), ISSUE, json!({ "id": d["id"], "v": d["version"] })).await)["issueInvoice"]
        ["invoice"]["total"]["amount"]
        .as_str()
        .expect("total")
        .parse::<f64>()
        .expect("number");
    let cn = "mutation($id: ID!, $p: String!) { issueCreditNote(input: { invoiceId: $id, lines: [{ description: \"c\", quantity: \"1\", unitPrice: $p }] }) { invoice { creditOf { creditedTotal { amount } } } } }";
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut credited_cents: i64 = 0;
    for _ in 0..25 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let cents = 1 + (seed % 6_000) as i64;
        let price = format!("{}.{:02}", cents / 100, cents % 100);
        let r = app.gql(Some(&owner), cn, json!({ "id": d["id"], "p": price })).await;
        let fits = credited_cents + cents <= (total * 100.0).round() as i64;
        if fits {
            let now = data(&r)["issueCreditNote"]["invoice"]["creditOf"]["creditedTotal"]["amount"].clone();
            credited_cents += cents;
            assert_eq!(now, json!(format!("{}.{:02}", credited_cents / 100, credited_cents % 100)));
        } else {
            assert_eq!(code(&r), Some("BAD_USER_INPUT"), "{price} over {credited_cents}: {r}");
        }
    }
    assert!(credited_cents as f64 <= total * 100.0);
    let notes = app.count("SELECT count(*) AS n FROM invoices WHERE kind = 'CREDIT_NOTE'").await;
    let sum =
        app.count("SELECT coalesce(sum(total * 100), 0)::bigint AS n FROM invoices WHERE kind = 'CREDIT_NOTE'").await;
    assert_eq!(sum, credited_cents, "refusals left no credit note behind ({notes} issued)");
    app.finish().await;
}
