//! Loaders the work crate offers beyond the generic ones.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use opsgraph_core::TxDb;
use opsgraph_core::loader::LoadError;
use rust_decimal::Decimal;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

/// Task counts and estimate sums of one status column of a project.
#[derive(Debug, Clone)]
pub struct StatusStat {
    /// The status.
    pub status: String,
    /// Live tasks in it.
    pub count: i64,
    /// Sum of their estimates.
    pub estimate_hours: Decimal,
}

/// Per-project board aggregates for many projects in one `GROUP BY`.
pub struct TaskStatsByProject(pub Arc<TxDb>);

impl Loader<Uuid> for TaskStatsByProject {
    type Value = Vec<StatusStat>;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, Vec<StatusStat>>, LoadError> {
        let rows = self
            .0
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT project_id, status, count(*) AS n, coalesce(sum(estimate_hours), 0) AS est FROM tasks \
                 WHERE project_id = ANY($1) AND deleted_at IS NULL GROUP BY project_id, status",
                [keys.to_vec().into()],
            ))
            .await
            .map_err(|e| Arc::new(e.to_string()))?;
        let mut out: HashMap<Uuid, Vec<StatusStat>> = HashMap::new();
        for r in rows {
            let get = || -> Result<(Uuid, StatusStat), sea_orm::DbErr> {
                Ok((
                    r.try_get("", "project_id")?,
                    StatusStat {
                        status: r.try_get("", "status")?,
                        count: r.try_get("", "n")?,
                        estimate_hours: r.try_get("", "est")?,
                    },
                ))
            };
            let (p, s) = get().map_err(|e| Arc::new(e.to_string()))?;
            out.entry(p).or_default().push(s);
        }
        Ok(out)
    }
}
