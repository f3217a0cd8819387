//! Dashboards (a member's own, or shared with the organisation) and their ordered widgets:
//! a KPI, or a chart or list over a saved query. A shared dashboard shows only shared
//! saved queries, so everyone who sees it can run its widgets (each as themself).

use opsgraph_core::id::new_id;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, Session, validate};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, Set, Statement,
};
use serde::Deserialize;
use uuid::Uuid;

use super::saved_queries::{may_change, may_share, new_owner};
use crate::entity::{dashboard, dashboard_widget, saved_query};
use crate::enums::WidgetKind;
use crate::nodes::{Dashboard, DashboardWidget};

/// Widgets one dashboard holds at most.
pub const MAX_WIDGETS: u64 = 50;

/// Where a widget sits on a 12-column grid.
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
pub struct Layout {
    /// Column (0..12).
    pub x: i32,
    /// Row (0..1000).
    pub y: i32,
    /// Width in columns (1..12).
    pub w: i32,
    /// Height in rows (1..100).
    pub h: i32,
}

impl Layout {
    /// Checks the layout fits the grid.
    pub fn checked(self) -> AppResult<Layout> {
        let ok = (0..12).contains(&self.x)
            && (0..1000).contains(&self.y)
            && (1..=12).contains(&self.w)
            && self.x + self.w <= 12
            && (1..=100).contains(&self.h);
        if ok { Ok(self) } else { Err(AppError::bad_input("layout", "layout must fit a 12-column grid")) }
    }
}

/// How a chart reads a saved query's answer: where its rows are and which fields label
/// and measure them (dotted paths).
#[derive(Debug, Clone, Deserialize, serde::Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ChartSpec {
    /// Path of the row list in `data` (`organization.projects.nodes`).
    pub rows_path: String,
    /// Path of a row's label (`name`).
    pub label_path: String,
    /// Path of a row's value (`taskCount`).
    pub value_path: String,
}

impl ChartSpec {
    /// Checks the paths.
    pub fn checked(self) -> AppResult<ChartSpec> {
        for (field, p) in
            [("rowsPath", &self.rows_path), ("labelPath", &self.label_path), ("valuePath", &self.value_path)]
        {
            super::report_files::parse_path(p).map_err(|m| AppError::bad_input(field, m))?;
        }
        Ok(self)
    }
}

/// What a new dashboard or a change says.
#[derive(Debug, Default)]
pub struct DashboardInput {
    /// Name.
    pub name: Option<String>,
    /// What it is for.
    pub description: Option<Option<String>>,
    /// Shared with the organisation (AnalyticsManage).
    pub shared: Option<bool>,
}

/// What a new widget or a change says.
#[derive(Debug, Default)]
pub struct WidgetInput {
    /// What it shows (new widgets only).
    pub kind: Option<WidgetKind>,
    /// Title.
    pub title: Option<String>,
    /// The KPI (KPI widgets).
    pub kpi_id: Option<Uuid>,
    /// The saved query (chart and list widgets).
    pub saved_query_id: Option<Uuid>,
    /// Where it sits.
    pub layout: Option<Layout>,
    /// How a chart reads the rows.
    pub chart: Option<ChartSpec>,
    /// Its place among the dashboard's widgets (0 first).
    pub position: Option<i32>,
}

/// A dashboard the caller may see.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<dashboard::Model> {
    dashboard::Entity::find_by_id(id)
        .filter(dashboard::Column::OrgId.eq(org))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("dashboard"))
}

/// A dashboard the caller may see, locked until the transaction ends: changes to its
/// widgets are serialised, so positions stay dense under concurrent edits.
async fn locked(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<dashboard::Model> {
    use sea_orm::QuerySelect;
    dashboard::Entity::find_by_id(id)
        .filter(dashboard::Column::OrgId.eq(org))
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("dashboard"))
}

/// A widget the caller may see.
pub async fn widget(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<dashboard_widget::Model> {
    dashboard_widget::Entity::find_by_id(id)
        .filter(dashboard_widget::Column::OrgId.eq(org))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("dashboard widget"))
}

/// Creates a dashboard (AnalyticsWrite; shared needs AnalyticsManage).
pub async fn create(db: &impl ConnectionTrait, session: &Session, i: DashboardInput) -> AppResult<dashboard::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let shared = i.shared.unwrap_or(false);
    may_share(session, shared)?;
    let row = dashboard::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        owner_id: Set(Some(new_owner(session)?)),
        name: Set(validate::text("name", i.name.as_deref().unwrap_or_default(), 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.flatten().as_deref(), 2000, true)?),
        shared: Set(shared),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<Dashboard>("dashboard.create", &row, ("createDashboard", None)).await?;
    w.changed::<Dashboard>("dashboard.created", row.id, None).await?;
    Ok(row)
}

/// Changes a dashboard; sharing it needs every widget's saved query shared.
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    (id, expected): (Uuid, i32),
    i: DashboardInput,
) -> AppResult<dashboard::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let current = get(db, w.org, id).await?;
    may_change(session, current.owner_id, current.shared)?;
    let mut am: dashboard::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &i.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 2000, true)?);
    }
    if let Some(s) = i.shared {
        may_share(session, s)?;
        if s && private_queries(db, id).await? > 0 {
            return Err(AppError::bad_input("shared", "share the saved queries of its widgets first"));
        }
        am.shared = Set(s);
    }
    let Updated { after, changes, .. } = w.update::<Dashboard, _>("dashboard.update", current, am, expected).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<Dashboard>("dashboard.updated", after.id, None).await?;
    }
    Ok(after)
}

async fn private_queries(db: &impl ConnectionTrait, dashboard: Uuid) -> AppResult<i64> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT count(*) AS n FROM dashboard_widgets w JOIN saved_queries q ON q.id = w.saved_query_id \
             WHERE w.dashboard_id = $1 AND NOT q.shared",
            [dashboard.into()],
        ))
        .await?;
    Ok(row.map(|r| r.try_get::<i64>("", "n")).transpose()?.unwrap_or(0))
}

/// Deletes a dashboard with its widgets.
pub async fn delete(db: &impl ConnectionTrait, session: &Session, id: Uuid) -> AppResult<dashboard::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let current = get(db, w.org, id).await?;
    may_change(session, current.owner_id, current.shared)?;
    let row = w.delete::<Dashboard>("dashboard.delete", current).await?;
    w.changed::<Dashboard>("dashboard.deleted", row.id, None).await?;
    Ok(row)
}

/// The source of a widget of `kind` from `(kpiId, savedQueryId)`: checks the KPI or the
/// saved query (a shared dashboard needs a shared query).
async fn source(
    db: &impl ConnectionTrait,
    (org, d): (Uuid, &dashboard::Model),
    kind: WidgetKind,
    (kpi, query): (Option<Uuid>, Option<Uuid>),
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    match kind {
        WidgetKind::Kpi => {
            let k = kpi.ok_or_else(|| AppError::bad_input("kpiId", "a KPI widget needs kpiId"))?;
            Ok((Some(super::kpis::get(db, org, k).await?.id), None))
        }
        WidgetKind::Chart | WidgetKind::List => {
            let q = query.ok_or_else(|| AppError::bad_input("savedQueryId", "this widget needs a saved query"))?;
            let q: saved_query::Model = super::saved_queries::get(db, org, q).await?;
            if d.shared && !q.shared {
                return Err(AppError::bad_input("savedQueryId", "a shared dashboard shows shared saved queries only"));
            }
            Ok((None, Some(q.id)))
        }
    }
}

/// Adds a widget at the end of a dashboard (or at `position`).
pub async fn add_widget(
    db: &impl ConnectionTrait,
    session: &Session,
    dashboard_id: Uuid,
    i: WidgetInput,
) -> AppResult<dashboard_widget::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let d = locked(db, w.org, dashboard_id).await?;
    may_change(session, d.owner_id, d.shared)?;
    let count =
        dashboard_widget::Entity::find().filter(dashboard_widget::Column::DashboardId.eq(d.id)).count(db).await?;
    if count >= MAX_WIDGETS {
        return Err(AppError::bad_input("dashboardId", format!("a dashboard holds at most {MAX_WIDGETS} widgets")));
    }
    let kind = i.kind.ok_or_else(|| AppError::bad_input("kind", "kind is required"))?;
    if kind == WidgetKind::Chart && i.chart.is_none() {
        return Err(AppError::bad_input("chart", "a chart widget needs chart"));
    }
    let (kpi_id, saved_query_id) = source(db, (w.org, &d), kind, (i.kpi_id, i.saved_query_id)).await?;
    let layout = i.layout.clone().unwrap_or(Layout { x: 0, y: i32::try_from(count).unwrap_or(0) * 4, w: 6, h: 4 });
    let chart = i.chart.clone().filter(|_| kind == WidgetKind::Chart).map(ChartSpec::checked).transpose()?;
    let end = i32::try_from(count).unwrap_or(i32::MAX);
    let row = dashboard_widget::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        dashboard_id: Set(d.id),
        position: Set(end),
        kind: Set(kind.as_str().to_owned()),
        title: Set(validate::text("title", i.title.as_deref().unwrap_or_default(), 1, 200, false)?),
        kpi_id: Set(kpi_id),
        saved_query_id: Set(saved_query_id),
        layout: Set(serde_json::to_value(layout.checked()?).unwrap_or_default()),
        chart: Set(chart.map(|c| serde_json::to_value(c).unwrap_or_default())),
        ..Default::default()
    }
    .insert(db)
    .await?;
    if let Some(p) = i.position.filter(|p| *p != end) {
        reorder(db, d.id, row.id, p).await?;
    }
    w.audit::<Dashboard>("dashboard.widget_add", d.id, serde_json::json!({ "widgetId": row.id })).await?;
    w.changed::<DashboardWidget>("dashboard_widget.created", row.id, None).await?;
    w.changed::<Dashboard>("dashboard.updated", d.id, None).await?;
    widget(db, w.org, row.id).await
}

/// Moves widget `id` of `dashboard` to `position` (clamped), renumbering the others.
async fn reorder(db: &impl ConnectionTrait, dashboard: Uuid, id: Uuid, position: i32) -> AppResult<()> {
    let sql = "WITH others AS (SELECT id, row_number() OVER (ORDER BY position, created_at) - 1 AS rn \
                 FROM dashboard_widgets WHERE dashboard_id = $1 AND id <> $2), \
               target AS (SELECT least(greatest($3::int, 0), (SELECT count(*) FROM others))::int AS p) \
               UPDATE dashboard_widgets w SET position = CASE WHEN w.id = $2 THEN (SELECT p FROM target) \
                 ELSE (SELECT CASE WHEN o.rn >= (SELECT p FROM target) THEN o.rn + 1 ELSE o.rn END \
                       FROM others o WHERE o.id = w.id) END \
               WHERE w.dashboard_id = $1";
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        sql,
        [dashboard.into(), id.into(), position.into()],
    ))
    .await?;
    Ok(())
}

/// Changes a widget: title, layout, chart, source, position.
pub async fn update_widget(
    db: &impl ConnectionTrait,
    session: &Session,
    (id, expected): (Uuid, i32),
    i: WidgetInput,
) -> AppResult<dashboard_widget::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let current = widget(db, w.org, id).await?;
    let d = locked(db, w.org, current.dashboard_id).await?;
    may_change(session, d.owner_id, d.shared)?;
    let kind = WidgetKind::parse(&current.kind).ok_or_else(|| AppError::internal("widget of an unknown kind"))?;
    let mut am: dashboard_widget::ActiveModel = current.clone().into();
    if let Some(t) = &i.title {
        am.title = Set(validate::text("title", t, 1, 200, false)?);
    }
    if let Some(l) = i.layout.clone() {
        am.layout = Set(serde_json::to_value(l.checked()?).unwrap_or_default());
    }
    if let Some(c) = i.chart.clone().filter(|_| kind == WidgetKind::Chart) {
        am.chart = Set(Some(serde_json::to_value(c.checked()?).unwrap_or_default()));
    }
    if i.kpi_id.is_some() || i.saved_query_id.is_some() {
        let (k, q) = source(db, (w.org, &d), kind, (i.kpi_id, i.saved_query_id)).await?;
        am.kpi_id = Set(k);
        am.saved_query_id = Set(q);
    }
    let Updated { after, .. } =
        w.update::<DashboardWidget, _>("dashboard.widget_update", current, am, expected).await?;
    if let Some(p) = i.position.filter(|p| *p != after.position) {
        reorder(db, d.id, after.id, p).await?;
    }
    w.changed::<DashboardWidget>("dashboard_widget.updated", after.id, None).await?;
    w.changed::<Dashboard>("dashboard.updated", d.id, None).await?;
    widget(db, w.org, after.id).await
}

/// Removes a widget; the others close the gap.
pub async fn remove_widget(db: &impl ConnectionTrait, session: &Session, id: Uuid) -> AppResult<dashboard::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let current = widget(db, w.org, id).await?;
    let d = locked(db, w.org, current.dashboard_id).await?;
    may_change(session, d.owner_id, d.shared)?;
    let removed = w.delete::<DashboardWidget>("dashboard.widget_remove", current).await?;
    w.changed::<DashboardWidget>("dashboard_widget.deleted", removed.id, None).await?;
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE dashboard_widgets w SET position = o.rn FROM (SELECT id, row_number() OVER (ORDER BY position) - 1 AS rn \
           FROM dashboard_widgets WHERE dashboard_id = $1) o WHERE w.id = o.id AND w.position <> o.rn",
        [d.id.into()],
    ))
    .await?;
    w.changed::<Dashboard>("dashboard.updated", d.id, None).await?;
    Ok(d)
}
