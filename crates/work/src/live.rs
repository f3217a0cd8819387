//! Who may follow a project live: members whose current role allows reading work and who
//! either manage work (owner, admin, manager) or are on the project (its manager or staffed
//! on it). Re-checked for every event, so a member taken off a project stops receiving its
//! events with the next one.

use std::collections::HashMap;

use opsgraph_core::batch::Loader;
use opsgraph_core::live::Scope;
use opsgraph_core::loader::LoadError;
use opsgraph_core::{AppError, AppResult, Permission, Role, Session, Tenant, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

/// Whether a member is on a project (its manager or staffed), keyed by
/// `(membership, project)`; one statement per batch of subscribers.
pub struct OnProject {
    pool: DatabaseConnection,
    org: Uuid,
}

impl OnProject {
    /// For `org`, reading from `pool`.
    pub fn new(pool: DatabaseConnection, org: Uuid) -> Self {
        OnProject { pool, org }
    }
}

impl Loader<(Uuid, Uuid)> for OnProject {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), bool>, LoadError> {
        let err = opsgraph_core::loader::db_error;
        let members: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
        let projects: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
        let db =
            TxDb::begin(&self.pool, &Tenant { org_id: Some(self.org), ..Default::default() }).await.map_err(err)?;
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT k.m, k.p FROM unnest($2::uuid[], $3::uuid[]) AS k(m, p) \
                 WHERE EXISTS (SELECT 1 FROM projects p WHERE p.org_id = $1 AND p.id = k.p AND p.manager_id = k.m) \
                    OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.org_id = $1 AND pm.project_id = k.p \
                               AND pm.membership_id = k.m)",
                [self.org.into(), members.into(), projects.into()],
            ))
            .await
            .map_err(err)?;
        db.commit().await.map_err(err)?;
        let mut out: HashMap<(Uuid, Uuid), bool> = keys.iter().map(|k| (*k, false)).collect();
        for r in rows {
            out.insert((r.try_get("", "m").map_err(err)?, r.try_get("", "p").map_err(err)?), true);
        }
        Ok(out)
    }
}

/// The rule, given the current role and whether the member is on the project.
pub fn may_follow(role: Role, on_project: bool) -> bool {
    role.allows(Permission::WorkRead) && (role.allows(Permission::WorkManage) || on_project)
}

/// Re-checks that `session` may still follow `project` (tenant, membership, role, staffing).
pub async fn recheck_project(scope: &Scope, session: &Session, project: Uuid) -> AppResult<()> {
    let role = opsgraph_org::live::recheck(scope, session, Permission::WorkRead).await?;
    let on_project = match session.membership_id {
        Some(m) if !role.allows(Permission::WorkManage) => scope
            .loader(OnProject::new)
            .load_one((m, project))
            .await
            .map_err(|e| opsgraph_core::loader::failed(&e))?
            .unwrap_or(false),
        _ => false,
    };
    if may_follow(role, on_project) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the people on a project and managers may follow it live".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn who_may_follow_a_project() {
        assert!(may_follow(Role::Manager, false));
        assert!(may_follow(Role::Member, true));
        assert!(!may_follow(Role::Member, false));
        assert!(may_follow(Role::Viewer, true));
        assert!(!may_follow(Role::Client, true));
    }
}
