//! Nested connections: one page per parent, for a whole level of parents in one
//! statement.

use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Func, JoinType, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, ModelTrait, QueryFilter, QuerySelect, QueryTrait, Select};
use uuid::Uuid;

use super::{Connection, ListQuery, ListSpec, finish};
use crate::error::AppResult;

/// One page per parent in one statement, plus one grouped count when `totalCount` is
/// selected. Parents without rows get an empty page.
///
/// For one parent the statement is that parent's page. For several it is a `LATERAL` join
/// over their ids, passed as one array: `FROM unnest($1) AS __p JOIN LATERAL (SELECT …
/// WHERE partition = __p … ORDER BY … LIMIT n) ON true`. Each parent's page stops at its
/// limit on the index (a window over every child of every parent sorted them all), and
/// the text is the same for any number of parents, so PostgreSQL keeps one generic plan
/// (the array is padded so that it does: [`crate::loader::keys_array`]).
pub async fn page_per_parent<E, C>(
    db: &C,
    spec: &ListSpec<E>,
    q: &ListQuery,
    base: Select<E>,
    partition: E::Column,
    parents: &[Uuid],
) -> AppResult<HashMap<Uuid, Connection>>
where
    E: EntityTrait,
    E::Model: Send + Sync + 'static,
    C: ConnectionTrait,
{
    let totals = if q.want_total {
        let of_parents = q.filtered(spec, base.clone().filter(crate::loader::any_of(partition, parents)))?;
        totals_per_parent(db, of_parents, partition).await?
    } else {
        HashMap::new()
    };
    let stmt = statement(spec, q, base, partition, parents)?;
    let rows = db.query_all_raw(db.get_database_backend().build(&stmt)).await?;
    // The join runs the subquery once per parent, in a nested loop, so each parent's rows
    // arrive together and in the subquery's order.
    let mut grouped: HashMap<Uuid, Vec<E::Model>> = HashMap::new();
    for model in crate::projection::models::<E>(&rows)? {
        if let sea_orm::Value::Uuid(Some(parent)) = model.get(partition) {
            grouped.entry(parent).or_default().push(model);
        }
    }
    parents
        .iter()
        .map(|p| {
            let rows = grouped.remove(p).unwrap_or_default();
            let total = q.want_total.then(|| totals.get(p).copied().unwrap_or(0));
            Ok((*p, finish(spec, q, rows, total)?))
        })
        .collect()
}

/// The statement of [`page_per_parent`] (see there).
fn statement<E: EntityTrait>(
    spec: &ListSpec<E>,
    q: &ListQuery,
    base: Select<E>,
    partition: E::Column,
    parents: &[Uuid],
) -> AppResult<SelectStatement> {
    let parent_col = Expr::col(partition.as_column_ref());
    if let [one] = parents {
        // One parent: a plain page, which PostgreSQL plans once like any other.
        return ordered_page(spec, q, base.filter(parent_col.eq(*one)), partition);
    }
    let outer_key = (Alias::new(PARENTS), Alias::new(PARENTS));
    let inner = ordered_page(spec, q, base.filter(parent_col.equals(outer_key)), partition)?;
    let mut outer = Query::select();
    outer
        .column((Alias::new(PAGE), Asterisk))
        .from_function(
            Func::cust(Alias::new("unnest")).arg(Expr::val(crate::loader::keys_array(parents))),
            Alias::new(PARENTS),
        )
        .join_lateral(JoinType::InnerJoin, inner, Alias::new(PAGE), Expr::cust("true"));
    Ok(outer)
}

/// The statement of one parent's page: `scoped` (the base narrowed to the parent)
/// filtered, after its cursors, ordered, limited, reading the selection's columns.
fn ordered_page<E: EntityTrait>(
    spec: &ListSpec<E>,
    q: &ListQuery,
    scoped: Select<E>,
    partition: E::Column,
) -> AppResult<SelectStatement> {
    Ok(super::page_select(spec, q, q.filtered(spec, scoped)?, Some(partition))?.into_query())
}

/// Alias of the parents' ids (the table and its one column) in [`page_per_parent`].
const PARENTS: &str = "__p";
/// Alias of the per-parent subquery in [`page_per_parent`].
const PAGE: &str = "__page";

/// `totalCount` of each parent: the rows of `of_parents` (the parents' children, filtered)
/// counted by `partition`, in one grouped statement.
async fn totals_per_parent<E: EntityTrait, C: ConnectionTrait>(
    db: &C,
    of_parents: Select<E>,
    partition: E::Column,
) -> AppResult<HashMap<Uuid, i64>> {
    let rows: Vec<(Uuid, i64)> = of_parents
        .select_only()
        .column(partition)
        .column_as(Expr::cust("COUNT(*)"), "n")
        .group_by(partition)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "items")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub parent_id: Uuid,
        pub rank: i32,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}

    fn spec() -> ListSpec<Entity> {
        ListSpec {
            node: "Item",
            id: Column::Id,
            filters: vec![],
            sorts: vec![super::super::sk("RANK", Column::Rank, super::super::SortKind::Int)],
            default_sort: "RANK",
            aggregates: vec![],
            groups: vec![],
            lean: vec![],
        }
    }

    fn sql(parents: usize) -> String {
        let spec = spec();
        let ids: Vec<Uuid> = (0..parents).map(|_| Uuid::now_v7()).collect();
        let stmt = statement(&spec, &ListQuery::all(&spec), Entity::find(), Column::ParentId, &ids);
        DbBackend::Postgres.build(&stmt.expect("statement")).sql
    }

    #[test]
    fn several_parents_share_one_statement_text() {
        let two = sql(2);
        assert_eq!(two, sql(7));
        assert_eq!(two, sql(100));
        assert!(two.contains("FROM unnest($1) AS \"__p\" INNER JOIN LATERAL"), "{two}");
        assert!(two.contains("\"items\".\"parent_id\" = \"__p\".\"__p\""), "{two}");
        assert!(two.contains("ORDER BY \"items\".\"rank\" ASC, \"items\".\"id\" ASC LIMIT $2"), "{two}");
    }

    #[test]
    fn one_parent_is_a_plain_page() {
        let one = sql(1);
        assert!(!one.contains("LATERAL"), "{one}");
        assert!(one.contains("WHERE \"items\".\"parent_id\" = $1 ORDER BY"), "{one}");
        assert!(one.ends_with("LIMIT $2"), "{one}");
    }
}
