//! The overdue job: an issued invoice past its due date with something still open raises
//! `invoice.overdue` once, notifying the account's owner and the project's manager. The
//! mark (`overdue_notified_on`) is set by the same UPDATE that picks the invoice, so
//! several instances running the job at once announce each invoice once.

use chrono::NaiveDate;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::{AppResult, Session, Tenant, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

/// Announces the invoices overdue on `today` in every organisation; returns how many.
pub async fn run(pool: &DatabaseConnection, today: NaiveDate) -> AppResult<usize> {
    let mut n = 0;
    for org in opsgraph_org::service::organization::scheduled_ids(pool).await? {
        let db = TxDb::begin(pool, &Tenant { org_id: Some(org), ..Default::default() }).await?;
        n += run_org(&db, org, today).await?;
        db.commit().await?;
    }
    Ok(n)
}

async fn run_org(db: &TxDb, org: Uuid, today: NaiveDate) -> AppResult<usize> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE invoices SET overdue_notified_on = $2 \
             WHERE org_id = $1 AND kind = 'INVOICE' AND status IN ('ISSUED','SENT','PARTIALLY_PAID') \
               AND due_date < $2 AND overdue_notified_on IS NULL \
             RETURNING id, number, account_id, project_id, due_date, currency, \
               (total - paid_total - credited_total)::text AS open",
            [org.into(), today.into()],
        ))
        .await?;
    let session = Session::anonymous("overdue");
    for r in &rows {
        let number: Option<String> = r.try_get("", "number")?;
        let project: Option<Uuid> = r.try_get("", "project_id")?;
        let account = opsgraph_crm::service::accounts::get(db, org, r.try_get("", "account_id")?).await?;
        let mut recipients: Vec<Uuid> = account.owner_id.into_iter().collect();
        if let Some(p) = project {
            let manager = opsgraph_work::service::projects::get(db, org, p).await?.manager_id;
            recipients.extend(manager.filter(|m| !recipients.contains(m)));
        }
        let due: NaiveDate = r.try_get("", "due_date")?;
        let title =
            format!("Invoice {} to {} is overdue (due {due})", number.clone().unwrap_or_default(), account.name);
        let event = DomainEvent {
            kind: "invoice.overdue",
            subject_type: "Invoice",
            subject_id: r.try_get("", "id")?,
            project_id: project,
            recipients,
            audience: vec![],
            data: serde_json::json!({
                "number": number, "dueDate": due, "open": r.try_get::<String>("", "open")?,
                "currency": r.try_get::<String>("", "currency")?,
                "notify": { "kind": "WARNING", "title": title }
            }),
        };
        opsgraph_core::events::emit(db, &session, org, event).await?;
    }
    Ok(rows.len())
}
