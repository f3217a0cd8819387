//! Time entries (hours logged on projects and tasks), time off requests and weekly
//! availability. Members log and request for themselves; managers may act for others.

use crate::enums::{TimeOffKind, TimeOffStatus};
use crate::error::WorkError;
use crate::nodes::{Project, Task, TimeEntry, TimeOff};
use chrono::{NaiveDate, Utc};
use opsgraph_core::db::find_in_org;
use opsgraph_core::events::DomainEvent;
use opsgraph_core::id::new_id;
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use opsgraph_derive::GqlInput;
use opsgraph_org::nodes::Membership;
use rust_decimal::Decimal;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Set, Statement};
use serde::Deserialize;
use uuid::Uuid;

use crate::entity::{time_entry, time_off};
use crate::service::notify;
use crate::service::{projects, tasks};

/// The membership acted for: the caller, or (managers only) the one named.
async fn subject_member(
    db: &impl ConnectionTrait,
    session: &Session,
    org_id: Uuid,
    gid: Option<&str>,
) -> AppResult<Uuid> {
    let named = match gid {
        Some(g) => Some(Membership::decode(g, "membershipId")?),
        None => None,
    };
    match named {
        Some(m) if Some(m) != session.membership_id => {
            session.require(Permission::WorkManage)?;
            Ok(opsgraph_org::service::members::get(db, org_id, m).await?.id)
        }
        _ => session
            .membership_id
            .ok_or_else(|| AppError::bad_input("membershipId", "API keys must name the membership")),
    }
}

fn own_or_manager(session: &Session, owner: Uuid) -> AppResult<()> {
    if session.membership_id == Some(owner) { Ok(()) } else { session.require(Permission::WorkManage).map(|_| ()) }
}

fn entry_hours(h: Decimal) -> AppResult<Decimal> {
    if h > Decimal::ZERO && h <= Decimal::from(24) && h.scale() <= 2 {
        Ok(h)
    } else {
        Err(AppError::bad_input("hours", "hours must be more than 0 and at most 24, in steps of 0.01"))
    }
}

/// Fails when `member` would log more than 24 hours on `date` (`replacing` is not counted).
async fn day_total_ok(
    db: &impl ConnectionTrait,
    member: Uuid,
    date: NaiveDate,
    hours: Decimal,
    replacing: Option<Uuid>,
) -> AppResult<()> {
    // Lock the member: concurrent logs for one member are checked one at a time.
    opsgraph_org::service::members::lock(db, member).await?;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT coalesce(sum(hours), 0) AS total FROM time_entries WHERE membership_id = $1 AND entry_date = $2 \
               AND id IS DISTINCT FROM $3",
            [member.into(), date.into(), replacing.into()],
        ))
        .await?
        .ok_or_else(|| AppError::internal("sum returned no row"))?;
    let total: Decimal = row.try_get("", "total")?;
    if total + hours > Decimal::from(24) {
        return Err(AppError::bad_input("hours", format!("{date} would have {} hours logged (max 24)", total + hours)));
    }
    Ok(())
}

/// Log hours on a task or project.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct LogTimeInput {
    /// The task (its project is implied).
    pub task_id: Option<Id>,
    /// The project (when no task).
    pub project_id: Option<Id>,
    /// Whose time (default: yours; others need manager rights).
    pub membership_id: Option<Id>,
    /// The day.
    pub date: NaiveDate,
    /// Hours, 0.01..24.
    pub hours: Decimal,
    /// Billable (default true).
    pub is_billable: Option<bool>,
    /// What was done.
    pub note: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

async fn get_entry(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<time_entry::Model> {
    find_in_org::<time_entry::Entity>(db, time_entry::Column::OrgId, org_id, id, "time entry").await
}

/// Logs hours.
pub async fn log_time(db: &impl ConnectionTrait, session: &Session, i: LogTimeInput) -> AppResult<time_entry::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let idem = i.idempotency_key.as_deref();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("logTime", idem).await? {
        return get_entry(db, org_id, id).await;
    }
    let member = subject_member(db, session, org_id, i.membership_id.as_deref()).await?;
    let (project_id, task_id) = match (&i.task_id, &i.project_id) {
        (Some(t), p) => {
            let t = tasks::get(db, org_id, Task::decode(t, "taskId")?).await?;
            if let Some(p) = p
                && Project::decode(p, "projectId")? != t.project_id
            {
                return Err(AppError::bad_input("projectId", "the task belongs to another project"));
            }
            (t.project_id, Some(t.id))
        }
        (None, Some(p)) => (projects::get(db, org_id, Project::decode(p, "projectId")?).await?.id, None),
        (None, None) => return Err(AppError::bad_input("taskId", "name a taskId or a projectId")),
    };
    let hours = entry_hours(i.hours)?;
    if i.date > Utc::now().date_naive() + chrono::Days::new(1) {
        return Err(AppError::bad_input("date", "time cannot be logged in the future"));
    }
    day_total_ok(db, member, i.date, hours, None).await?;
    let e = time_entry::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        membership_id: Set(member),
        project_id: Set(project_id),
        task_id: Set(task_id),
        entry_date: Set(i.date),
        hours: Set(hours),
        is_billable: Set(i.is_billable.unwrap_or(true)),
        note: Set(validate::opt_text("note", i.note.as_deref(), 2000, true)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<TimeEntry>("time_entry.log", &e, ("logTime", idem)).await?;
    w.changed::<TimeEntry>("time_entry.logged", e.id, Some(e.project_id)).await?;
    Ok(e)
}

/// Correct a time entry.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct UpdateTimeEntryInput {
    /// The entry.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// Hours.
    pub hours: Option<Decimal>,
    /// The day.
    pub date: Option<NaiveDate>,
    /// Billable.
    pub is_billable: Option<bool>,
    /// Note (null clears).
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    pub note: Option<Option<String>>,
}

/// Corrects a time entry (its owner or a manager).
pub async fn update_entry(
    db: &impl ConnectionTrait,
    session: &Session,
    i: UpdateTimeEntryInput,
) -> AppResult<time_entry::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get_entry(db, org_id, TimeEntry::decode(&i.id, "id")?).await?;
    own_or_manager(session, current.membership_id)?;
    not_billed(&current)?;
    let hours = entry_hours(i.hours.unwrap_or(current.hours))?;
    let date = i.date.unwrap_or(current.entry_date);
    day_total_ok(db, current.membership_id, date, hours, Some(current.id)).await?;
    let mut am = time_entry::ActiveModel { ..Default::default() };
    am.hours = Set(hours);
    am.entry_date = Set(date);
    if let Some(b) = i.is_billable {
        am.is_billable = Set(b);
    }
    if let Some(n) = &i.note {
        am.note = Set(validate::opt_text("note", n.as_deref(), 2000, true)?);
    }
    let w = Write { db, session, org: org_id };
    let Updated { after: updated, changes, .. } =
        w.update::<TimeEntry, _>("time_entry.update", current.clone(), am, i.expected_version).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<TimeEntry>("time_entry.updated", updated.id, Some(updated.project_id)).await?;
    }
    Ok(updated)
}

/// Invoiced time is frozen (BAD_USER_INPUT): void or credit the invoice first.
fn not_billed(e: &time_entry::Model) -> AppResult<()> {
    if e.billed {
        return Err(AppError::bad_input("id", "this time was invoiced: void the invoice (or credit it) first"));
    }
    Ok(())
}

/// Deletes a time entry (its owner or a manager).
pub async fn delete_entry(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<time_entry::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get_entry(db, org_id, TimeEntry::decode(gid, "id")?).await?;
    own_or_manager(session, current.membership_id)?;
    not_billed(&current)?;
    time_entry::Entity::delete_by_id(current.id).exec(db).await?;
    let changes = serde_json::json!({ "hours": current.hours.to_string(), "date": current.entry_date });
    let w = Write { db, session, org: org_id };
    w.audit::<TimeEntry>("time_entry.delete", current.id, changes).await?;
    w.changed::<TimeEntry>("time_entry.deleted", current.id, Some(current.project_id)).await?;
    opsgraph_core::sync::refs::forget(db, org_id, current.id).await?;
    Ok(current)
}

/// Request time off.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct RequestTimeOffInput {
    /// Whose (default: yours).
    pub membership_id: Option<Id>,
    /// Kind (default VACATION).
    pub kind: Option<TimeOffKind>,
    /// First day.
    pub start_date: NaiveDate,
    /// Last day (inclusive).
    pub end_date: NaiveDate,
    /// Hours off per day (omit: whole days).
    pub hours_per_day: Option<Decimal>,
    /// Note.
    pub note: Option<String>,
    /// Retrying with the same key returns the first result instead of a duplicate.
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

async fn get_off(db: &impl ConnectionTrait, org_id: Uuid, id: Uuid) -> AppResult<time_off::Model> {
    find_in_org::<time_off::Entity>(db, time_off::Column::OrgId, org_id, id, "time off").await
}

/// Requests time off; overlapping an open request or approved leave is CONFLICT.
pub async fn request_time_off(
    db: &impl ConnectionTrait,
    session: &Session,
    i: RequestTimeOffInput,
) -> AppResult<time_off::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let idem = i.idempotency_key.clone();
    let w = Write { db, session, org: org_id };
    if let Some(id) = w.replay("requestTimeOff", idem.as_deref()).await? {
        return get_off(db, org_id, id).await;
    }
    let member = subject_member(db, session, org_id, i.membership_id.as_deref()).await?;
    if i.end_date < i.start_date {
        return Err(AppError::bad_input("endDate", "endDate must not be before startDate"));
    }
    if (i.end_date - i.start_date).num_days() > 366 {
        return Err(AppError::bad_input("endDate", "time off spans at most a year per request"));
    }
    if let Some(h) = i.hours_per_day
        && (h <= Decimal::ZERO || h > Decimal::from(24))
    {
        return Err(AppError::bad_input("hoursPerDay", "hoursPerDay must be more than 0 and at most 24"));
    }
    let overlap = time_off::Entity::find()
        .filter(time_off::Column::MembershipId.eq(member))
        .filter(time_off::Column::Status.is_in(["REQUESTED", "APPROVED"]))
        .filter(time_off::Column::StartDate.lte(i.end_date))
        .filter(time_off::Column::EndDate.gte(i.start_date))
        .one(db)
        .await?;
    if let Some(o) = overlap {
        return Err(WorkError::TimeOffOverlap { start: o.start_date, end: o.end_date, status: o.status }.into());
    }
    let t = time_off::ActiveModel {
        id: Set(new_id()),
        org_id: Set(org_id),
        membership_id: Set(member),
        kind: Set(i.kind.unwrap_or(TimeOffKind::Vacation).as_str().to_owned()),
        start_date: Set(i.start_date),
        end_date: Set(i.end_date),
        hours_per_day: Set(i.hours_per_day),
        note: Set(validate::opt_text("note", i.note.as_deref(), 2000, true)?),
        ..Default::default()
    }
    .insert(db)
    .await?;
    let changes = serde_json::json!({ "kind": t.kind, "startDate": t.start_date, "endDate": t.end_date });
    let event = DomainEvent {
        kind: "time_off.requested",
        subject_type: "TimeOff",
        subject_id: t.id,
        project_id: None,
        recipients: vec![],
        audience: vec![],
        data: changes,
    };
    notify::emit(db, session, org_id, event, None).await?;
    w.created::<TimeOff>("time_off.request", &t, ("requestTimeOff", idem.as_deref())).await?;
    Ok(t)
}

/// Approve or reject (managers), or cancel (the requester) time off.
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct DecideTimeOffInput {
    /// The request.
    pub id: Id,
    /// The version you last read.
    pub expected_version: i32,
    /// APPROVED, REJECTED or CANCELLED.
    pub status: TimeOffStatus,
}

/// Approves, rejects or cancels time off.
pub async fn decide_time_off(
    db: &impl ConnectionTrait,
    session: &Session,
    i: DecideTimeOffInput,
) -> AppResult<time_off::Model> {
    let org_id = session.require(Permission::WorkWrite)?;
    let current = get_off(db, org_id, TimeOff::decode(&i.id, "id")?).await?;
    let status = validate::one_of("status", i.status.as_str(), &["APPROVED", "REJECTED", "CANCELLED"])?;
    if status == TimeOffStatus::Cancelled {
        own_or_manager(session, current.membership_id)?;
        if !matches!(current.status.as_str(), "REQUESTED" | "APPROVED") {
            return Err(AppError::bad_input(
                "status",
                format!("time off that is {} cannot be cancelled", current.status),
            ));
        }
    } else {
        session.require(Permission::WorkManage)?;
        if current.status != TimeOffStatus::Requested {
            return Err(AppError::bad_input("status", format!("the request is already {}", current.status)));
        }
    }
    let mut am = time_off::ActiveModel { ..Default::default() };
    am.status = Set(status.clone());
    if status != TimeOffStatus::Cancelled {
        am.decided_by = Set(session.membership_id);
        am.decided_at = Set(Some(Utc::now().fixed_offset()));
    }
    let Updated { after: updated, .. } = Write { db, session, org: org_id }
        .update::<TimeOff, _>("time_off.decide", current.clone(), am, i.expected_version)
        .await?;
    let event = DomainEvent {
        kind: "time_off.decided",
        subject_type: "TimeOff",
        subject_id: current.id,
        project_id: None,
        recipients: vec![updated.membership_id],
        audience: vec![],
        data: serde_json::json!({ "status": updated.status }),
    };
    notify::emit(db, session, org_id, event, None).await?;
    Ok(updated)
}

/// Hours on one weekday.
#[derive(Debug, Deserialize, GqlInput)]
#[gql(name = "DayHoursInput")]
pub struct DayHours {
    /// 1 = Monday .. 7 = Sunday.
    pub weekday: i16,
    /// Hours 0..24.
    pub hours: Decimal,
}

/// Replace a weekly availability pattern (days left out are 0; an empty list restores the default).
#[derive(Debug, Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
pub struct SetAvailabilityInput {
    /// Whose (default: yours).
    pub membership_id: Option<Id>,
    /// The pattern.
    pub days: Vec<DayHours>,
}

/// Replaces a member's weekly availability pattern. Returns the membership id.
pub async fn set_availability(
    db: &impl ConnectionTrait,
    session: &Session,
    i: SetAvailabilityInput,
) -> AppResult<Uuid> {
    let org_id = session.require(Permission::WorkWrite)?;
    let member = subject_member(db, session, org_id, i.membership_id.as_deref()).await?;
    let mut seen = [false; 8];
    for d in &i.days {
        if !(1..=7).contains(&d.weekday) {
            return Err(AppError::bad_input("days", "weekday must be 1 (Monday) to 7 (Sunday)"));
        }
        if std::mem::replace(&mut seen[d.weekday as usize], true) {
            return Err(AppError::bad_input("days", "each weekday at most once"));
        }
        if d.hours < Decimal::ZERO || d.hours > Decimal::from(24) {
            return Err(AppError::bad_input("days", "hours must be between 0 and 24"));
        }
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM availability WHERE membership_id = $1",
        [member.into()],
    ))
    .await?;
    if !i.days.is_empty() {
        let (mut days, mut hours): (Vec<i16>, Vec<Decimal>) = (vec![], vec![]);
        for w in 1..=7i16 {
            days.push(w);
            hours.push(i.days.iter().find(|d| d.weekday == w).map(|d| d.hours).unwrap_or_default());
        }
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO availability (org_id, membership_id, weekday, hours) \
             SELECT $1, $2, d, h FROM unnest($3::int2[], $4::numeric[]) AS x(d, h)",
            [org_id.into(), member.into(), days.into(), hours.into()],
        ))
        .await?;
    }
    let changes = serde_json::json!({
        "days": i.days.iter().map(|d| serde_json::json!({ "weekday": d.weekday, "hours": d.hours.to_string() })).collect::<Vec<_>>()
    });
    let w = Write { db, session, org: org_id };
    w.audit::<Membership>("availability.set", member, changes).await?;
    w.changed::<Membership>("membership.availability_set", member, None).await?;
    Ok(member)
}

/// The billable time entries of `project` dated `from..=to` (for invoicing), oldest first.
pub async fn billable_entries(
    db: &impl ConnectionTrait,
    org: Uuid,
    project: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<time_entry::Model>> {
    use sea_orm::QueryOrder;
    Ok(time_entry::Entity::find()
        .filter(time_entry::Column::OrgId.eq(org))
        .filter(time_entry::Column::ProjectId.eq(project))
        .filter(time_entry::Column::IsBillable.eq(true))
        .filter(time_entry::Column::EntryDate.between(from, to))
        .order_by_asc(time_entry::Column::EntryDate)
        .order_by_asc(time_entry::Column::Id)
        .all(db)
        .await?)
}

/// Hours and their labour cost: each entry's hours x its member's cost rate on its day
/// (org's rate history); entries without a cost rate count as hours at no cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Labour {
    /// Hours logged.
    pub hours: Decimal,
    /// Their cost.
    pub cost: Decimal,
}

fn labour_sql(group: &str, filter: &str) -> String {
    // Hours per (key, member, day) first, so each member's day is priced once.
    format!(
        "SELECT d.k, sum(d.hours) AS hours, coalesce(sum(d.hours * r.cost_rate), 0) AS cost FROM \
           (SELECT {group} AS k, t.membership_id, t.entry_date, sum(t.hours) AS hours FROM time_entries t \
            WHERE t.org_id = $1 AND {filter} GROUP BY 1, 2, 3) d \
         {} GROUP BY 1",
        opsgraph_org::service::rates::join_sql("r", "d.membership_id", "d.entry_date")
    )
}

async fn labour<K: sea_orm::TryGetable + Eq + std::hash::Hash>(
    db: &impl ConnectionTrait,
    sql: String,
    values: Vec<sea_orm::Value>,
) -> AppResult<std::collections::HashMap<K, Labour>> {
    let rows = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("", "k")?, Labour { hours: r.try_get("", "hours")?, cost: r.try_get("", "cost")? })))
        .collect()
}

/// Labour per project of `projects` in an optional date range, one statement (for
/// financials).
pub async fn labour_by_project(
    db: &impl ConnectionTrait,
    org: Uuid,
    projects: &[Uuid],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> AppResult<std::collections::HashMap<Uuid, Labour>> {
    let filter = "t.project_id = ANY($2) AND ($3::date IS NULL OR t.entry_date >= $3) \
                  AND ($4::date IS NULL OR t.entry_date <= $4)";
    let values = vec![org.into(), opsgraph_core::loader::keys_array(projects), from.into(), to.into()];
    labour(db, labour_sql("t.project_id", filter), values).await
}

/// Labour per month (its first day) over all projects in `from..=to`, one statement (for
/// the organisation's P&L).
pub async fn labour_by_month(
    db: &impl ConnectionTrait,
    org: Uuid,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<std::collections::HashMap<NaiveDate, Labour>> {
    let sql = labour_sql("date_trunc('month', t.entry_date)::date", "t.entry_date BETWEEN $2 AND $3");
    labour(db, sql, vec![org.into(), from.into(), to.into()]).await
}

/// Marks time entries `ids` of `org` invoiced (`billed`) or not (finance calls this when it
/// bills them and when it releases them); frozen entries cannot be changed or deleted.
pub async fn set_billed(db: &impl ConnectionTrait, org: Uuid, ids: &[Uuid], billed: bool) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE time_entries SET billed = $3 WHERE org_id = $1 AND id = ANY($2)",
        [org.into(), ids.to_vec().into(), billed.into()],
    ))
    .await?;
    Ok(())
}
