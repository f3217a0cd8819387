//! The change feed: `changes(since:, types:)` reads the event outbox so a sync job pulls
//! everything that changed since its last run, in commit order, and resumes from the
//! cursor it was given. The outbox numbers events per organisation without gaps in
//! commit order, and each page is read in one statement (one snapshot), so a page never
//! skips an event that commits later with a smaller number.

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::auth::Permission;
use crate::context::RequestCtx;
use crate::db::TxDb;
use crate::error::{AppError, AppResult};
use crate::gql::{NodeRegistry, SchemaParts, datetime, gid_named, parent, prop, scalar};

/// The largest page.
pub const MAX_PAGE: i64 = 1000;
const DEFAULT_PAGE: i64 = 100;

/// One change: an event about a node.
#[derive(Debug, Clone)]
pub struct Change {
    /// Its position (the cursor after it).
    pub seq: i64,
    /// `<entity>.<verb>`.
    pub kind: String,
    /// The node's type.
    pub node_type: String,
    /// The node's id.
    pub node_id: Uuid,
    /// When it was committed.
    pub at: DateTime<Utc>,
}

/// A page of the feed.
#[derive(Debug, Clone)]
pub struct ChangePage {
    /// The changes, oldest first.
    pub changes: Vec<Change>,
    /// Where the next page starts (pass it as `since`).
    pub cursor: i64,
    /// Whether more changes were already committed past `cursor`.
    pub has_more: bool,
}

/// The changes of `types` (all when `None`) after `since`, at most `first`.
pub async fn page(db: &TxDb, org: Uuid, since: i64, types: Option<Vec<String>>, first: i64) -> AppResult<ChangePage> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT h.head, e.seq, e.kind, e.subject_type, e.subject_id, e.created_at \
             FROM (SELECT coalesce((SELECT last_seq FROM event_counters WHERE org_id = $1), 0) AS head) h \
             LEFT JOIN LATERAL (SELECT seq, kind, subject_type, subject_id, created_at FROM domain_events \
               WHERE org_id = $1 AND seq > $2 AND ($3::text[] IS NULL OR subject_type = ANY($3)) \
               ORDER BY seq LIMIT $4) e ON true ORDER BY e.seq",
            [org.into(), since.into(), types.into(), (first + 1).into()],
        ))
        .await?;
    let mut head = since;
    let mut changes = Vec::with_capacity(rows.len());
    for r in &rows {
        head = r.try_get("", "head")?;
        let Some(seq) = r.try_get::<Option<i64>>("", "seq")? else { continue };
        changes.push(Change {
            seq,
            kind: r.try_get("", "kind")?,
            node_type: r.try_get("", "subject_type")?,
            node_id: r.try_get("", "subject_id")?,
            at: r.try_get("", "created_at")?,
        });
    }
    let has_more = i64::try_from(changes.len()).unwrap_or(i64::MAX) > first;
    changes.truncate(usize::try_from(first).unwrap_or(usize::MAX));
    let cursor = if has_more { changes.last().map_or(since, |c| c.seq) } else { head.max(since) };
    Ok(ChangePage { changes, cursor, has_more })
}

fn args(ctx: &async_graphql::dynamic::ResolverContext<'_>) -> AppResult<(Option<i64>, Option<Vec<String>>, i64)> {
    let since = match ctx.args.get("since") {
        Some(v) if !v.is_null() => {
            let s = v.string().map_err(|_| AppError::bad_input("since", "since must be an EventSeq"))?;
            Some(s.parse::<i64>().map_err(|_| AppError::bad_input("since", "since must be an EventSeq"))?)
        }
        _ => None,
    };
    let types = match ctx.args.get("types") {
        Some(v) if !v.is_null() => {
            let list = v.list().map_err(|_| AppError::bad_input("types", "types must be a list"))?;
            Some(
                list.iter()
                    .map(|t| t.string().map(str::to_owned))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| AppError::bad_input("types", "types must be node type names"))?,
            )
        }
        _ => None,
    };
    let first = match ctx.args.get("first") {
        Some(v) if !v.is_null() => v.i64().map_err(|_| AppError::bad_input("first", "first must be an Int"))?,
        _ => DEFAULT_PAGE,
    };
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(AppError::bad_input("first", format!("first must be between 1 and {MAX_PAGE}")));
    }
    Ok((since, types, first))
}

fn changes_field() -> Field {
    Field::new("changes", TypeRef::named_nn("ChangePage"), |ctx| {
        FieldFuture::new(async move {
            let req = RequestCtx::of(&ctx)?;
            let org = req.require(Permission::Integrate)?;
            let (since, types, first) = args(&ctx)?;
            if let Some(types) = &types {
                let registry = NodeRegistry::of(&ctx)?;
                if let Some((i, t)) = types.iter().enumerate().find(|(_, t)| !registry.has(t)) {
                    return Err(AppError::bad_input(format!("types[{i}]"), format!("`{t}` is not a node type")).into());
                }
            }
            if let Some(s) = since {
                crate::live::check_resume(req.db.as_ref(), org, s, "since").await?;
            }
            let page = page(&req.db, org, since.unwrap_or(0), types, first).await?;
            Ok(Some(FieldValue::owned_any(page)))
        })
    })
    .argument(InputValue::new("since", TypeRef::named(scalar::EVENT_SEQ)).description(
        "The `cursor` of the previous page; omit it to start from the oldest retained change. It must lie \
         within the event retention window.",
    ))
    .argument(
        InputValue::new("types", TypeRef::List(Box::new(TypeRef::named_nn(TypeRef::STRING))))
            .description("Node type names to include (`[\"Task\", \"Project\"]`); omit for all."),
    )
    .argument(
        InputValue::new("first", TypeRef::named(TypeRef::INT))
            .description(format!("Page size, 1..{MAX_PAGE} (default {DEFAULT_PAGE}).")),
    )
    .description(
        "What changed since a cursor, in commit order, once each: the pull side of a sync (needs the Integrate \
         permission). Resume from the returned `cursor`.",
    )
}

fn node_field() -> Field {
    Field::new("node", TypeRef::named("Node"), |ctx| {
        FieldFuture::new(async move {
            let c = parent::<Change>(&ctx)?;
            Ok(NodeRegistry::of(&ctx)?.fetch_node(RequestCtx::of(&ctx)?, &c.node_type, c.node_id).await?)
        })
    })
    .description("The node as it is now; null when it was deleted since (or is not visible).")
}

/// Adds `changes` and its types.
pub fn register(parts: &mut SchemaParts) {
    let nn = TypeRef::named_nn;
    parts.object(
        Object::new("Change")
            .description("One committed change of a node.")
            .field(prop::<Change>("seq", nn(scalar::EVENT_SEQ), "Its position in the feed.", |c| {
                c.seq.to_string().into()
            }))
            .field(prop::<Change>(
                "kind",
                nn(TypeRef::STRING),
                "What happened, `<entity>.<verb>` (`task.updated`).",
                |c| c.kind.clone().into(),
            ))
            .field(prop::<Change>("type", nn(TypeRef::STRING), "The node's type.", |c| c.node_type.clone().into()))
            .field(prop::<Change>("id", nn(TypeRef::ID), "The node's global ID.", |c| {
                gid_named(&c.node_type, c.node_id)
            }))
            .field(prop::<Change>("occurredAt", nn(scalar::DATE_TIME), "When it was committed.", |c| {
                datetime(&c.at.fixed_offset())
            }))
            .field(node_field()),
    );
    parts.object(
        Object::new("ChangePage")
            .description("A page of the change feed.")
            .field(
                Field::new("changes", TypeRef::named_nn_list_nn("Change"), |ctx| {
                    FieldFuture::new(async move {
                        let p = parent::<ChangePage>(&ctx)?;
                        Ok(Some(FieldValue::list(p.changes.iter().map(|c| FieldValue::borrowed_any(c)))))
                    })
                })
                .description("The changes, oldest first."),
            )
            .field(prop::<ChangePage>("cursor", nn(scalar::EVENT_SEQ), "Pass it as `since` for the next page.", |p| {
                p.cursor.to_string().into()
            }))
            .field(prop::<ChangePage>("hasMore", nn(TypeRef::BOOLEAN), "More changes are already waiting.", |p| {
                p.has_more.into()
            })),
    );
    parts.query(changes_field());
}
