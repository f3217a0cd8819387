//! The finance benchmark: 50 client projects with 10,000 time entries, 2,000 issued
//! invoices over a year, 500 expenses and a raise of the member's rates in June (set-based SQL, setup only), then the
//! organisation's P&L by month and `projects(first: 50) { financials }` through the real
//! HTTP endpoint: p50/p95 and statements per request.
//!
//! Run: `./dev bench finance`. `BENCH_ITERATIONS` (default 50) sets the samples per query.

#![allow(clippy::expect_used, reason = "benchmark code: a failed expectation is the run failing, with its message")]
#![allow(clippy::print_stdout)] // a benchmark reports its figures on stdout

use std::time::Instant;

use opsgraph_e2e::{TestApp, bench, portfolio};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

const PNL: &str = "{ organization { profitAndLoss(from: \"2025-12-01\", to: \"2026-11-30\") { month revenue { amount } \
    labourCost { amount } expenses { amount } margin { amount } } } }";
const FINANCIALS: &str = "{ organization { projects(first: 50) { nodes { key financials { invoiced { amount } \
    paid { amount } outstanding { amount } expenses { amount } labourCost { amount } margin { amount } marginPercent } } } } }";

const SEED: [&str; 5] = [
    "INSERT INTO accounts (id, org_id, name, status) SELECT gen_random_uuid(), $1, 'Client of ' || p.key, 'ACTIVE' \
     FROM projects p WHERE p.org_id = $1",
    "UPDATE projects p SET client_account_id = a.id FROM accounts a WHERE a.org_id = $1 AND a.name = 'Client of ' || p.key",
    "INSERT INTO member_rates (id, org_id, membership_id, valid, cost_rate, bill_rate) VALUES \
     (gen_random_uuid(), $1, $2, daterange(NULL, '2026-06-01'), 60, 150), \
     (gen_random_uuid(), $1, $2, daterange('2026-06-01', NULL), 66, 165)",
    "INSERT INTO invoices (id, org_id, kind, number, account_id, project_id, status, currency, issue_date, due_date, \
       subtotal, tax_total, total, paid_total, rate_to_org) \
     SELECT gen_random_uuid(), $1, 'INVOICE', 'INV-B-' || lpad(g::text, 5, '0'), p.client_account_id, p.id, \
       (ARRAY['PAID','PARTIALLY_PAID','SENT'])[1 + g % 3], 'USD', d, d + 30, 1000, 200, 1200, \
       (ARRAY[1200, 600, 0])[1 + g % 3], 1 \
     FROM (SELECT p.*, row_number() OVER (ORDER BY p.id) AS rn FROM projects p WHERE p.org_id = $1) p \
     JOIN generate_series(1, 2000) g ON g % 50 = p.rn - 1 \
     CROSS JOIN LATERAL (SELECT date '2025-12-01' + (g % 360) AS d) x",
    "INSERT INTO expenses (id, org_id, member_id, project_id, category, description, amount, currency, spent_on, status, \
       rate_to_org) \
     SELECT gen_random_uuid(), $1, $2, p.id, 'TRAVEL', 'Trip ' || g, 80 + g % 40, 'USD', date '2025-12-01' + (g % 360), \
       'APPROVED', 1 \
     FROM (SELECT p.*, row_number() OVER (ORDER BY p.id) AS rn FROM projects p WHERE p.org_id = $1) p \
     JOIN generate_series(1, 500) g ON g % 50 = p.rn - 1",
];

async fn measure(app: &TestApp, token: &str, name: &str, query: &str, n: usize) {
    println!("{}", bench::measure(app, token, query, serde_json::json!({}), n).await.line(name));
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("BENCH_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let app = TestApp::spawn().await;
    let (token, _) = app.sign_up("bench@example.com", "Finance Bench Co").await;
    let (org, me) = portfolio::owner_ids(&app.pool, "bench@example.com").await.expect("ids");
    let t = Instant::now();
    portfolio::seed(&app.pool, org, me, 50, 200).await.expect("portfolio");
    for sql in SEED {
        app.pool
            .execute_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, [org.into(), me.into()]))
            .await
            .expect("seed");
    }
    app.pool.execute_unprepared("ANALYZE").await.expect("analyze");
    let count = |t: &str| format!("SELECT count(*) AS n FROM {t}");
    println!(
        "seeded {} projects, {} time entries, {} invoices, {} expenses in {:.1} s; {n} samples per query",
        app.count(&count("projects")).await,
        app.count(&count("time_entries")).await,
        app.count(&count("invoices")).await,
        app.count(&count("expenses")).await,
        t.elapsed().as_secs_f64()
    );
    measure(&app, &token, "P&L: 12 months", PNL, n).await;
    measure(&app, &token, "projects(first: 50) { financials }", FINANCIALS, n).await;
    app.finish().await;
}
