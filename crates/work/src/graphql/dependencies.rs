//! `TaskDependency` and the `Task.dependencies` / `Task.dependents` connections.

use crate::enums::DependencyKind;
use crate::loader::{DependenciesOf, DependentsOf};
use crate::nodes::{Task, TaskDependency};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::node::NodeType;
use std::sync::LazyLock;

use async_graphql::dynamic::TypeRef;
use opsgraph_core::Permission;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_value, node_mutation, node_object, page_field, payload, payload_value, prop,
    ref_field_nn,
};
use opsgraph_core::input::Id;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_derive::GqlInput;
use serde::Deserialize;

use crate::entity::{task, task_dependency};
use crate::service::dependencies;

/// `TaskDependency` lists.
pub static DEPENDENCIES: LazyLock<ListSpec<task_dependency::Entity>> = LazyLock::new(|| {
    use task_dependency::Column as C;
    ListSpec {
        node: TaskDependency::NAME,
        id: C::Id,
        filters: vec![ff("kind", C::Kind, K::Enum(DependencyKind::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// A dependency between two tasks.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "TaskDependencyInput")]
struct DependencyInput {
    /// The dependent task.
    task_id: Id,
    /// The task it depends on.
    depends_on_id: Id,
    /// Kind (default FINISH_TO_START; ignored on removal).
    kind: Option<DependencyKind>,
}

/// Registers dependencies.
pub fn register(parts: &mut SchemaParts) {
    type D = task_dependency::Model;
    let nn = TypeRef::named_nn;
    parts.enumeration::<DependencyKind>();
    parts.list(&*DEPENDENCIES);
    parts.object(
        node_object::<TaskDependency>("`task` depends on `dependsOn`.")
            .field(ref_field_nn::<D, Task>("task", "The dependent task.", |d| d.task_id))
            .field(ref_field_nn::<D, Task>("dependsOn", "The task it depends on.", |d| d.depends_on_id))
            .field(prop::<D>("kind", DependencyKind::nn(), "How they depend.", |d| enum_value(&d.kind)))
            .field(prop::<D>("createdAt", nn(scalar::DATE_TIME), "When it was added.", |d| datetime(&d.created_at))),
    );
    parts.node::<TaskDependency>();
    parts.extend::<Task>(page_field::<task::Model, DependenciesOf>(
        "dependencies",
        "What this task depends on.",
        |t| t.id,
    ));
    parts.extend::<Task>(page_field::<task::Model, DependentsOf>("dependents", "What depends on this task.", |t| t.id));
    parts.input::<DependencyInput>();
    parts.object(payload::<TaskDependency>("dependency", "Result of adding a dependency."));
    parts.mutation(node_mutation(
        TaskDependency,
        "addTaskDependency",
        "Make a task depend on another (cycles are refused, naming the cycle).",
        |req, i: DependencyInput| async move {
            Ok(payload_value(
                dependencies::add(
                    req.db.as_ref(),
                    &req.session,
                    &i.task_id,
                    &i.depends_on_id,
                    i.kind.map(DependencyKind::as_str),
                )
                .await?,
            ))
        },
    ));
    parts.mutation(node_mutation(
        Task,
        "removeTaskDependency",
        "Remove a dependency; returns the dependent task.",
        |req, i: DependencyInput| async move {
            let id = dependencies::remove(req.db.as_ref(), &req.session, &i.task_id, &i.depends_on_id).await?;
            let org = req.require(Permission::WorkRead)?;
            Ok(payload_value(crate::service::tasks::get(req.db.as_ref(), org, id).await?))
        },
    ));
}
