//! Pages that read only the columns their selection needs.
//!
//! A list declares, in [`crate::pagination::ListSpec::lean`], the columns each of its
//! plain fields reads. When every field selected on a page's nodes is declared there, the
//! page's statement reads those columns (plus the id, the order and the partition) and
//! nothing else; each row decodes onto a blank model of the entity (every field at its
//! `Default`, see [`models`]), and no selected field reads a column left out. Any
//! undeclared field (a computed one, a relationship another domain adds) reads whole
//! rows, so a missing declaration costs speed, never correctness. Page rows are never
//! shared with by-id loaders, so a blank value cannot reach another field.

mod decode;

pub(crate) use decode::{Prefixed, models, plannable};
use std::any::TypeId;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use sea_orm::{EntityTrait, IdenStatic, Iterable, QuerySelect, Select};

/// The columns (a bit each) that a node's fields read, by field.
pub(crate) type FieldColumns = Arc<Vec<(&'static str, u64)>>;

/// Per entity, the columns its node's plain fields read ([`declare_fields`]).
static FIELDS: LazyLock<RwLock<HashMap<TypeId, FieldColumns>>> = LazyLock::new(Default::default);

/// Declares the columns that each named field of `E`'s node reads besides the id (a field
/// that reads only the id, such as a connection of its children, lists none). A row of
/// `E` loaded by id with its references ([`crate::joined`]) then reads only the columns of
/// the fields selected on it when each of them is declared here or is a reference
/// declared by column; any other field makes it read the whole row. Declaring a field
/// with fewer columns than it reads would hand it blank values: declare what the
/// field's resolver reads.
pub fn declare_fields<E: EntityTrait>(fields: &[(&'static str, &[E::Column])]) {
    let mut declared = Vec::with_capacity(fields.len());
    for (name, cols) in fields {
        // A column past the 64th has no bit: such a field stays undeclared.
        let mask = cols.iter().try_fold(0u64, |m, c| bit::<E>(*c).map(|b| m | b));
        if let Some(mask) = mask {
            declared.push((*name, mask));
        }
    }
    FIELDS.write().unwrap_or_else(|p| p.into_inner()).insert(TypeId::of::<E>(), Arc::new(declared));
}

/// What [`declare_fields`] declared for `E`; `None` when nothing was.
pub(crate) fn fields_of<E: 'static>() -> Option<FieldColumns> {
    FIELDS.read().unwrap_or_else(|p| p.into_inner()).get(&TypeId::of::<E>()).cloned()
}

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

/// `sel` reading only the columns of `mask` (and any past the 64th); whole rows when the
/// entity's models cannot be decoded from some of their columns ([`decode::plannable`]).
pub(crate) fn project<E: EntityTrait>(sel: Select<E>, mask: u64) -> Select<E> {
    if !plannable::<E>() {
        return sel;
    }
    let mut sel = sel.select_only();
    for (i, col) in E::Column::iter().enumerate() {
        if i >= 64 || mask & (1u64 << i) != 0 {
            sel = sel.column(col);
        }
    }
    sel
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
        pub due: Option<Date>,
        pub at: DateTimeWithTimeZone,
        pub tags: Vec<String>,
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
    fn unread_columns_are_left_out() {
        let sql = project(Entity::find(), 0b1001).build(DbBackend::Postgres).to_string();
        assert_eq!(sql, r#"SELECT "things"."id", "things"."weight" FROM "things""#);
    }

    #[test]
    fn the_blank_holds_every_fields_default() {
        let blank = decode::blank::<Entity>();
        let epoch = DateTimeWithTimeZone::default();
        let want = Model {
            id: Uuid::nil(),
            title: String::new(),
            note: None,
            weight: Decimal::ZERO,
            done: false,
            due: None,
            at: epoch,
            tags: Vec::new(),
        };
        assert_eq!(blank, Some(want));
        assert!(plannable::<Entity>());
    }

    mod no_default {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum Mood {
            #[sea_orm(string_value = "OK")]
            Ok,
        }

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "moods")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub mood: Mood,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    #[test]
    fn an_entity_with_a_field_without_default_reads_whole_rows() {
        assert!(decode::blank::<no_default::Entity>().is_none());
        let sql = project(no_default::Entity::find(), 0b1).build(DbBackend::Postgres).to_string();
        assert_eq!(sql, r#"SELECT "moods"."id", "moods"."mood" FROM "moods""#);
    }
}
