//! `TaskDependency` and the `Task.dependencies` / `Task.dependents` connections.

use std::sync::LazyLock;

use async_graphql::dynamic::{Enum, EnumItem, InputObject, InputValue, Object, TypeRef};
use opsgraph_core::Permission;
use opsgraph_core::filter::{FieldKind as K, enum_filter_input, ff};
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_value, id_field, mutation, node_fetcher, page_field, payload, payload_value, prop,
    ref_field_nn,
};
use opsgraph_core::loader::{ChildOf, PagedChildOf};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use serde::Deserialize;

use crate::entity::{task, task_dependency};
use crate::service::dependencies;

/// `TaskDependency` lists.
pub static DEPENDENCIES: LazyLock<ListSpec<task_dependency::Entity>> = LazyLock::new(|| {
    use task_dependency::Column as C;
    ListSpec {
        node: "TaskDependency",
        id: C::Id,
        filters: vec![ff("kind", C::Kind, K::Enum("DependencyKind"))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
    }
});

/// What a task depends on.
pub struct DependenciesOf;
impl ChildOf for DependenciesOf {
    type Entity = task_dependency::Entity;
    fn column() -> task_dependency::Column {
        task_dependency::Column::TaskId
    }
}
impl PagedChildOf for DependenciesOf {
    fn spec() -> &'static LazyLock<ListSpec<task_dependency::Entity>> {
        &DEPENDENCIES
    }
}

/// What depends on a task.
pub struct DependentsOf;
impl ChildOf for DependentsOf {
    type Entity = task_dependency::Entity;
    fn column() -> task_dependency::Column {
        task_dependency::Column::DependsOnId
    }
}
impl PagedChildOf for DependentsOf {
    fn spec() -> &'static LazyLock<ListSpec<task_dependency::Entity>> {
        &DEPENDENCIES
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DependencyInput {
    task_id: String,
    depends_on_id: String,
    kind: Option<String>,
}

/// Registers dependencies.
pub fn register(parts: &mut SchemaParts) {
    type D = task_dependency::Model;
    let nn = TypeRef::named_nn;
    parts.ty([
        ("FINISH_TO_START", "The dependent starts after this one finishes."),
        ("START_TO_START", "Both start together."),
        ("FINISH_TO_FINISH", "Both finish together."),
        ("START_TO_FINISH", "The dependent finishes when this one starts."),
    ]
    .iter()
    .fold(Enum::new("DependencyKind").description("How two tasks depend on each other."), |e, (n, d)| {
        e.item(EnumItem::new(*n).description(*d))
    }));
    parts.ty(enum_filter_input("DependencyKind"));
    parts.list(&*DEPENDENCIES);
    parts.object(
        Object::new("TaskDependency")
            .description("`task` depends on `dependsOn`.")
            .implement("Node")
            .field(id_field::<D>("TaskDependency", |d| d.id))
            .field(ref_field_nn::<D, task::Entity>("task", "Task", "The dependent task.", |d| d.task_id))
            .field(ref_field_nn::<D, task::Entity>("dependsOn", "Task", "The task it depends on.", |d| d.depends_on_id))
            .field(prop::<D>("kind", nn("DependencyKind"), "How they depend.", |d| enum_value(&d.kind)))
            .field(prop::<D>("createdAt", nn("DateTime"), "When it was added.", |d| datetime(&d.created_at))),
    );
    parts.node("TaskDependency", node_fetcher::<task_dependency::Entity>(Permission::WorkRead, |d| d.org_id));
    parts.extend(
        "Task",
        page_field::<task::Model, DependenciesOf>("dependencies", "What this task depends on.", |t| t.id),
    );
    parts.extend("Task", page_field::<task::Model, DependentsOf>("dependents", "What depends on this task.", |t| t.id));
    let field = |n: &str, t: TypeRef, d: &str| InputValue::new(n, t).description(d);
    parts.ty(InputObject::new("TaskDependencyInput")
        .description("A dependency between two tasks.")
        .field(field("taskId", nn(TypeRef::ID), "The dependent task."))
        .field(field("dependsOnId", nn(TypeRef::ID), "The task it depends on."))
        .field(field("kind", TypeRef::named("DependencyKind"), "Kind (default FINISH_TO_START; ignored on removal).")));
    parts.object(payload("TaskDependencyPayload", "dependency", "TaskDependency", "Result of adding a dependency."));
    parts.mutation(mutation(
        "addTaskDependency",
        "TaskDependencyInput",
        "TaskDependencyPayload",
        "Make a task depend on another (cycles are refused, naming the cycle).",
        |req, i: DependencyInput| async move {
            Ok(payload_value(
                dependencies::add(req.db.as_ref(), &req.session, &i.task_id, &i.depends_on_id, i.kind.as_deref())
                    .await?,
            ))
        },
    ));
    parts.mutation(mutation(
        "removeTaskDependency",
        "TaskDependencyInput",
        "TaskPayload",
        "Remove a dependency; returns the dependent task.",
        |req, i: DependencyInput| async move {
            let id = dependencies::remove(req.db.as_ref(), &req.session, &i.task_id, &i.depends_on_id).await?;
            let org = req.require(Permission::WorkRead)?;
            Ok(payload_value(crate::service::tasks::get(req.db.as_ref(), org, id).await?))
        },
    ));
}
