//! Report templates (a saved query's rows as columns, with an optional bar chart) and the
//! reports generated from them: the saved query runs as the member generating the report,
//! the file (CSV or PDF) is kept, and only that member may download it.

use std::sync::Arc;

use opsgraph_core::id::new_id;
use opsgraph_core::node::NodeType;
use opsgraph_core::query_runner::Runner;
use opsgraph_core::write::{Updated, Write};
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx, Session, validate};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use super::report_files::{self, ChartColumns, Column};
use super::saved_queries::{may_change, may_share, new_owner};
use crate::entity::{generated_report, report_template};
use crate::enums::ReportFormat;
use crate::nodes::{GeneratedReport, ReportTemplate};

/// Most columns a template has.
pub const MAX_COLUMNS: usize = 30;

/// What a new template or a change says.
#[derive(Debug, Default)]
pub struct TemplateInput {
    /// Name.
    pub name: Option<String>,
    /// What it reports.
    pub description: Option<Option<String>>,
    /// The saved query it runs.
    pub saved_query_id: Option<Uuid>,
    /// Where the rows are in the answer.
    pub rows_path: Option<String>,
    /// The columns.
    pub columns: Option<Vec<Column>>,
    /// The bar chart (PDF), if any.
    pub chart: Option<Option<ChartColumns>>,
    /// Shared with the organisation (AnalyticsManage).
    pub shared: Option<bool>,
}

/// A template the caller may see.
pub async fn get(db: &impl ConnectionTrait, org: Uuid, id: Uuid) -> AppResult<report_template::Model> {
    report_template::Entity::find_by_id(id)
        .filter(report_template::Column::OrgId.eq(org))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("report template"))
}

fn checked_columns(columns: Vec<Column>) -> AppResult<serde_json::Value> {
    if columns.is_empty() || columns.len() > MAX_COLUMNS {
        return Err(AppError::bad_input("columns", format!("a template has 1 to {MAX_COLUMNS} columns")));
    }
    for (i, c) in columns.iter().enumerate() {
        validate::text(&format!("columns[{i}].label"), &c.label, 1, 100, false)?;
        report_files::parse_path(&c.path).map_err(|m| AppError::bad_input(format!("columns[{i}].path"), m))?;
    }
    Ok(serde_json::to_value(columns).unwrap_or_default())
}

fn checked_chart(chart: Option<ChartColumns>, columns: usize) -> AppResult<Option<serde_json::Value>> {
    match chart {
        Some(c) if c.label_column >= columns || c.value_column >= columns => {
            Err(AppError::bad_input("chart", "chart columns must be indexes of the template's columns"))
        }
        other => Ok(other.map(|c| serde_json::to_value(c).unwrap_or_default())),
    }
}

fn columns_of(t: &report_template::Model) -> AppResult<Vec<Column>> {
    serde_json::from_value(t.columns.clone()).map_err(|e| AppError::internal(format!("template columns: {e}")))
}

/// The saved query of a template: visible to the caller, shared when the template is.
async fn query_for(db: &impl ConnectionTrait, org: Uuid, id: Uuid, shared: bool) -> AppResult<Uuid> {
    let q = super::saved_queries::get(db, org, id).await?;
    if shared && !q.shared {
        return Err(AppError::bad_input("savedQueryId", "a shared template runs a shared saved query"));
    }
    Ok(q.id)
}

/// Creates a template (AnalyticsWrite; shared needs AnalyticsManage).
pub async fn create(
    db: &impl ConnectionTrait,
    session: &Session,
    i: TemplateInput,
) -> AppResult<report_template::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let shared = i.shared.unwrap_or(false);
    may_share(session, shared)?;
    let q = i.saved_query_id.ok_or_else(|| AppError::bad_input("savedQueryId", "savedQueryId is required"))?;
    let columns = i.columns.unwrap_or_default();
    let n = columns.len();
    let rows_path = i.rows_path.unwrap_or_default();
    report_files::parse_path(&rows_path).map_err(|m| AppError::bad_input("rowsPath", m))?;
    let row = report_template::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        owner_id: Set(Some(new_owner(session)?)),
        name: Set(validate::text("name", i.name.as_deref().unwrap_or_default(), 1, 200, false)?),
        description: Set(validate::opt_text("description", i.description.flatten().as_deref(), 2000, true)?),
        saved_query_id: Set(query_for(db, w.org, q, shared).await?),
        rows_path: Set(rows_path),
        columns: Set(checked_columns(columns)?),
        chart: Set(checked_chart(i.chart.flatten(), n)?),
        shared: Set(shared),
        ..Default::default()
    }
    .insert(db)
    .await?;
    w.created::<ReportTemplate>("report_template.create", &row, ("createReportTemplate", None)).await?;
    w.changed::<ReportTemplate>("report_template.created", row.id, None).await?;
    Ok(row)
}

/// Changes a template (its owner, or AnalyticsManage once shared).
pub async fn update(
    db: &impl ConnectionTrait,
    session: &Session,
    (id, expected): (Uuid, i32),
    i: TemplateInput,
) -> AppResult<report_template::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let current = get(db, w.org, id).await?;
    may_change(session, current.owner_id, current.shared)?;
    let mut am: report_template::ActiveModel = current.clone().into();
    if let Some(n) = &i.name {
        am.name = Set(validate::text("name", n, 1, 200, false)?);
    }
    if let Some(d) = &i.description {
        am.description = Set(validate::opt_text("description", d.as_deref(), 2000, true)?);
    }
    if let Some(p) = &i.rows_path {
        report_files::parse_path(p).map_err(|m| AppError::bad_input("rowsPath", m))?;
        am.rows_path = Set(p.clone());
    }
    let columns = match i.columns {
        Some(c) => c,
        None => columns_of(&current)?,
    };
    let n = columns.len();
    am.columns = Set(checked_columns(columns)?);
    if let Some(c) = i.chart {
        am.chart = Set(checked_chart(c, n)?);
    }
    let shared = i.shared.unwrap_or(current.shared);
    may_share(session, shared)?;
    am.shared = Set(shared);
    am.saved_query_id = Set(query_for(db, w.org, i.saved_query_id.unwrap_or(current.saved_query_id), shared).await?);
    let Updated { after, changes, .. } =
        w.update::<ReportTemplate, _>("report_template.update", current, am, expected).await?;
    if changes.as_object().is_some_and(|c| !c.is_empty()) {
        w.changed::<ReportTemplate>("report_template.updated", after.id, None).await?;
    }
    Ok(after)
}

/// Deletes a template (its reports stay, without it).
pub async fn delete(db: &impl ConnectionTrait, session: &Session, id: Uuid) -> AppResult<report_template::Model> {
    let w = Write::new(db, session, Permission::AnalyticsWrite)?;
    let current = get(db, w.org, id).await?;
    may_change(session, current.owner_id, current.shared)?;
    let row = w.delete::<ReportTemplate>("report_template.delete", current).await?;
    w.changed::<ReportTemplate>("report_template.deleted", row.id, None).await?;
    Ok(row)
}

/// Generates a report from template `id` as the caller: runs its saved query (with
/// `variables` over the stored ones), builds the file and keeps it. A query answering
/// with errors makes no report (BAD_USER_INPUT naming the first error).
pub async fn generate(
    req: Arc<RequestCtx>,
    runner: &Runner,
    id: Uuid,
    format: ReportFormat,
    variables: Option<serde_json::Value>,
) -> AppResult<generated_report::Model> {
    let db = req.db.clone();
    let session = &req.session;
    let w = Write::new(db.as_ref(), session, Permission::AnalyticsRead)?;
    let member = session
        .membership_id
        .ok_or_else(|| AppError::Forbidden("reports are generated by signed-in members".into()))?;
    let t = get(db.as_ref(), w.org, id).await?;
    let q = super::saved_queries::get(db.as_ref(), w.org, t.saved_query_id).await?;
    let outcome = super::saved_queries::run(req.clone(), runner, &q, variables).await?;
    if let Some(first) = outcome.errors.first() {
        let code = first.pointer("/extensions/code").and_then(|c| c.as_str()).unwrap_or("INTERNAL");
        let msg = first.get("message").and_then(|m| m.as_str()).unwrap_or_default();
        return Err(AppError::bad_input(
            "templateId",
            format!("the saved query answered with an error ({code}): {msg}"),
        ));
    }
    let table = report_files::table(&outcome.data, &t.rows_path, &columns_of(&t)?)
        .map_err(|m| AppError::bad_input("templateId", m))?;
    let now = chrono::Utc::now();
    let stamp = now.format("%Y%m%d-%H%M%S");
    let slug: String =
        t.name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).take(60).collect();
    let (bytes, ext, content_type) = match format {
        ReportFormat::Csv => (report_files::csv(&table), "csv", "text/csv; charset=utf-8"),
        ReportFormat::Pdf => {
            let chart: Option<ChartColumns> = t.chart.clone().and_then(|c| serde_json::from_value(c).ok());
            let subtitle = format!("{} rows, generated {}", table.rows.len(), now.format("%Y-%m-%d %H:%M UTC"));
            (report_files::pdf(&t.name, &subtitle, &table, chart), "pdf", "application/pdf")
        }
    };
    let row = generated_report::ActiveModel {
        id: Set(new_id()),
        org_id: Set(w.org),
        template_id: Set(Some(t.id)),
        requested_by: Set(Some(member)),
        format: Set(format.as_str().to_owned()),
        file_name: Set(format!("{slug}-{stamp}.{ext}")),
        content_type: Set(content_type.to_owned()),
        byte_size: Set(i32::try_from(bytes.len()).unwrap_or(i32::MAX)),
        row_count: Set(i32::try_from(table.rows.len()).unwrap_or(i32::MAX)),
        content: Set(bytes),
        ..Default::default()
    }
    .insert(db.as_ref())
    .await?;
    w.audit::<GeneratedReport>(
        "report.generate",
        row.id,
        serde_json::json!({ "templateId": t.id, "format": row.format }),
    )
    .await?;
    w.changed::<GeneratedReport>("report.generated", row.id, None).await?;
    Ok(row)
}

/// The file of generated report `gid` (its requester only): name, media type, bytes.
pub async fn download(db: &impl ConnectionTrait, session: &Session, gid: &str) -> AppResult<(String, String, Vec<u8>)> {
    let org = session.require(Permission::AnalyticsRead)?;
    let id = GeneratedReport::decode(gid, "id")?;
    let row = generated_report::Entity::find_by_id(id)
        .filter(generated_report::Column::OrgId.eq(org))
        .one(db)
        .await?
        .filter(|r| r.requested_by.is_some() && r.requested_by == session.membership_id)
        .ok_or_else(|| AppError::not_found("report"))?;
    Ok((row.file_name, row.content_type, row.content))
}
