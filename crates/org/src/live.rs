//! The org domain's part of the live path: the inbox as a live source (notifications as
//! the dispatcher commits them) and the permission re-check every live event passes —
//! the subscriber must still be an active member (or an unrevoked, unexpired API key) whose
//! *current* role allows what the stream needs.

use std::collections::HashMap;

use opsgraph_core::batch::Loader;
use opsgraph_core::live::{Scope, Source, org_rows};
use opsgraph_core::loader::LoadError;
use opsgraph_core::{Actor, AppError, AppResult, Permission, Role, Session, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

/// The NOTIFY channel on which the dispatcher announces new notifications.
pub const INBOX_CHANNEL: &str = "opsgraph_inbox";

/// A committed notification, positioned by the event it came from.
#[derive(Debug, Clone)]
pub struct InboxItem {
    /// The event's sequence number.
    pub seq: i64,
    /// The notification.
    pub id: Uuid,
    /// Whose it is.
    pub membership_id: Uuid,
}

/// Notifications of an organisation in event order (the dispatcher commits them in that
/// order: one dispatcher per organisation at a time, events in sequence).
pub struct Inbox;

impl Source for Inbox {
    type Item = InboxItem;
    const CHANNEL: &'static str = INBOX_CHANNEL;
    const GAPLESS: bool = false;

    fn seq(item: &InboxItem) -> i64 {
        item.seq
    }

    async fn fetch(&self, db: &TxDb, org: Uuid, after: i64, limit: i64) -> AppResult<Vec<InboxItem>> {
        // Whole events per page: the notifications of one event are never split.
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "WITH s AS (SELECT DISTINCT event_seq FROM notifications \
                   WHERE org_id = $1 AND event_seq > $2 ORDER BY event_seq LIMIT $3) \
                 SELECT id, membership_id, event_seq FROM notifications \
                 WHERE org_id = $1 AND event_seq IN (SELECT event_seq FROM s) ORDER BY event_seq, id",
                [org.into(), after.into(), limit.into()],
            ))
            .await?;
        rows.iter()
            .map(|r| {
                Ok(InboxItem {
                    seq: r.try_get("", "event_seq")?,
                    id: r.try_get("", "id")?,
                    membership_id: r.try_get("", "membership_id")?,
                })
            })
            .collect()
    }

    async fn head(&self, db: &TxDb, org: Uuid) -> AppResult<i64> {
        let row = db
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT coalesce(max(event_seq), 0) AS head FROM notifications WHERE org_id = $1",
                [org.into()],
            ))
            .await?
            .ok_or_else(|| AppError::internal("head query returned no row"))?;
        Ok(row.try_get("", "head")?)
    }
}

/// Who holds a live subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Principal {
    /// A member (signed-in user).
    Member(Uuid),
    /// An API key.
    ApiKey(Uuid),
}

impl Principal {
    /// The principal of `session`, if it has one in an organisation.
    pub fn of(session: &Session) -> Option<Principal> {
        match (&session.actor, session.membership_id) {
            (Actor::User { .. }, Some(m)) => Some(Principal::Member(m)),
            (Actor::ApiKey { key_id }, _) => Some(Principal::ApiKey(*key_id)),
            _ => None,
        }
    }
}

/// Current roles of principals of one organisation: active members of active users, and
/// unrevoked, unexpired keys (absent otherwise). One statement per batch.
pub struct Grants {
    pool: DatabaseConnection,
    org: Uuid,
}

impl Grants {
    /// For `org`, reading from `pool`.
    pub fn new(pool: DatabaseConnection, org: Uuid) -> Self {
        Grants { pool, org }
    }
}

impl Loader<Principal> for Grants {
    type Value = Role;
    type Error = LoadError;

    async fn load(&self, keys: &[Principal]) -> Result<HashMap<Principal, Role>, LoadError> {
        let err = opsgraph_core::loader::db_error;
        let (mut members, mut api_keys) = (vec![], vec![]);
        for k in keys {
            match k {
                Principal::Member(m) => members.push(*m),
                Principal::ApiKey(k) => api_keys.push(*k),
            }
        }
        let sql = "SELECT m.id, m.role, false AS is_key FROM memberships m JOIN users u ON u.id = m.user_id \
                   WHERE m.org_id = $1 AND m.id = ANY($2) AND m.is_active AND u.is_active AND u.deleted_at IS NULL \
                   UNION ALL \
                   SELECT k.id, k.scope, true FROM api_keys k WHERE k.org_id = $1 AND k.id = ANY($3) \
                     AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > now())";
        let rows =
            org_rows(&self.pool, self.org, None, sql, vec![self.org.into(), members.into(), api_keys.into()]).await?;
        let mut out = HashMap::new();
        for r in rows {
            let id: Uuid = r.try_get("", "id").map_err(err)?;
            let role: String = r.try_get("", "role").map_err(err)?;
            let (principal, role) = if r.try_get::<bool>("", "is_key").map_err(err)? {
                (Principal::ApiKey(id), Some(crate::service::auth::key_role(&role)))
            } else {
                (Principal::Member(id), Role::parse(&role))
            };
            if let Some(role) = role {
                out.insert(principal, role);
            }
        }
        Ok(out)
    }
}

/// Active members of one organisation by user (active user, active membership): their
/// membership and role. One statement per batch of (re)connecting sockets.
pub struct ActiveMembers {
    pool: DatabaseConnection,
    org: Uuid,
}

impl ActiveMembers {
    /// For `org`, reading from `pool`.
    pub fn new(pool: DatabaseConnection, org: Uuid) -> Self {
        ActiveMembers { pool, org }
    }
}

impl Loader<Uuid> for ActiveMembers {
    type Value = (Uuid, Role);
    type Error = LoadError;

    async fn load(&self, users: &[Uuid]) -> Result<HashMap<Uuid, (Uuid, Role)>, LoadError> {
        let err = opsgraph_core::loader::db_error;
        let sql = "SELECT m.user_id, m.id, m.role FROM memberships m JOIN users u ON u.id = m.user_id \
                   WHERE m.org_id = $1 AND m.user_id = ANY($2) AND m.is_active AND u.is_active AND u.deleted_at IS NULL";
        let rows =
            org_rows(&self.pool, self.org, None, sql, vec![self.org.into(), opsgraph_core::loader::keys_array(users)])
                .await?;
        let mut out = HashMap::new();
        for r in rows {
            let role: String = r.try_get("", "role").map_err(err)?;
            if let Some(role) = Role::parse(&role) {
                out.insert(r.try_get("", "user_id").map_err(err)?, (r.try_get("", "id").map_err(err)?, role));
            }
        }
        Ok(out)
    }
}

/// Re-checks, for one live item of `scope`'s organisation, that `session` still may `perm`
/// there (tenant, active membership or key, current role); returns the current role.
pub async fn recheck(scope: &Scope, session: &Session, perm: Permission) -> AppResult<Role> {
    if session.org_id != Some(scope.org_id()) {
        return Err(AppError::Forbidden("not a member of this organisation".into()));
    }
    let principal = Principal::of(session).ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
    let role = scope
        .loader(Grants::new)
        .load_one(principal)
        .await
        .map_err(|e| opsgraph_core::loader::failed(&e))?
        .ok_or_else(|| AppError::Forbidden("your access to this organisation has ended".into()))?;
    if !role.allows(perm) {
        return Err(AppError::Forbidden(format!("missing permission {perm:?}")));
    }
    Ok(role)
}

/// A subscription to the events of a parent's children (a collection's documents, a
/// pipeline's deals, a conversation's messages), resumable with `after`: the parent node
/// named by argument `arg` must be visible to the subscriber when it starts (NOT_FOUND
/// otherwise, through its type's own node fetch and Row Level Security); events are those
/// of `subject` nodes whose data's `key` is the parent's global ID; `perm` is re-checked
/// before each delivery (losing it ends the stream with FORBIDDEN).
pub async fn follow_children<'a, P: opsgraph_core::node::NodeType>(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
    arg: &str,
    perm: Permission,
    subject: &'static str,
    key: &'static str,
) -> async_graphql::Result<
    futures_util::stream::BoxStream<'a, async_graphql::Result<async_graphql::dynamic::FieldValue<'a>>>,
> {
    follow_children_where::<P>(ctx, (arg, perm), (subject, key), None).await
}

/// Whether a subscriber (its membership, with its current role) may still see a parent:
/// batched by the delivery's scope.
pub type StillVisible =
    fn(std::sync::Arc<Scope>, Uuid, (Uuid, Role)) -> futures_util::future::BoxFuture<'static, AppResult<bool>>;

/// [`follow_children`] that also asks `visible(scope, parent, (member, role))` before each
/// delivery (a member removed from a private channel stops receiving at once; the stream
/// ends with FORBIDDEN).
pub async fn follow_children_where<'a, P: opsgraph_core::node::NodeType>(
    ctx: &async_graphql::dynamic::ResolverContext<'_>,
    (arg, perm): (&str, Permission),
    (subject, key): (&'static str, &'static str),
    visible: Option<StillVisible>,
) -> async_graphql::Result<
    futures_util::stream::BoxStream<'a, async_graphql::Result<async_graphql::dynamic::FieldValue<'a>>>,
> {
    use opsgraph_core::live::{Hub, LiveSession, Outbox, after_arg, follow};
    let raw = ctx.args.try_get(arg)?.string()?.to_owned();
    let parent = P::decode(&raw, arg)?;
    let live = LiveSession::of(ctx)?;
    let session = live.session.clone();
    let org = session.require(perm)?;
    let after = after_arg(ctx)?;
    let db = std::sync::Arc::new(TxDb::begin(&live.pool, &live.tenant()).await?);
    let req = opsgraph_core::RequestCtx::new(Session::clone(&session), db);
    let registry = opsgraph_core::gql::NodeRegistry::of(ctx)?;
    let found = registry.fetch_nodes(req, vec![(P::NAME.to_owned(), parent)]).await?;
    if !matches!(found.first(), Some(Some(_))) {
        return Err(AppError::not_found(P::NAME).into());
    }
    let hub = ctx.data::<Hub<Outbox>>().map_err(|_| AppError::internal("event hub missing"))?;
    let started = recheck(&hub.start_scope(org), &session, perm).await?;
    let gid = P::gid(parent);
    let cursor = hub
        .subscribe(live.tenant(), org, after)
        .await?
        .keep(move |e| e.subject_type == subject && e.data.get(key).and_then(|v| v.as_str()) == Some(gid.as_str()));
    Ok(follow(ctx, cursor, move |d| {
        let session = session.clone();
        async move {
            let forbidden = || AppError::Forbidden(format!("you no longer see this {}", P::NAME));
            let Some(check) = visible else {
                recheck(&d.scope, &session, perm).await?;
                return Ok(true);
            };
            let Some(member) = session.membership_id else {
                recheck(&d.scope, &session, perm).await?;
                return Err(forbidden());
            };
            // Both checks in one batch round: visibility under the role the stream started
            // with, asked again only if the role has changed since.
            let (role, seen) = futures_util::future::join(
                recheck(&d.scope, &session, perm),
                check(d.scope.clone(), parent, (member, started)),
            )
            .await;
            let role = role?;
            let seen = if role == started { seen? } else { check(d.scope.clone(), parent, (member, role)).await? };
            if seen { Ok(true) } else { Err(forbidden()) }
        }
    })?)
}
