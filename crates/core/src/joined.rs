//! References loaded with the row that holds them: one statement for a to-one reference
//! and the to-one references of its row (`task.assignee { user { … } }`) instead of one
//! statement per level.
//!
//! A reference declared by its column ([`crate::gql::ref_col`], [`crate::gql::ref_col_nn`])
//! is registered here for its entity. When a reference field loads a row by id and the
//! selection under it asks for such references of that row (two references deep at most),
//! the by-id statement brings them with a `LEFT JOIN` each (their columns prefixed
//! `__j<i>_`), and the row is handed to the executor as a [`Joined`] carrying them; their
//! fields then read them from their parent instead of loading them. Row Level Security
//! applies to every table of the statement, so a joined row is there exactly when loading
//! it by id would find it.
//!
//! Such a statement reads, of each of its rows, only the columns of the fields selected on
//! it, when each of them is declared ([`crate::projection::declare_fields`]) or is a
//! reference declared by column; the other columns decode blank. The columns read are part
//! of what tells statements apart, so a row is only ever handed to the selection it was
//! read for.
//!
//! Pages are not joined: a page's rows repeat the same few references (fifty tasks, five
//! assignees), and PostgreSQL planned `page LEFT JOIN memberships LEFT JOIN users` as a
//! nested loop that scanned both tables once per task (0.46 ms against 0.15 for the page
//! alone); the by-id statement that follows reads each distinct reference once.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::sync::{Arc, LazyLock, RwLock};

use async_graphql::SelectionField;
use async_graphql::dynamic::{FieldValue, ResolverContext};
use sea_orm::sea_query::{Alias, DynIden, Expr, ExprTrait, IntoIden, JoinType, SelectStatement};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, IdenStatic, Iterable, ModelTrait, QueryFilter,
    QueryResult, QueryTrait,
};
use uuid::Uuid;

use crate::batch::Loader;
use crate::context::RequestCtx;
use crate::db::TxDb;
use crate::error::AppResult;
use crate::loader::{LoadError, any_of, db_error, failed, pk_column, uuid_of};
use crate::projection::Prefixed;

type Shared = Arc<dyn Any + Send + Sync>;

/// A row loaded with the rows of some of its references (see the module documentation).
pub struct Joined<M> {
    /// The row.
    pub row: Arc<M>,
    refs: Refs,
}

/// The rows of the references joined with one row, by field: each `Arc<M>`, or
/// `Arc<Joined<M>>` when references of it were joined too; `None` when the join found none.
type Refs = Vec<(Arc<str>, Option<Shared>)>;

impl<M: Send + Sync + 'static> Joined<M> {
    /// `row` with `refs`, shared as a node value (`row` alone when there are none).
    fn node(row: M, refs: Refs) -> Shared {
        if refs.is_empty() { Arc::new(row) } else { Arc::new(Joined { row: Arc::new(row), refs }) }
    }
}

/// The row of reference field `field` that was loaded with the parent value `parent`
/// (a [`Joined`] `PM`), as a node value: `Some(None)` when the join found none, `None`
/// when it was not loaded with it.
pub fn preloaded<PM, TM>(parent: &FieldValue<'_>, field: &str) -> Option<Option<FieldValue<'static>>>
where
    PM: Send + Sync + 'static,
    TM: Send + Sync + 'static,
{
    let joined = parent.downcast_ref::<Arc<Joined<PM>>>()?;
    let (_, row) = joined.refs.iter().find(|(name, _)| &**name == field)?;
    let Some(row) = row.clone() else { return Some(None) };
    match row.downcast::<Joined<TM>>() {
        Ok(j) => Some(Some(FieldValue::owned_any(j))),
        Err(row) => row.downcast::<TM>().ok().map(|m| Some(FieldValue::owned_any(m))),
    }
}

/// A reference joined into a statement, with the references of its row that the
/// selection asks for joined too.
trait Join<E>: Send + Sync {
    /// The reference's GraphQL field.
    fn field(&self) -> &Arc<str>;
    /// Appends what it joins (`field(nested…)`), which tells statements apart.
    fn key(&self, out: &mut String);
    /// Adds the referenced row's columns (named `{alias}_{column}`) and its `LEFT JOIN`
    /// on the rows of `from` (a table or an alias).
    fn add(&self, q: &mut SelectStatement, alias: &str, from: &DynIden);
    /// The referenced row in `row`, from the columns named `{prefix}{column}`; `None` when
    /// the join found none. A row read before for this join (`seen`) is shared, not decoded
    /// again (fifty tasks of five assignees decode five memberships).
    fn read(&self, row: &QueryResult, prefix: &str, seen: &mut Seen) -> Result<Option<Shared>, DbErr>;
}

/// What reading a statement's joins learnt so far: the rows decoded, by join (its address)
/// and id, and each join's positional decoder (`Option<Prefixed<T>>`, built on its first
/// row).
#[derive(Default)]
struct Seen {
    rows: HashMap<(usize, Uuid), Shared>,
    plans: HashMap<usize, Box<dyn Any>>,
}

/// A reference of `E`'s rows declared by its column: what a statement can join.
trait Declared<E: EntityTrait>: Send + Sync {
    /// The reference's GraphQL field.
    fn field(&self) -> &Arc<str>;
    /// The column holding the referenced id.
    fn col(&self) -> E::Column;
    /// The join for a selection of this field (`sel`), `depth` references deep.
    fn bind(&self, sel: SelectionField<'_>, depth: usize) -> Arc<dyn Join<E>>;
}

/// Column `col` of `E` holding the id of a row of `T`.
struct ColRef<E: EntityTrait, T> {
    field: Arc<str>,
    col: E::Column,
    target: PhantomData<fn() -> T>,
}

/// A [`ColRef`] bound to a selection: with the joins of the target's row, and the columns
/// of it that the selection reads (`None`: all).
struct Bound<E: EntityTrait, T> {
    field: Arc<str>,
    col: E::Column,
    nested: Vec<Arc<dyn Join<T>>>,
    mask: Option<u64>,
}

impl<E, T> Declared<E> for ColRef<E, T>
where
    E: EntityTrait,
    T: EntityTrait,
    T::Model: Send + Sync + 'static,
{
    fn field(&self) -> &Arc<str> {
        &self.field
    }

    fn col(&self) -> E::Column {
        self.col
    }

    fn bind(&self, sel: SelectionField<'_>, depth: usize) -> Arc<dyn Join<E>> {
        let declared = declared_of::<T>();
        let nested =
            if depth + 1 < MAX_DEPTH { joins_in(&declared, sel.selection_set(), depth + 1) } else { Vec::new() };
        let mask = mask_of::<T>(&declared, sel.selection_set());
        Arc::new(Bound::<E, T> { field: self.field.clone(), col: self.col, nested, mask })
    }
}

impl<E, T> Join<E> for Bound<E, T>
where
    E: EntityTrait,
    T: EntityTrait,
    T::Model: Send + Sync + 'static,
{
    fn field(&self) -> &Arc<str> {
        &self.field
    }

    fn key(&self, out: &mut String) {
        out.push_str(&self.field);
        push_mask(out, self.mask);
        if !self.nested.is_empty() {
            out.push('(');
            for n in &self.nested {
                n.key(out);
                out.push(',');
            }
            out.push(')');
        }
    }

    fn add(&self, q: &mut SelectStatement, alias: &str, from: &DynIden) {
        let table = Alias::new(alias).into_iden();
        for (i, c) in T::Column::iter().enumerate() {
            if i < 64 && self.mask.is_some_and(|m| m & (1u64 << i) == 0) {
                continue;
            }
            q.expr_as(c.select_as(Expr::col((table.clone(), c))), Alias::new(format!("{alias}_{}", c.as_str())));
        }
        let on = Expr::col((table.clone(), pk_column::<T>())).equals((from.clone(), self.col));
        q.join_as(JoinType::LeftJoin, T::default().table_ref(), table.clone(), on);
        for (i, n) in self.nested.iter().enumerate() {
            n.add(q, &format!("{alias}_{i}"), &table);
        }
    }

    fn read(&self, row: &QueryResult, prefix: &str, seen: &mut Seen) -> Result<Option<Shared>, DbErr> {
        let addr = std::ptr::from_ref(self).addr();
        let pg = row.try_as_pg_row();
        if let Entry::Vacant(slot) = seen.plans.entry(addr) {
            let plan = match pg {
                Some(pg) => Prefixed::<T>::new(pg, prefix, pk_column::<T>())?,
                None => None,
            };
            slot.insert(Box::new(plan));
        }
        let plan = seen.plans.get(&addr).and_then(|p| p.downcast_ref::<Option<Prefixed<T>>>()).and_then(Option::as_ref);
        let id = match (plan, pg) {
            (Some(plan), Some(pg)) => plan.id(pg)?,
            _ => row.try_get::<Option<Uuid>>(prefix, pk_column::<T>().as_str())?,
        };
        let Some(id) = id else { return Ok(None) };
        if let Some(known) = seen.rows.get(&(addr, id)) {
            return Ok(Some(known.clone()));
        }
        let model = match (plan, pg) {
            (Some(plan), Some(pg)) => plan.decode(pg)?,
            _ => T::Model::from_query_result(row, prefix)?,
        };
        let mut refs = Vec::with_capacity(self.nested.len());
        for (i, n) in self.nested.iter().enumerate() {
            refs.push((n.field().clone(), n.read(row, &format!("{prefix}{i}_"), seen)?));
        }
        let node = Joined::node(model, refs);
        seen.rows.insert((addr, id), node.clone());
        Ok(Some(node))
    }
}

/// How many references deep one statement joins (`assignee { user }` is two).
const MAX_DEPTH: usize = 2;

/// Per entity type, its declared references (each an `Arc<dyn Declared<E>>`).
type Registry = HashMap<TypeId, Vec<(Arc<str>, Shared)>>;

static REFS: LazyLock<RwLock<Registry>> = LazyLock::new(Default::default);

/// Registers reference field `field` of `E`'s rows, held in `col`, to a row of `T`.
pub(crate) fn declare<E, T>(field: &str, col: E::Column)
where
    E: EntityTrait,
    T: EntityTrait,
    T::Model: Send + Sync + 'static,
{
    let field: Arc<str> = field.into();
    let r: Arc<dyn Declared<E>> = Arc::new(ColRef::<E, T> { field: field.clone(), col, target: PhantomData });
    let mut refs = REFS.write().unwrap_or_else(|p| p.into_inner());
    let list = refs.entry(TypeId::of::<E>()).or_default();
    list.retain(|(name, _)| *name != field);
    list.push((field, Arc::new(r)));
}

/// The references declared for `E`'s rows.
fn declared_of<E: EntityTrait>() -> Vec<Arc<dyn Declared<E>>> {
    let refs = REFS.read().unwrap_or_else(|p| p.into_inner());
    let Some(list) = refs.get(&TypeId::of::<E>()) else { return Vec::new() };
    list.iter().filter_map(|(_, r)| r.downcast_ref::<Arc<dyn Declared<E>>>().cloned()).collect()
}

/// The joins for the `declared` references of `E` among `fields` (a selection on a row
/// of `E`, fragments included), `depth` references deep.
fn joins_in<'a, E: EntityTrait>(
    declared: &[Arc<dyn Declared<E>>],
    fields: impl Iterator<Item = SelectionField<'a>>,
    depth: usize,
) -> Vec<Arc<dyn Join<E>>> {
    let mut joins: Vec<Arc<dyn Join<E>>> = Vec::new();
    for f in fields {
        let name = f.name();
        if joins.iter().any(|j| &**j.field() == name) {
            continue;
        }
        if let Some(d) = declared.iter().find(|d| &**d.field() == name) {
            joins.push(d.bind(f, depth));
        }
    }
    joins
}

/// The columns of `E` that `fields` (a selection on a row of `E`) read: the id's, and for
/// each field its declared columns ([`crate::projection::declare_fields`]) or, for a
/// reference declared by column, that column. `None` (the whole row) when a field is
/// neither, or `E`'s rows cannot be decoded from some of their columns.
fn mask_of<'a, E: EntityTrait>(
    declared: &[Arc<dyn Declared<E>>],
    fields: impl Iterator<Item = SelectionField<'a>>,
) -> Option<u64> {
    if !crate::projection::plannable::<E>() {
        return None;
    }
    let plain = crate::projection::fields_of::<E>()?;
    let mut mask = crate::projection::bit::<E>(pk_column::<E>())?;
    for f in fields {
        let name = f.name();
        if matches!(name, "id" | "__typename") {
            continue;
        }
        mask |= match declared.iter().find(|d| &**d.field() == name) {
            Some(d) => crate::projection::bit::<E>(d.col())?,
            None => plain.iter().find(|(n, _)| *n == name)?.1,
        };
    }
    Some(mask)
}

/// Appends `#<mask>` (the columns read) or `#*` (all).
fn push_mask(out: &mut String, mask: Option<u64>) {
    use std::fmt::Write as _;
    match mask {
        Some(m) => {
            let _ = write!(out, "#{m:x}");
        }
        None => out.push_str("#*"),
    }
}

/// The joins of the row that `ctx`'s reference field loads, for the selection under it,
/// with the columns of that row it reads; `None` when it joins nothing.
pub(crate) fn wanted<E: EntityTrait>(ctx: &ResolverContext<'_>) -> Option<Joins<E>> {
    let declared = declared_of::<E>();
    if declared.is_empty() {
        return None;
    }
    let joins = joins_in(&declared, ctx.field().selection_set(), 0);
    if joins.is_empty() {
        return None;
    }
    let mask = mask_of::<E>(&declared, ctx.field().selection_set());
    let mut key = String::new();
    push_mask(&mut key, mask);
    for j in &joins {
        j.key(&mut key);
        key.push(',');
    }
    Some(Joins { key: key.into(), joins: Arc::new(joins), mask })
}

/// The references one statement joins; equal when they join the same.
pub(crate) struct Joins<E> {
    key: Arc<str>,
    joins: Arc<Vec<Arc<dyn Join<E>>>>,
    /// The columns of the row itself that are read (`None`: all).
    mask: Option<u64>,
}

impl<E> Clone for Joins<E> {
    fn clone(&self) -> Self {
        Joins { key: self.key.clone(), joins: self.joins.clone(), mask: self.mask }
    }
}

impl<E> PartialEq for Joins<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl<E> Eq for Joins<E> {}

impl<E> Hash for Joins<E> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.key.hash(state);
    }
}

impl<E: EntityTrait> Joins<E> {
    /// Adds the joins to `q`, a statement over `E`'s table.
    fn add_to(&self, q: &mut SelectStatement) {
        let from = E::default().into_iden();
        for (i, j) in self.joins.iter().enumerate() {
            j.add(q, &format!("__j{i}"), &from);
        }
    }

    /// The joined rows of each of `rows`.
    fn read_all(&self, rows: &[QueryResult]) -> Result<Vec<Refs>, DbErr> {
        let prefixes: Vec<String> = (0..self.joins.len()).map(|i| format!("__j{i}_")).collect();
        let mut seen = Seen::default();
        rows.iter()
            .map(|row| {
                let mut refs = Vec::with_capacity(self.joins.len());
                for (j, prefix) in self.joins.iter().zip(&prefixes) {
                    refs.push((j.field().clone(), j.read(row, prefix, &mut seen)?));
                }
                Ok(refs)
            })
            .collect()
    }
}

/// Rows of `E` by id, each with the references of its key's [`Joins`].
pub(crate) struct ByIdWith<E>(Arc<TxDb>, PhantomData<E>);

impl<E> ByIdWith<E> {
    /// For the request's transaction.
    pub(crate) fn new(db: Arc<TxDb>) -> Self {
        ByIdWith(db, PhantomData)
    }
}

impl<E> Loader<(Uuid, Joins<E>)> for ByIdWith<E>
where
    E: EntityTrait + Send + Sync,
    E::Model: Clone + Send + Sync + 'static,
{
    type Value = Arc<Joined<E::Model>>;
    type Error = LoadError;

    async fn load(&self, keys: &[(Uuid, Joins<E>)]) -> Result<HashMap<(Uuid, Joins<E>), Self::Value>, LoadError> {
        let mut groups: HashMap<Joins<E>, Vec<Uuid>> = HashMap::new();
        for (id, joins) in keys {
            groups.entry(joins.clone()).or_default().push(*id);
        }
        let mut out = HashMap::new();
        for (joins, ids) in groups {
            for (row, refs) in self.rows(&joins, &ids).await.map_err(db_error)? {
                if let Some(id) = uuid_of(row.get(pk_column::<E>())) {
                    out.insert((id, joins.clone()), Arc::new(Joined { row: Arc::new(row), refs }));
                }
            }
        }
        Ok(out)
    }
}

impl<E> ByIdWith<E>
where
    E: EntityTrait,
    E::Model: 'static,
{
    /// The rows of `ids` with the references of `joins`, in one statement.
    async fn rows(&self, joins: &Joins<E>, ids: &[Uuid]) -> Result<Vec<(E::Model, Refs)>, DbErr> {
        let mut select = E::find().filter(any_of(pk_column::<E>(), ids));
        if let Some(mask) = joins.mask {
            select = crate::projection::project(select, mask);
        }
        joins.add_to(QueryTrait::query(&mut select));
        let db = self.0.as_ref();
        let rows = db.query_all_raw(select.build(db.get_database_backend())).await?;
        let models = crate::projection::models::<E>(&rows)?;
        Ok(models.into_iter().zip(joins.read_all(&rows)?).collect())
    }
}

/// Row `id` of `E` with the references of `joins`, through the request's [`ByIdWith`]
/// loader.
pub(crate) async fn by_id_with<E>(
    req: &RequestCtx,
    id: Uuid,
    joins: Joins<E>,
) -> AppResult<Option<Arc<Joined<E::Model>>>>
where
    E: EntityTrait + Send + Sync,
    E::Model: Clone + Send + Sync + 'static,
{
    req.loader(ByIdWith::<E>::new).load_one((id, joins)).await.map_err(|e| failed(&e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::DbBackend;

    mod owner {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "owners")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub name: String,
            pub boss_id: Option<Uuid>,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    mod thing {
        use sea_orm::entity::prelude::*;

        #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
        #[sea_orm(table_name = "things")]
        pub struct Model {
            #[sea_orm(primary_key, auto_increment = false)]
            pub id: Uuid,
            pub owner_id: Option<Uuid>,
        }
        #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
        pub enum Relation {}
        impl ActiveModelBehavior for ActiveModel {}
    }

    fn boss() -> Arc<dyn Join<owner::Entity>> {
        Arc::new(Bound::<owner::Entity, owner::Entity> {
            field: "boss".into(),
            col: owner::Column::BossId,
            nested: vec![],
            mask: None,
        })
    }

    fn owner_with_boss() -> Joins<thing::Entity> {
        let owner: Arc<dyn Join<thing::Entity>> = Arc::new(Bound::<thing::Entity, owner::Entity> {
            field: "owner".into(),
            col: thing::Column::OwnerId,
            nested: vec![boss()],
            // The owner's id and boss_id: its name is not read.
            mask: Some(0b101),
        });
        Joins { key: "#*owner#5(boss#*,),".into(), joins: Arc::new(vec![owner]), mask: None }
    }

    #[test]
    fn a_reference_and_its_own_join_under_their_aliases() {
        let joins = owner_with_boss();
        let mut select = thing::Entity::find();
        joins.add_to(QueryTrait::query(&mut select));
        let sql = select.build(DbBackend::Postgres).to_string();
        assert!(sql.starts_with(r#"SELECT "things"."id", "things"."owner_id", "__j0"."id" AS "__j0_id""#), "{sql}");
        assert!(sql.contains(r#""__j0"."boss_id" AS "__j0_boss_id""#), "{sql}");
        assert!(!sql.contains(r#""__j0"."name""#), "the owner's name is not selected: {sql}");
        assert!(sql.contains(r#""__j0_0"."name" AS "__j0_0_name""#), "the boss is read whole: {sql}");
        assert!(sql.contains(r#""__j0_0"."boss_id" AS "__j0_0_boss_id""#), "{sql}");
        assert!(sql.contains(r#"LEFT JOIN "owners" AS "__j0" ON "__j0"."id" = "things"."owner_id""#), "{sql}");
        assert!(sql.contains(r#"LEFT JOIN "owners" AS "__j0_0" ON "__j0_0"."id" = "__j0"."boss_id""#), "{sql}");
    }

    #[test]
    fn joins_are_told_apart_by_what_they_join() {
        let mut key = String::new();
        owner_with_boss().joins[0].key(&mut key);
        assert_eq!(key, "owner#5(boss#*,)");
        let plain: Arc<dyn Join<thing::Entity>> = Arc::new(Bound::<thing::Entity, owner::Entity> {
            field: "owner".into(),
            col: thing::Column::OwnerId,
            nested: vec![],
            mask: None,
        });
        let mut key = String::from("#*");
        plain.key(&mut key);
        assert_eq!(key, "#*owner#*", "the columns read tell joins apart too");
        let other = Joins { key: "#*owner#*,".into(), joins: Arc::new(vec![plain]), mask: None };
        assert!(owner_with_boss() != other);
        assert!(owner_with_boss() == owner_with_boss());
    }
}
