//! `TimeEntry`, `TimeOff`, availability and capacity, with hours on `Project`/`Task` and
//! `Membership.timeEntries` / `Membership.capacity` contributed to the org type.

use crate::enums::{TimeOffKind, TimeOffStatus};
use crate::loader::{AvailabilityOf, TimeOfMember, TimeOfProject, TimeOfTask, TimeOffOfMember};
use crate::nodes::{Project, Task, TimeEntry, TimeOff};
use opsgraph_core::aggregate::{GroupKind as G, agg, gf};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::gql::scalar;
use opsgraph_core::input::Id;
use opsgraph_core::node::Model;
use opsgraph_core::node::NodeType;
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::{Membership, Organization, Team};
use std::sync::LazyLock;

use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use chrono::NaiveDate;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    SchemaParts, datetime, enum_value, list_field, mutation, node_mutation, node_object, opt, page_field, parent,
    payload, payload_named, payload_value, prop, ref_field, ref_field_nn,
};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx};
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use crate::entity::{availability, project, task, time_entry, time_off};
use crate::loader::{CapacityByMember, HoursByProject, HoursByTask, ProjectHours};
use crate::service::capacity::WeekCapacity;
use crate::service::time;

/// `TimeEntry` lists.
pub static TIME_ENTRIES: LazyLock<ListSpec<time_entry::Entity>> = LazyLock::new(|| {
    use time_entry::Column as C;
    ListSpec {
        node: TimeEntry::NAME,
        id: C::Id,
        filters: vec![
            ff("date", C::EntryDate, K::Date),
            ff("isBillable", C::IsBillable, K::Boolean),
            ff("projectId", C::ProjectId, K::Id(Project::NAME)),
            ff("taskId", C::TaskId, K::Id(Task::NAME)),
            ff("membershipId", C::MembershipId, K::Id(Membership::NAME)),
        ],
        sorts: vec![sk("DATE", C::EntryDate, S::Date), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "DATE",
        lean: vec![],
        aggregates: vec![agg("hours", C::Hours)],
        groups: vec![
            gf("MEMBER", C::MembershipId, G::Id(Membership::NAME)),
            gf("PROJECT", C::ProjectId, G::Id(Project::NAME)),
            gf("TASK", C::TaskId, G::Id(Task::NAME)),
            gf("DATE", C::EntryDate, G::Date),
            gf("IS_BILLABLE", C::IsBillable, G::Text),
        ],
    }
});

/// `TimeOff` lists.
pub static TIME_OFF: LazyLock<ListSpec<time_off::Entity>> = LazyLock::new(|| {
    use time_off::Column as C;
    ListSpec {
        node: TimeOff::NAME,
        id: C::Id,
        filters: vec![
            ff("status", C::Status, K::Enum(TimeOffStatus::NAME)),
            ff("kind", C::Kind, K::Enum(TimeOffKind::NAME)),
            ff("membershipId", C::MembershipId, K::Id(Membership::NAME)),
            ff("startDate", C::StartDate, K::Date),
            ff("endDate", C::EndDate, K::Date),
        ],
        sorts: vec![sk("START_DATE", C::StartDate, S::Date), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "START_DATE",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// The most weeks one capacity request may span.
pub const MAX_WEEKS: u32 = 26;

fn capacity_args(ctx: &async_graphql::dynamic::ResolverContext<'_>) -> AppResult<(NaiveDate, u32)> {
    let bad_from = || AppError::bad_input("from", "from must be a date (YYYY-MM-DD)");
    let from = match ctx.args.get("from") {
        Some(v) if !v.is_null() => {
            opsgraph_core::validate::iso_date(v.string().map_err(|_| bad_from())?).ok_or_else(bad_from)?
        }
        _ => chrono::Utc::now().date_naive(),
    };
    let weeks = match ctx.args.get("weeks") {
        Some(w) => w.i64().map_err(|_| AppError::bad_input("weeks", "weeks must be an integer"))?,
        None => 4,
    };
    if !(1..=i64::from(MAX_WEEKS)).contains(&weeks) {
        return Err(AppError::bad_input("weeks", format!("weeks must be between 1 and {MAX_WEEKS}")));
    }
    Ok((from, weeks as u32))
}

fn capacity_field_args(f: Field) -> Field {
    f.argument(
        InputValue::new("from", TypeRef::named(scalar::DATE))
            .description("A day of the first week (weeks start on Monday; default: this week)."),
    )
    .argument(
        InputValue::new("weeks", TypeRef::named(TypeRef::INT))
            .description(format!("Number of weeks, 1..{MAX_WEEKS} (default 4).")),
    )
}

async fn capacities(
    req: &RequestCtx,
    members: Vec<uuid::Uuid>,
    from: NaiveDate,
    weeks: u32,
) -> AppResult<Vec<(uuid::Uuid, Vec<WeekCapacity>)>> {
    let keys: Vec<_> = members.iter().map(|m| (*m, from, weeks)).collect();
    let mut found =
        req.loader(CapacityByMember).load_many(keys.clone()).await.map_err(|e| opsgraph_core::loader::failed(&e))?;
    Ok(keys.into_iter().map(|k| (k.0, found.remove(&k).unwrap_or_default())).collect())
}

/// One row of the capacity planner.
struct MemberCapacity {
    membership_id: uuid::Uuid,
    weeks: Vec<WeekCapacity>,
}

/// Names one time entry.
#[derive(Deserialize, GqlInput)]
#[gql(name = "TimeEntryIdInput")]
struct IdInput {
    /// The entry.
    id: Id,
}

fn dec(d: &Decimal) -> async_graphql::Value {
    d.normalize().to_string().into()
}

/// Registers time tracking, time off, availability and capacity.
pub fn register(parts: &mut SchemaParts) {
    time_entry_type(parts);
    types(parts);
    edges(parts);
    queries(parts);
    time_entry_mutations(parts);
    time_off_mutations(parts);
}

fn time_entry_type(parts: &mut SchemaParts) {
    type Te = time_entry::Model;
    type To = time_off::Model;
    type Av = availability::Model;
    let nn = TypeRef::named_nn;
    let s = || TypeRef::named(TypeRef::STRING);
    parts.list(&*TIME_ENTRIES).list(&*TIME_OFF);
    parts.enumeration::<TimeOffKind>();
    parts.enumeration::<TimeOffStatus>();
    parts.object(
        node_object::<TimeEntry>("Hours a member logged on a project (and task) on one day.")
            .field(ref_field_nn::<Te, Membership>("membership", "Who worked.", |t| t.membership_id))
            .field(ref_field_nn::<Te, Project>("project", "The project.", |t| t.project_id))
            .field(ref_field::<Te, Task>("task", "The task, if any.", |t| t.task_id))
            .field(prop::<Te>("date", nn(scalar::DATE), "The day.", |t| t.entry_date.to_string().into()))
            .field(prop::<Te>("hours", nn(scalar::DECIMAL), "Hours.", |t| dec(&t.hours)))
            .field(prop::<Te>("isBillable", nn(TypeRef::BOOLEAN), "Billable to the client.", |t| t.is_billable.into()))
            .field(prop::<Te>("note", s(), "What was done.", |t| opt(t.note.clone())))
            .field(prop::<Te>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |t| t.version.into()))
            .field(prop::<Te>("createdAt", nn(scalar::DATE_TIME), "When it was logged.", |t| datetime(&t.created_at))),
    );
    parts.node::<TimeEntry>();
    parts.object(
        node_object::<TimeOff>("A leave request; approved leave reduces availability.")
            .field(ref_field_nn::<To, Membership>("membership", "Whose.", |t| t.membership_id))
            .field(prop::<To>("kind", TimeOffKind::nn(), "Kind.", |t| enum_value(&t.kind)))
            .field(prop::<To>("startDate", nn(scalar::DATE), "First day.", |t| t.start_date.to_string().into()))
            .field(prop::<To>("endDate", nn(scalar::DATE), "Last day (inclusive).", |t| t.end_date.to_string().into()))
            .field(prop::<To>(
                "hoursPerDay",
                TypeRef::named(scalar::DECIMAL),
                "Hours off per day (null: whole days).",
                |t| opt(t.hours_per_day.map(|h| h.normalize().to_string())),
            ))
            .field(prop::<To>("status", TimeOffStatus::nn(), "Status.", |t| enum_value(&t.status)))
            .field(prop::<To>("note", s(), "Note.", |t| opt(t.note.clone())))
            .field(ref_field::<To, Membership>("decidedBy", "Who decided.", |t| t.decided_by))
            .field(prop::<To>("version", nn(TypeRef::INT), "Optimistic-concurrency version.", |t| t.version.into())),
    );
    parts.node::<TimeOff>();
    parts.object(
        Object::new("DayAvailability")
            .description("Hours a member is available on one weekday.")
            .field(prop::<Av>("weekday", nn(TypeRef::INT), "ISO weekday, 1 = Monday .. 7 = Sunday.", |a| {
                i32::from(a.weekday).into()
            }))
            .field(prop::<Av>("hours", nn(scalar::DECIMAL), "Available hours.", |a| dec(&a.hours))),
    );
}

fn types(parts: &mut SchemaParts) {
    type Wc = WeekCapacity;
    let nn = TypeRef::named_nn;
    parts.object(
        Object::new("CapacityWeek")
            .description("One member's capacity figures for one week (see the capacity maths in the README).")
            .field(prop::<Wc>("weekStart", nn(scalar::DATE), "Monday of the week.", |w| {
                w.week_start.to_string().into()
            }))
            .field(prop::<Wc>("capacityHours", nn(scalar::DECIMAL), "Contracted hours (availability pattern).", |w| {
                dec(&w.capacity_hours)
            }))
            .field(prop::<Wc>("timeOffHours", nn(scalar::DECIMAL), "Approved time off.", |w| dec(&w.time_off_hours)))
            .field(prop::<Wc>("availableHours", nn(scalar::DECIMAL), "Capacity minus time off.", |w| {
                dec(&w.available_hours)
            }))
            .field(prop::<Wc>("allocatedHours", nn(scalar::DECIMAL), "Booked by project allocations.", |w| {
                dec(&w.allocated_hours)
            }))
            .field(prop::<Wc>("allocationPercent", nn(TypeRef::INT), "Allocated hours as % of capacity.", |w| {
                w.allocation_percent.into()
            }))
            .field(prop::<Wc>("loggedHours", nn(scalar::DECIMAL), "Hours logged.", |w| dec(&w.logged_hours)))
            .field(prop::<Wc>("billableHours", nn(scalar::DECIMAL), "Billable hours logged.", |w| {
                dec(&w.billable_hours)
            }))
            .field(prop::<Wc>(
                "freeHours",
                nn(scalar::DECIMAL),
                "Available minus allocated (negative: over-booked).",
                |w| dec(&w.free_hours),
            ))
            .field(prop::<Wc>("overAllocated", nn(TypeRef::BOOLEAN), "Allocated exceeds available.", |w| {
                w.over_allocated.into()
            })),
    );
    parts.object(
        Object::new("MemberCapacity")
            .description("A member's row in the capacity planner.")
            .field(
                Field::new("membership", Membership::nn(), |ctx| {
                    FieldFuture::new(async move {
                        let m = parent::<MemberCapacity>(&ctx)?;
                        let req = &RequestCtx::of(&ctx)?;
                        let row =
                            opsgraph_core::loader::by_id::<<Membership as NodeType>::Entity>(req, m.membership_id)
                                .await?
                                .ok_or_else(|| AppError::not_found("membership"))?;
                        Ok(Some(FieldValue::owned_any(row)))
                    })
                })
                .description("The member."),
            )
            .field(
                Field::new("weeks", TypeRef::named_nn_list_nn("CapacityWeek"), |ctx| {
                    FieldFuture::new(async move {
                        let m = parent::<MemberCapacity>(&ctx)?;
                        Ok(Some(FieldValue::list(m.weeks.iter().cloned().map(FieldValue::owned_any))))
                    })
                })
                .description("Figures per week."),
            )
            .field(prop::<MemberCapacity>("overAllocated", nn(TypeRef::BOOLEAN), "Over-allocated in any week.", |m| {
                m.weeks.iter().any(|w| w.over_allocated).into()
            })),
    );
}

fn edges(parts: &mut SchemaParts) {
    type Ph = ProjectHours;
    let nn = TypeRef::named_nn;
    parts.object(
        Object::new("ProjectHours")
            .description("Hours of a project: estimated (live tasks) vs logged.")
            .field(prop::<Ph>("estimatedHours", nn(scalar::DECIMAL), "Sum of live tasks' estimates.", |h| {
                dec(&h.estimated)
            }))
            .field(prop::<Ph>("loggedHours", nn(scalar::DECIMAL), "Hours logged.", |h| dec(&h.logged)))
            .field(prop::<Ph>("billableHours", nn(scalar::DECIMAL), "Billable hours logged.", |h| dec(&h.billable)))
            .field(prop::<Ph>(
                "remainingHours",
                nn(scalar::DECIMAL),
                "Estimated minus logged (never negative).",
                |h| dec(&(h.estimated - h.logged).max(Decimal::ZERO)),
            )),
    );

    parts.extend::<Project>(
        Field::new("hours", nn("ProjectHours"), |ctx| {
            FieldFuture::new(async move {
                let p = parent::<project::Model>(&ctx)?;
                let req = &RequestCtx::of(&ctx)?;
                let h =
                    req.loader(HoursByProject).load_one(p.id).await.map_err(|e| opsgraph_core::loader::failed(&e))?;
                Ok(Some(FieldValue::owned_any(h.unwrap_or_default())))
            })
        })
        .description("Estimated vs logged hours."),
    );
    parts.extend::<Task>(
        Field::new("loggedHours", nn(scalar::DECIMAL), |ctx| {
            FieldFuture::new(async move {
                let t = parent::<task::Model>(&ctx)?;
                let req = &RequestCtx::of(&ctx)?;
                let h = req.loader(HoursByTask).load_one(t.id).await.map_err(|e| opsgraph_core::loader::failed(&e))?;
                Ok(Some(FieldValue::value(dec(&h.unwrap_or_default()))))
            })
        })
        .description("Hours logged on this task (actuals)."),
    );
    parts.extend::<Project>(page_field::<project::Model, TimeOfProject>(
        "timeEntries",
        "Time logged on the project.",
        |p| p.id,
    ));
    parts.extend::<Task>(page_field::<task::Model, TimeOfTask>("timeEntries", "Time logged on the task.", |t| t.id));
    parts.extend::<Membership>(page_field::<Model<Membership>, TimeOfMember>(
        "timeEntries",
        "Time this member logged.",
        |m| m.id,
    ));
    parts.extend::<Membership>(page_field::<Model<Membership>, TimeOffOfMember>(
        "timeOff",
        "This member's time off.",
        |m| m.id,
    ));
}

fn queries(parts: &mut SchemaParts) {
    parts.extend::<Membership>(
        Field::new("availability", TypeRef::named_nn_list_nn("DayAvailability"), |ctx| {
            FieldFuture::new(async move {
                let m = parent::<Model<Membership>>(&ctx)?;
                let req = &RequestCtx::of(&ctx)?;
                let mut rows = opsgraph_core::loader::list_of::<AvailabilityOf>(req, m.id).await?;
                if rows.len() != 7 {
                    rows = (1..=7i16)
                        .map(|w| availability::Model {
                            membership_id: m.id,
                            weekday: w,
                            org_id: m.org_id,
                            hours: if w <= 5 { Decimal::from(8) } else { Decimal::ZERO },
                            updated_at: m.created_at,
                        })
                        .collect();
                }
                rows.sort_by_key(|a| a.weekday);
                Ok(Some(FieldValue::list(rows.into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("Weekly availability pattern (default 8 hours Monday to Friday)."),
    );
    parts.extend::<Membership>(capacity_field_args(
        Field::new("capacity", TypeRef::named_nn_list_nn("CapacityWeek"), |ctx| {
            FieldFuture::new(async move {
                let m = parent::<Model<Membership>>(&ctx)?;
                let req = &RequestCtx::of(&ctx)?;
                req.require(Permission::WorkRead)?;
                let (from, weeks) = capacity_args(&ctx)?;
                let rows = capacities(req, vec![m.id], from, weeks).await?;
                let weeks = rows.into_iter().next().map(|r| r.1).unwrap_or_default();
                Ok(Some(FieldValue::list(weeks.into_iter().map(FieldValue::owned_any))))
            })
        })
        .description("Weekly capacity: availability, time off, allocation, logged hours, free capacity."),
    ));
    parts.query(capacity_field_args(
        Field::new("capacity", TypeRef::named_nn_list_nn("MemberCapacity"), |ctx| {
            FieldFuture::new(async move {
                let req = &RequestCtx::of(&ctx)?;
                let org = req.require(Permission::WorkRead)?;
                let (from, weeks) = capacity_args(&ctx)?;
                let team = match ctx.args.get("teamId") {
                    Some(v) if !v.is_null() => Some(Team::decode(v.string()?, "teamId")?),
                    _ => None,
                };
                let members = opsgraph_org::service::members::active_ids(req.db.as_ref(), org, team).await?;
                let rows = capacities(req, members, from, weeks).await?;
                Ok(Some(FieldValue::list(
                    rows.into_iter().map(|(m, w)| FieldValue::owned_any(MemberCapacity { membership_id: m, weeks: w })),
                )))
            })
        })
        .argument(InputValue::new("teamId", TypeRef::named(TypeRef::ID)).description("Only this team's members."))
        .description("The capacity planner: every active member (or a team's) per week, over-allocation flagged."),
    ));
}

fn time_entry_mutations(parts: &mut SchemaParts) {
    parts.extend::<Organization>(list_field(
        "timeOff",
        &TIME_OFF,
        "Time off of the organisation (e.g. `status: { eq: REQUESTED }` to approve).",
        |_, req| {
            let org = req.require(Permission::WorkRead)?;
            Ok(time_off::Entity::find().filter(time_off::Column::OrgId.eq(org)))
        },
    ));

    parts.input::<time::LogTimeInput>();
    parts.input::<time::UpdateTimeEntryInput>();
    parts.input::<IdInput>();
    parts.input::<time::RequestTimeOffInput>();
    parts.input::<time::DecideTimeOffInput>();
    parts.input::<time::DayHours>();
    parts.input::<time::SetAvailabilityInput>();
    parts.object(payload::<TimeEntry>("timeEntry", "Result of a mutation changing a TimeEntry."));
    parts.object(payload::<TimeOff>("timeOff", "Result of a mutation changing a TimeOff."));
    parts.object(payload_named::<Membership>("AvailabilityPayload", "membership", "Result of `setAvailability`."));
    parts.mutation(node_mutation(TimeEntry, "logTime", "Log hours.", |req, i| async move {
        Ok(payload_value(time::log_time(req.db.as_ref(), &req.session, i).await?))
    }));
    parts.mutation(node_mutation(
        TimeEntry,
        "updateTimeEntry",
        "Correct a time entry (its owner or a manager).",
        |req, i| async move { Ok(payload_value(time::update_entry(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(node_mutation(
        TimeEntry,
        "deleteTimeEntry",
        "Delete a time entry (its owner or a manager).",
        |req, i: IdInput| async move { Ok(payload_value(time::delete_entry(req.db.as_ref(), &req.session, &i.id).await?)) },
    ));
    parts.mutation(node_mutation(
        TimeOff,
        "requestTimeOff",
        "Request time off (overlapping open or approved leave is CONFLICT).",
        |req, i| async move { Ok(payload_value(time::request_time_off(req.db.as_ref(), &req.session, i).await?)) },
    ));
}

fn time_off_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        TimeOff,
        "decideTimeOff",
        "Approve, reject or cancel time off.",
        |req, i| async move { Ok(payload_value(time::decide_time_off(req.db.as_ref(), &req.session, i).await?)) },
    ));
    parts.mutation(mutation(
        "setAvailability",
        "AvailabilityPayload",
        "Set a weekly availability pattern.",
        |req, i| async move {
            let m = time::set_availability(req.db.as_ref(), &req.session, i).await?;
            let org = req.session.org_id()?;
            Ok(payload_value(opsgraph_org::service::members::get(req.db.as_ref(), org, m).await?))
        },
    ));
}
