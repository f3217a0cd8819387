//! Pages that read only the columns their selection needs.
//!
//! A list declares, in [`crate::pagination::ListSpec::lean`], the columns each of its
//! plain fields reads. When every field selected on a page's nodes is declared there, the
//! page's statement reads those columns (plus the id, the order and the partition) and
//! puts a typed placeholder in place of every other one: the row still decodes into the
//! entity's model, and no selected field reads a placeholder. Any undeclared field (a
//! computed one, a relationship another domain adds) reads whole rows, so a missing
//! declaration costs speed, never correctness. Page rows are never shared with by-id
//! loaders, so a placeholder cannot reach another field.

mod decode;

pub(crate) use decode::models;
use sea_orm::sea_query::{ColumnType, Expr};
use sea_orm::{ColumnTrait, EntityTrait, IdenStatic, Iterable, QuerySelect, Select};

/// A mask that reads every column: whole rows, decoded by position (see [`models`]).
pub(crate) const WHOLE: u64 = u64::MAX;

/// Bit of `col` among the entity's columns (`None` past 64 columns).
pub(crate) fn bit<E: EntityTrait>(col: E::Column) -> Option<u64> {
    let name = col.as_str();
    let i = E::Column::iter().position(|c| c.as_str() == name)?;
    (i < 64).then(|| 1u64 << i)
}

/// The columns (a bit per column) that the fields named `selected` read, with `base`
/// (id and order); `None` when one of them is not declared in `lean`.
pub(crate) fn lean_mask<E: EntityTrait>(
    lean: &[(&'static str, Vec<E::Column>)],
    selected: &[&str],
    base: u64,
) -> Option<u64> {
    if lean.is_empty() {
        return None;
    }
    let mut mask = base;
    for name in selected {
        if matches!(*name, "id" | "__typename") {
            continue;
        }
        let (_, cols) = lean.iter().find(|(n, _)| n == name)?;
        for c in cols {
            mask |= bit::<E>(*c)?;
        }
    }
    Some(mask)
}

/// `sel` reading the columns of `mask` and a placeholder for every other column.
pub(crate) fn project<E: EntityTrait>(sel: Select<E>, mask: u64) -> Select<E> {
    let mut sel = sel.select_only();
    for (i, col) in E::Column::iter().enumerate() {
        sel = match unread(i, col, mask) {
            Some(p) => sel.column_as(Expr::cust(p), col.as_str()),
            None => sel.column(col),
        };
    }
    sel
}

/// The placeholder that stands for column `i` of a statement reading `mask`; `None` when
/// the column itself is read (it is in `mask`, past the 64th, or its type has none).
fn unread<C: ColumnTrait>(i: usize, col: C, mask: u64) -> Option<&'static str> {
    let wanted = i >= 64 || mask & (1u64 << i) != 0;
    if wanted { None } else { placeholder(&col.def()) }
}

/// The columns a statement of [`projected`] reads: `columns` with `extra`; `None` when it
/// reads whole rows.
pub(crate) fn read_mask<E: EntityTrait>(columns: Option<u64>, extra: Option<E::Column>) -> Option<u64> {
    let mask = columns?;
    match extra {
        Some(c) => bit::<E>(c).map(|b| mask | b),
        None => Some(mask),
    }
}

/// The columns a page of this selection reads: those of the fields selected on its nodes
/// (`nodes { … }`, `edges { node { … } }`), the id and the order's; `None` when a
/// selected field is not declared in [`crate::pagination::ListSpec::lean`].
pub(crate) fn lean_columns<E: EntityTrait>(
    ahead: &async_graphql::Lookahead<'_>,
    spec: &crate::pagination::ListSpec<E>,
    order: &[(usize, bool)],
) -> Option<u64> {
    if spec.lean.is_empty() {
        return None;
    }
    let mut base = bit::<E>(spec.id)?;
    for &(i, _) in order {
        base |= bit::<E>(spec.sorts[i].column)?;
    }
    let nodes = ahead.field("nodes").selection_fields();
    let edge_nodes = ahead.field("edges").field("node").selection_fields();
    let names: Vec<&str> = nodes.iter().chain(&edge_nodes).flat_map(|f| f.selection_set().map(|c| c.name())).collect();
    lean_mask::<E>(&spec.lean, &names, base)
}

/// `sel` reading only `columns` (and `extra`), when they are known.
pub(crate) fn projected<E: EntityTrait>(sel: Select<E>, columns: Option<u64>, extra: Option<E::Column>) -> Select<E> {
    match read_mask::<E>(columns, extra) {
        Some(mask) => project(sel, mask),
        None => sel,
    }
}

/// A constant that decodes as a column of this definition; `None` when there is none
/// (the column itself is read). Nullable columns get a value of their type too, `NULL`
/// only when the type has none: SeaORM formats an error message for every `NULL` it
/// decodes, which cost a tenth of a 1,000-row page's server time.
fn placeholder(def: &sea_orm::ColumnDef) -> Option<&'static str> {
    let value = typed(def.get_column_type());
    if def.is_null() { Some(value.unwrap_or("NULL")) } else { value }
}

/// A constant of this column type.
fn typed(ty: &ColumnType) -> Option<&'static str> {
    Some(match ty {
        ColumnType::String(_) | ColumnType::Text | ColumnType::Char(_) => "''",
        ColumnType::Uuid => "'00000000-0000-0000-0000-000000000000'::uuid",
        ColumnType::Integer => "0::int4",
        ColumnType::SmallInteger => "0::int2",
        ColumnType::BigInteger => "0::int8",
        ColumnType::Boolean => "false",
        ColumnType::Double => "0::float8",
        ColumnType::TimestampWithTimeZone => "'epoch'::timestamptz",
        ColumnType::Date => "'epoch'::date",
        ColumnType::Array(inner) if matches!(**inner, ColumnType::String(_) | ColumnType::Text) => "'{}'::text[]",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::entity::prelude::*;
    use sea_orm::{DbBackend, QueryTrait};

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "things")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: Uuid,
        pub title: String,
        pub note: Option<String>,
        pub weight: Decimal,
        pub done: bool,
    }
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}
    impl ActiveModelBehavior for ActiveModel {}

    fn lean() -> Vec<(&'static str, Vec<Column>)> {
        vec![("title", vec![Column::Title]), ("weight", vec![Column::Weight]), ("label", vec![Column::Title])]
    }

    #[test]
    fn declared_fields_give_their_columns_and_the_base() {
        let base = bit::<Entity>(Column::Id).unwrap_or(0);
        let m = lean_mask::<Entity>(&lean(), &["id", "title", "label", "__typename"], base);
        assert_eq!(m, Some(0b11));
        assert_eq!(lean_mask::<Entity>(&lean(), &[], base), Some(0b1));
    }

    #[test]
    fn an_undeclared_field_or_no_declarations_read_whole_rows() {
        assert_eq!(lean_mask::<Entity>(&lean(), &["title", "done"], 1), None);
        assert_eq!(lean_mask::<Entity>(&[], &["title"], 1), None);
    }

    #[test]
    fn unread_columns_become_typed_placeholders() {
        let sql = project(Entity::find(), 0b11).build(DbBackend::Postgres).to_string();
        assert!(sql.contains(r#""things"."id""#) && sql.contains(r#""things"."title""#), "{sql}");
        assert!(sql.contains(r#"'' AS "note""#), "{sql}");
        assert!(sql.contains(r#"false AS "done""#), "{sql}");
        // No placeholder for a NOT NULL decimal: the column itself is read.
        assert!(sql.contains(r#""things"."weight""#), "{sql}");
    }
}
