//! The `Task` type, its lists and mutations, and `Membership.assignedTasks` (contributed by
//! `work` onto the org type).

use crate::enums::{MyWorkView, TaskKind, TaskPriority, TaskStatus};
use crate::loader::StatusStat;
use crate::loader::{Subtasks, TasksOfAssignee, TasksOfProject};
use crate::nodes::{Project, Task};
use opsgraph_core::aggregate::{AggQuery, AggregateSource, ChildAggregate, grouping};
use opsgraph_core::aggregate::{GroupKind as G, agg, agg_sql, gf};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::input::Id;
use opsgraph_core::node::Model;
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::ListQuery;
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::Membership;
use rust_decimal::Decimal;
use std::marker::PhantomData;
use std::sync::Arc;
use std::sync::LazyLock;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, Object, TypeRef};
use opsgraph_core::filter::{self, FieldKind as K, Relation, ff};
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_value, node_mutation, node_object, opt, page_field, parent, payload, payload_value,
    prop, ref_col, ref_col_nn,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{Permission, RequestCtx};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Select};
use serde::Deserialize;

use crate::entity::{checklist_item, project, task};
use crate::service::tasks;

/// A task's project, for `TaskFilter.project` (live projects only).
pub static PROJECT_OF_TASK: Relation = Relation {
    node: Project::NAME,
    table: "projects",
    column: "id",
    compile: |v| Ok(filter::compile(&super::PROJECTS.filters, v)?.add(project::Column::DeletedAt.is_null())),
};

/// A task's checklist items, for `TaskFilter.checklist`.
pub static CHECKLIST_OF_TASK: Relation = Relation {
    node: "ChecklistItem",
    table: "checklist_items",
    column: "task_id",
    compile: |v| filter::compile(&CHECKLIST_FILTERS, v),
};

/// What a checklist item is filtered by (`ChecklistItemFilter`).
pub static CHECKLIST_FILTERS: LazyLock<Vec<filter::FilterField<checklist_item::Column>>> = LazyLock::new(|| {
    use checklist_item::Column as C;
    vec![ff("isDone", C::IsDone, K::Boolean), ff("body", C::Body, K::Text)]
});

/// A project's live tasks, for `ProjectFilter.tasks`.
pub static TASKS_OF_PROJECT: Relation = Relation {
    node: Task::NAME,
    table: "tasks",
    column: "project_id",
    compile: |v| Ok(filter::compile(&TASKS.filters, v)?.add(task::Column::DeletedAt.is_null())),
};

/// `Task` lists.
pub static TASKS: LazyLock<ListSpec<task::Entity>> = LazyLock::new(|| {
    use task::Column as C;
    ListSpec {
        node: Task::NAME,
        id: C::Id,
        filters: vec![
            ff("search", C::Title, K::FullText("search")),
            ff("labels", C::Labels, K::Tags),
            ff("clientVisible", C::ClientVisible, K::Boolean),
            ff("title", C::Title, K::Text),
            ff("description", C::Description, K::Text),
            ff("status", C::Status, K::Enum(TaskStatus::NAME)),
            ff("priority", C::Priority, K::Enum(TaskPriority::NAME)),
            ff("kind", C::Kind, K::Enum(TaskKind::NAME)),
            ff("projectId", C::ProjectId, K::Id(Project::NAME)),
            ff("assigneeId", C::AssigneeId, K::Id(Membership::NAME)),
            ff("parentId", C::ParentId, K::Id(Task::NAME)),
            ff("dueDate", C::DueDate, K::Date),
            ff("completedAt", C::CompletedAt, K::DateTime),
            ff("createdAt", C::CreatedAt, K::DateTime),
            ff("project", C::ProjectId, K::One(&PROJECT_OF_TASK)),
            ff("checklist", C::Id, K::Many(&CHECKLIST_OF_TASK)),
        ],
        sorts: vec![
            sk("NUMBER", C::Number, S::Int),
            sk("STATUS", C::Status, S::Ranked(&TaskStatus::VALUES)),
            sk("PRIORITY", C::Priority, S::Ranked(&TaskPriority::VALUES)),
            sk("DUE_DATE", C::DueDate, S::DateOrLast),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
            sk("UPDATED_AT", C::UpdatedAt, S::DateTime),
        ],
        default_sort: "NUMBER",
        // The columns of the Task fields below (`task_type`); anything else reads whole rows.
        lean: vec![
            ("number", vec![C::Number]),
            ("title", vec![C::Title]),
            ("description", vec![C::Description]),
            ("kind", vec![C::Kind]),
            ("status", vec![C::Status]),
            ("priority", vec![C::Priority]),
            ("project", vec![C::ProjectId]),
            ("parent", vec![C::ParentId]),
            ("subtasks", vec![]),
            ("assignee", vec![C::AssigneeId]),
            ("reporter", vec![C::ReporterId]),
            ("startDate", vec![C::StartDate]),
            ("dueDate", vec![C::DueDate]),
            ("estimateHours", vec![C::EstimateHours]),
            ("position", vec![C::Position]),
            ("labels", vec![C::Labels]),
            ("clientVisible", vec![C::ClientVisible]),
            ("completedAt", vec![C::CompletedAt]),
            ("isOverdue", vec![C::DueDate, C::Status]),
            ("isDeleted", vec![C::DeletedAt]),
            ("version", vec![C::Version]),
            ("createdAt", vec![C::CreatedAt]),
            ("updatedAt", vec![C::UpdatedAt]),
        ],
        aggregates: vec![
            agg("estimateHours", C::EstimateHours),
            agg_sql(
                "loggedHours",
                "(SELECT coalesce(sum(te.hours), 0) FROM time_entries te WHERE te.org_id = tasks.org_id AND te.task_id = tasks.id)",
            ),
        ],
        groups: vec![
            gf("STATUS", C::Status, G::Enum(&TaskStatus::VALUES)),
            gf("PRIORITY", C::Priority, G::Enum(&TaskPriority::VALUES)),
            gf("KIND", C::Kind, G::Enum(&TaskKind::VALUES)),
            gf("ASSIGNEE", C::AssigneeId, G::Id(Membership::NAME)),
            gf("PROJECT", C::ProjectId, G::Id(Project::NAME)),
            gf("DUE_DATE", C::DueDate, G::Date),
            gf("COMPLETED_AT", C::CompletedAt, G::Date),
        ],
    }
});

fn live(select: Select<task::Entity>) -> Select<task::Entity> {
    select.filter(task::Column::DeletedAt.is_null())
}

/// Narrows the viewer's tasks to a "my work" view.
fn my_work_view(base: Select<task::Entity>, view: &str) -> Select<task::Entity> {
    use sea_orm::sea_query::Expr;
    let today = chrono::Utc::now().date_naive();
    let open = base.filter(task::Column::Status.is_not_in(["DONE", "CANCELLED"]));
    match view {
        "OVERDUE" => open.filter(task::Column::DueDate.lt(today)),
        "DUE_SOON" => open
            .filter(task::Column::DueDate.gte(today))
            .filter(task::Column::DueDate.lte(today + chrono::Days::new(7))),
        "BLOCKED" => open.filter(
            sea_orm::Condition::any().add(task::Column::Status.eq(TaskStatus::Blocked.as_str())).add(Expr::cust(
                "EXISTS (SELECT 1 FROM task_dependencies d JOIN tasks b ON b.id = d.depends_on_id \
                 WHERE d.task_id = tasks.id AND b.deleted_at IS NULL AND b.status NOT IN ('DONE','CANCELLED'))",
            )),
        ),
        _ => open,
    }
}

/// Move a task to another status.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "TransitionTaskInput")]
struct TransitionInput {
    /// The task.
    id: Id,
    /// The new status.
    status: TaskStatus,
    /// The version you last read.
    expected_version: i32,
}
/// Reopen a DONE or CANCELLED task.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "ReopenTaskInput")]
struct ReopenInput {
    /// The task.
    id: Id,
    /// The version you last read.
    expected_version: i32,
}
/// Names one task.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "TaskIdInput")]
struct IdInput {
    /// The task.
    id: Id,
}

/// Registers tasks.
pub fn register(parts: &mut SchemaParts) {
    parts.ty(filter::filter_input("ChecklistItem", &CHECKLIST_FILTERS)).ty(filter::relation_input("ChecklistItem"));
    enums_and_lists(parts);
    task_type(parts);
    edges(parts);
    queries(parts);
    task_mutations(parts);
    task_mutations_2(parts);
}

fn enums_and_lists(parts: &mut SchemaParts) {
    parts.enumeration::<TaskStatus>();
    parts.enumeration::<TaskPriority>();
    parts.enumeration::<TaskKind>();
    parts.list(&*TASKS);
}

fn task_type(parts: &mut SchemaParts) {
    type T = task::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.object(
        node_object::<Task>("A piece of work in a project, possibly with subtasks.")
            .field(prop::<T>("number", nn(TypeRef::INT), "Number within the project.", |t| t.number.into()))
            .field(identifier_field())
            .field(prop::<T>("title", nn(TypeRef::STRING), "Title.", |t| t.title.clone().into()))
            .field(prop::<T>("description", s(), "Description (markdown).", |t| opt(t.description.clone())))
            .field(prop::<T>("kind", TaskKind::nn(), "Kind of work.", |t| enum_value(&t.kind)))
            .field(prop::<T>("status", TaskStatus::nn(), "Workflow status.", |t| enum_value(&t.status)))
            .field(prop::<T>("priority", TaskPriority::nn(), "Priority.", |t| enum_value(&t.priority)))
            .field(ref_col_nn::<Task, Project>("project", "The project.", task::Column::ProjectId))
            .field(ref_col::<Task, Task>("parent", "The parent task.", task::Column::ParentId))
            .field(page_field::<T, Subtasks>("subtasks", "Subtasks.", |t| t.id))
            .field(ref_col::<Task, Membership>("assignee", "Who does it.", task::Column::AssigneeId))
            .field(ref_col::<Task, Membership>("reporter", "Who created it.", task::Column::ReporterId))
            .field(prop::<T>("startDate", TypeRef::named(scalar::DATE), "Start date.", |t| {
                opt(t.start_date.map(|d| d.to_string()))
            }))
            .field(prop::<T>("dueDate", TypeRef::named(scalar::DATE), "Due date.", |t| {
                opt(t.due_date.map(|d| d.to_string()))
            }))
            .field(prop::<T>("estimateHours", TypeRef::named(scalar::DECIMAL), "Estimated hours.", |t| {
                opt(t.estimate_hours.map(|d| d.to_string()))
            }))
            .field(prop::<T>("position", nn(TypeRef::FLOAT), "Manual order within its status column.", |t| {
                t.position.into()
            }))
            .field(prop::<T>("labels", TypeRef::named_nn_list_nn(TypeRef::STRING), "Labels.", |t| {
                t.labels.clone().into()
            }))
            .field(prop::<T>(
                "clientVisible",
                TypeRef::named_nn(TypeRef::BOOLEAN),
                "Shown to the project's client in the portal.",
                |t| t.client_visible.into(),
            ))
            .field(prop::<T>(
                "completedAt",
                TypeRef::named(scalar::DATE_TIME),
                "When it was completed (kept by the server).",
                |t| t.completed_at.as_ref().map(datetime).unwrap_or(async_graphql::Value::Null),
            ))
            .field(prop::<T>("isOverdue", nn(TypeRef::BOOLEAN), "Due before today and not DONE or CANCELLED.", |t| {
                let today = chrono::Utc::now().date_naive();
                (t.due_date.is_some_and(|d| d < today) && !crate::service::workflow::is_closed(&t.status)).into()
            }))
            .field(is_blocked_field())
            .field(prop::<T>("isDeleted", nn(TypeRef::BOOLEAN), "Soft-deleted (restorable).", |t| {
                t.deleted_at.is_some().into()
            }))
            .field(prop::<T>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |t| t.version.into()))
            .field(prop::<T>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |t| datetime(&t.created_at)))
            .field(prop::<T>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |t| datetime(&t.updated_at))),
    );
}

fn edges(parts: &mut SchemaParts) {
    let nn = TypeRef::named_nn;
    type St = StatusStat;
    parts.node::<Task>();
    parts.object(
        Object::new("TaskStatusStat")
            .description("Board aggregate of one status column.")
            .field(prop::<St>("status", TaskStatus::nn(), "The status.", |x| enum_value(&x.status)))
            .field(prop::<St>("count", nn(TypeRef::INT), "Live tasks in this status.", |x| x.count.into()))
            .field(prop::<St>("estimateHours", nn(scalar::DECIMAL), "Sum of their estimates.", |x| {
                x.estimate_hours.to_string().into()
            }))
            .field(prop::<St>("loggedHours", nn(scalar::DECIMAL), "Hours logged on them (actuals).", |x| {
                x.logged_hours.normalize().to_string().into()
            })),
    );
    parts.extend::<Project>(
        Field::new("taskStats", TypeRef::named_nn_list_nn("TaskStatusStat"), |ctx| {
            FieldFuture::new(async move {
                let p = parent::<project::Model>(&ctx)?;
                let req = &RequestCtx::of(&ctx)?;
                let by_status = ChildAggregate::<TasksOfProject> {
                    parent: p.id,
                    query: Arc::new(ListQuery::all(&TASKS)),
                    rel: PhantomData,
                };
                // Measures 0 and 1: estimateHours and loggedHours.
                let q = AggQuery { group: Some(grouping(&TASKS, "STATUS")?), measures: 0b11 };
                let rows = by_status.run(req, q).await?;
                let zero = |v: &[Option<Decimal>], i: usize| v.get(i).copied().flatten().unwrap_or_default();
                let stats = rows.into_iter().map(|r| StatusStat {
                    status: r.key.unwrap_or_default(),
                    count: r.count,
                    estimate_hours: zero(&r.sum, 0),
                    logged_hours: zero(&r.sum, 1),
                });
                Ok(Some(FieldValue::list(stats.map(FieldValue::owned_any))))
            })
        })
        .description("Task count and estimate sum per status (board columns), statuses without tasks omitted."),
    );
    parts.enum_only::<MyWorkView>();
}

fn queries(parts: &mut SchemaParts) {
    parts.query(
        opsgraph_core::gql::list_field(
            "myWork",
            &TASKS,
            "The caller's live tasks across projects (filter by status, priority, due dates, labels, search).",
            |ctx, req| {
                let org = req.require(Permission::WorkRead)?;
                let me = req
                    .session
                    .membership_id
                    .ok_or_else(|| opsgraph_core::AppError::Forbidden("API keys have no assigned work".into()))?;
                let base = live(task::Entity::find())
                    .filter(task::Column::OrgId.eq(org))
                    .filter(task::Column::AssigneeId.eq(me));
                let view = match ctx.args.get("view") {
                    Some(v) if !v.is_null() => Some(
                        v.enum_name()
                            .map(str::to_owned)
                            .map_err(|_| opsgraph_core::AppError::bad_input("view", "unknown view"))?,
                    ),
                    _ => None,
                };
                Ok(match view.as_deref() {
                    None => base,
                    Some(v) => my_work_view(base, v),
                })
            },
        )
        .argument(
            async_graphql::dynamic::InputValue::new("view", TypeRef::named(MyWorkView::NAME))
                .description("A predefined slice (combined with `filter`)."),
        ),
    );
    parts.extend::<Project>(page_field::<project::Model, TasksOfProject>("tasks", "The project's tasks.", |p| p.id));
    parts.extend::<Membership>(page_field::<Model<Membership>, TasksOfAssignee>(
        "assignedTasks",
        "Tasks assigned to this member.",
        |m| m.id,
    ));
}

fn task_mutations(parts: &mut SchemaParts) {
    parts.input::<tasks::CreateTaskInput>();
    parts.input::<tasks::UpdateTaskInput>();
    parts.input::<TransitionInput>();
    parts.input::<ReopenInput>();
    parts.input::<IdInput>();
    parts.input::<tasks::MoveTaskInput>();
    parts.object(payload::<Task>("task", "Result of a mutation changing a Task."));
    parts.mutation(node_mutation(Task, "createTask", "Create a task (numbered per project).", |req, i| async move {
        Ok(payload_value(tasks::create(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(Task, "updateTask", "Change a task's fields.", |req, i| async move {
        Ok(payload_value(tasks::update(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        Task,
        "transitionTask",
        "Change a task's status under the workflow rules.",
        |req, i: TransitionInput| async move {
            Ok(payload_value(
                tasks::transition(req.db.as_ref(), &req.session, &i.id, i.status.as_str(), i.expected_version).await?,
            ))
        },
    ));
    parts.mutation(node_mutation(
        Task,
        "reopenTask",
        "Reopen a DONE or CANCELLED task into TODO.",
        |req, i: ReopenInput| async move {
            Ok(payload_value(tasks::reopen(req.db.as_ref(), &req.session, &i.id, i.expected_version).await?))
        },
    ));
    parts.mutation(node_mutation(
        Task,
        "moveTask",
        "Reorder a task or move it to another column.",
        |req, i| async move { Ok(payload_value(tasks::move_task(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        Task,
        "deleteTask",
        "Soft-delete a task and its subtasks.",
        |req, i: IdInput| async move {
            Ok(payload_value(tasks::set_deleted(req.db.as_ref(), &req.session, &i.id, true).await?))
        },
    ));
}

fn task_mutations_2(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        Task,
        "restoreTask",
        "Restore a soft-deleted task and its subtasks.",
        |req, i: IdInput| async move {
            Ok(payload_value(tasks::set_deleted(req.db.as_ref(), &req.session, &i.id, false).await?))
        },
    ));
}

/// `Task.identifier`: the project key and number, e.g. `ACME-42`.
fn identifier_field() -> Field {
    type T = task::Model;
    let nn = TypeRef::named_nn;
    Field::new("identifier", nn(TypeRef::STRING), |ctx| {
        FieldFuture::new(async move {
            let t = parent::<T>(&ctx)?;
            let req = &RequestCtx::of(&ctx)?;
            let key = opsgraph_core::loader::by_id::<project::Entity>(req, t.project_id)
                .await?
                .map(|p| p.key.clone())
                .unwrap_or_default();
            Ok(Some(FieldValue::value(format!("{key}-{}", t.number))))
        })
    })
    .description("Human identifier, e.g. `ACME-42`.")
}

/// `Task.isBlocked`: BLOCKED, or open and waiting on an unfinished dependency.
fn is_blocked_field() -> Field {
    type T = task::Model;
    let nn = TypeRef::named_nn;
    Field::new("isBlocked", nn(TypeRef::BOOLEAN), |ctx| {
        FieldFuture::new(async move {
            let t = parent::<T>(&ctx)?;
            if t.status == TaskStatus::Blocked {
                return Ok(Some(FieldValue::value(true)));
            }
            if crate::service::workflow::is_closed(&t.status) {
                return Ok(Some(FieldValue::value(false)));
            }
            let req = &RequestCtx::of(&ctx)?;
            let waiting = req
                .loader(crate::loader::WaitingTasks)
                .load_one(t.id)
                .await
                .map_err(|e| opsgraph_core::AppError::internal(e.as_str()))?;
            Ok(Some(FieldValue::value(waiting.unwrap_or(false))))
        })
    })
    .description("BLOCKED, or open and waiting on an unfinished dependency.")
}
