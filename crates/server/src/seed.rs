//! Demo data: each domain seeds its own part through its services (`opsgraph_org::seed`,
//! `opsgraph_work::seed`); this only runs them, one transaction per organisation.

use opsgraph_core::{Tenant, TxDb};
use sea_orm::DatabaseConnection;

pub use opsgraph_org::seed::DEMO_PASSWORD;

/// Loads the demo organisations unless they exist already.
pub async fn demo(pool: &DatabaseConnection, config: &crate::config::Config) -> anyhow::Result<()> {
    let auth = &config.auth();
    let sealer = opsgraph_core::secrets::Sealer::from_hex(&config.secret_key).map_err(|e| anyhow::anyhow!(e))?;
    // The demo receiver is local: allowed here whatever the server's SSRF setting.
    let hooks = opsgraph_org::service::webhooks::Webhooks::new(std::sync::Arc::new(sealer), true);
    if opsgraph_org::seed::present(pool).await.map_err(|e| anyhow::anyhow!("{e:?}"))? {
        tracing::info!("demo data already present");
        return Ok(());
    }
    let metrics = opsgraph_schema::metrics().map_err(|e| anyhow::anyhow!(e))?;
    // Saved queries are only checked here (parsed, within the limits), never run.
    let cost = std::sync::Arc::new(crate::cost::CostLimiter::new(config.cost_budget, config.cost_refill_per_sec));
    let runner = opsgraph_core::query_runner::Runner(crate::runner::SchemaRunner::new(config.limits(), cost, false));
    for (org_plan, work_plan) in opsgraph_org::seed::PLANS.iter().zip(&opsgraph_work::seed::PLANS) {
        let db = TxDb::begin(pool, &Tenant::default()).await?;
        let seeded = async {
            let org = opsgraph_org::seed::organisation(&db, auth, org_plan).await?;
            opsgraph_org::seed::webhook(&db, &org, &hooks).await?;
            let projects = opsgraph_work::seed::work(&db, &org, work_plan).await?;
            opsgraph_crm::seed::crm(&db, auth, &org, &projects).await?;
            opsgraph_finance::seed::finance(&db, &org, &projects).await?;
            let handbook = opsgraph_knowledge::seed::knowledge(&db, &org).await?;
            let delivery =
                projects.first().map(|p| p.id).ok_or_else(|| opsgraph_core::AppError::internal("no demo project"))?;
            opsgraph_ai::seed::ai(&db, &org, handbook, delivery).await?;
            opsgraph_org::seed::reporting(&db, &org, &metrics, &runner).await
        };
        seeded.await.map_err(|e| anyhow::anyhow!("seeding {}: {e:?}", org_plan.org))?;
        db.commit().await?;
        tracing::info!(org = org_plan.org, "demo organisation loaded");
    }
    Ok(())
}
