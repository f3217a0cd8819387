//! Who may follow a project live: members whose current role allows reading work and who
//! either manage work (owner, admin, manager) or are on the project (its manager or staffed
//! on it). Re-checked for every event, so a member taken off a project stops receiving its
//! events with the next one.

use std::collections::HashMap;

use opsgraph_core::batch::Loader;
use opsgraph_core::live::{Scope, org_rows};
use opsgraph_core::loader::LoadError;
use opsgraph_core::{AppError, AppResult, Permission, Role, Session, TxDb};
use sea_orm::DatabaseConnection;
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
        let sql = "SELECT k.a, k.b FROM unnest($2::uuid[], $3::uuid[]) AS k(a, b) \
                   WHERE EXISTS (SELECT 1 FROM projects p WHERE p.org_id = $1 AND p.id = k.b AND p.manager_id = k.a) \
                      OR EXISTS (SELECT 1 FROM project_members pm WHERE pm.org_id = $1 AND pm.project_id = k.b \
                                 AND pm.membership_id = k.a)";
        pairs_where(&self.pool, self.org, None, sql, keys).await
    }
}

/// Which projects of an organisation exist (not deleted), for the subscriptions starting
/// at once: one statement per batch.
pub struct LiveProjects {
    pool: DatabaseConnection,
    org: Uuid,
}

impl LiveProjects {
    /// For `org`, reading from `pool`.
    pub fn new(pool: DatabaseConnection, org: Uuid) -> Self {
        LiveProjects { pool, org }
    }
}

impl Loader<Uuid> for LiveProjects {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, bool>, LoadError> {
        let sql = "SELECT id FROM projects WHERE org_id = $1 AND id = ANY($2) AND deleted_at IS NULL";
        ids_where(&self.pool, self.org, None, sql, keys).await
    }
}

/// Checks that `session` may start following `project`: it exists (NOT_FOUND otherwise)
/// and the rule of [`recheck_project`] holds, both in `scope`'s batch (the starts of one
/// organisation share it). A client's view of projects is narrower: it reads in a
/// transaction of its own, under its Row Level Security.
pub async fn start_project(scope: &Scope, session: &Session, project: Uuid) -> AppResult<()> {
    if session.role == Some(Role::Client) {
        let db = TxDb::begin(scope.pool(), &session.tenant()).await?;
        let found = crate::service::projects::get(&db, scope.org_id(), project).await;
        db.rollback().await?;
        found?;
        return recheck_project(scope, session, project).await;
    }
    let exists = async { scope.loader(LiveProjects::new).load_one(project).await };
    let (exists, allowed) = futures_util::future::join(exists, recheck_project(scope, session, project)).await;
    if !exists.map_err(|e| opsgraph_core::loader::failed(&e))?.unwrap_or(false) {
        return Err(AppError::not_found("project"));
    }
    allowed
}

/// Which of the pairs `keys` satisfy `sql` (selecting `a, b` from `unnest($2, $3)`, with
/// the organisation as `$1`), in one transaction of `org` (as `system` when given).
async fn pairs_where(
    pool: &DatabaseConnection,
    org: Uuid,
    system: Option<&str>,
    sql: &str,
    keys: &[(Uuid, Uuid)],
) -> Result<HashMap<(Uuid, Uuid), bool>, LoadError> {
    let err = opsgraph_core::loader::db_error;
    let (a, b): (Vec<Uuid>, Vec<Uuid>) = keys.iter().copied().unzip();
    let rows = org_rows(pool, org, system, sql, vec![org.into(), a.into(), b.into()]).await?;
    let mut out: HashMap<(Uuid, Uuid), bool> = keys.iter().map(|k| (*k, false)).collect();
    for r in rows {
        out.insert((r.try_get("", "a").map_err(err)?, r.try_get("", "b").map_err(err)?), true);
    }
    Ok(out)
}

/// Which of `keys` satisfy `sql` (selecting `id`, with the organisation as `$1` and the
/// keys as `$2`), in one transaction of `org` (as `system` when given).
async fn ids_where(
    pool: &DatabaseConnection,
    org: Uuid,
    system: Option<&str>,
    sql: &str,
    keys: &[Uuid],
) -> Result<HashMap<Uuid, bool>, LoadError> {
    let err = opsgraph_core::loader::db_error;
    let rows = org_rows(pool, org, system, sql, vec![org.into(), opsgraph_core::loader::keys_array(keys)]).await?;
    let mut out: HashMap<Uuid, bool> = keys.iter().map(|k| (*k, false)).collect();
    for r in rows {
        out.insert(r.try_get("", "id").map_err(err)?, true);
    }
    Ok(out)
}

/// The rule, given the current role and whether the member is on the project.
pub fn may_follow(role: Role, on_project: bool) -> bool {
    role.allows(Permission::WorkRead) && (role.allows(Permission::WorkManage) || on_project)
}

/// Re-checks that `session` may still follow `project` (tenant, membership, role, staffing).
pub async fn recheck_project(scope: &Scope, session: &Session, project: Uuid) -> AppResult<()> {
    // Role and staffing in the same batch round (staffing is read for members whatever
    // their role: a manager's answer is then unused, but nobody waits a second round).
    let staffed = async {
        match session.membership_id {
            Some(m) => scope.loader(OnProject::new).load_one((m, project)).await.map(|on| on.unwrap_or(false)),
            None => Ok(false),
        }
    };
    let (role, staffed) =
        futures_util::future::join(opsgraph_org::live::recheck(scope, session, Permission::WorkRead), staffed).await;
    let role = role?;
    let on_project = !role.allows(Permission::WorkManage) && staffed.map_err(|e| opsgraph_core::loader::failed(&e))?;
    if may_follow(role, on_project) {
        Ok(())
    } else {
        Err(AppError::Forbidden("only the people on a project and managers may follow it live".into()))
    }
}

/// Whether a member still sees a chat channel, keyed by `(channel, membership)`: the rule
/// of the channels' Row Level Security (public and not a project's; a member; a public
/// project channel and its manager or staffed on it), read as the chat system in one
/// statement per batch of subscribers. (Managers' access by role is decided before.)
pub struct SeesChannel {
    pool: DatabaseConnection,
    org: Uuid,
}

impl SeesChannel {
    /// For `org`, reading from `pool`.
    pub fn new(pool: DatabaseConnection, org: Uuid) -> Self {
        SeesChannel { pool, org }
    }
}

impl Loader<(Uuid, Uuid)> for SeesChannel {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[(Uuid, Uuid)]) -> Result<HashMap<(Uuid, Uuid), bool>, LoadError> {
        let sql = "SELECT k.a, k.b FROM unnest($2::uuid[], $3::uuid[]) AS k(a, b) JOIN channels ch ON ch.id = k.a \
                   WHERE ch.org_id = $1 AND ((ch.project_id IS NULL AND NOT ch.is_private) \
                    OR EXISTS (SELECT 1 FROM channel_members cm WHERE cm.channel_id = k.a AND cm.membership_id = k.b) \
                    OR (ch.project_id IS NOT NULL AND NOT ch.is_private AND (EXISTS (SELECT 1 FROM project_members pm \
                          WHERE pm.project_id = ch.project_id AND pm.membership_id = k.b) \
                        OR EXISTS (SELECT 1 FROM projects p WHERE p.id = ch.project_id AND p.manager_id = k.b))))";
        pairs_where(&self.pool, self.org, Some("chat"), sql, keys).await
    }
}

/// Whether a channel is a project's and not private, for many channels in one statement.
pub struct OpenProjectChannel {
    pool: DatabaseConnection,
    org: Uuid,
}

impl OpenProjectChannel {
    /// For `org`, reading from `pool`.
    pub fn new(pool: DatabaseConnection, org: Uuid) -> Self {
        OpenProjectChannel { pool, org }
    }
}

impl Loader<Uuid> for OpenProjectChannel {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, keys: &[Uuid]) -> Result<HashMap<Uuid, bool>, LoadError> {
        let sql = "SELECT id FROM channels WHERE org_id = $1 AND id = ANY($2) AND project_id IS NOT NULL \
                   AND NOT is_private";
        ids_where(&self.pool, self.org, Some("chat"), sql, keys).await
    }
}

/// Whether `member` (with `role`) still sees `channel`: work managers see every project
/// channel that is not private; otherwise [`SeesChannel`].
pub async fn channel_visible(
    scope: std::sync::Arc<Scope>,
    channel: Uuid,
    (member, role): (Uuid, Role),
) -> AppResult<bool> {
    if role.allows(Permission::WorkManage) {
        let open_project = scope.loader(OpenProjectChannel::new).load_one(channel).await;
        if open_project.map_err(|e| opsgraph_core::loader::failed(&e))?.unwrap_or(false) {
            return Ok(true);
        }
    }
    let seen = scope.loader(SeesChannel::new).load_one((channel, member)).await;
    Ok(seen.map_err(|e| opsgraph_core::loader::failed(&e))?.unwrap_or(false))
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
