//! `ReportTemplate` and `GeneratedReport`: the lists, generating a report (the saved query
//! runs as the viewer) and the mutations. The file itself is downloaded over HTTP at
//! `downloadUrl`, authenticated like the API.

use opsgraph_core::gql::json;
use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, list_field, node_mutation, node_mutation_with, node_object, opt, payload,
    payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::query_runner::Runner;
use opsgraph_core::{AppError, Permission};
use opsgraph_derive::GqlInput;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::common::{S as STR, int_nn, nn, nullable, s_nn, ts};
use super::dashboards::AnalyticsIdInput;
use crate::entity::{generated_report, report_template};
use crate::enums::ReportFormat;
use crate::nodes::{GeneratedReport, Membership, Organization, ReportTemplate, SavedQuery};
use crate::service::report_files::{ChartColumns, Column};
use crate::service::reports::{self, TemplateInput};

/// Where a generated report is downloaded.
pub fn download_path(id: uuid::Uuid) -> String {
    format!("/reports/{}", opsgraph_core::id::encode(GeneratedReport::NAME, id))
}

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<ReportFormat>();
    parts.input::<ColumnInput>();
    parts.input::<ReportChartInput>();
    parts.input::<CreateTemplate>();
    parts.input::<UpdateTemplate>();
    parts.input::<GenerateReport>();
    parts.object(payload::<ReportTemplate>("reportTemplate", "Result of a mutation changing a report template."));
    parts.object(payload::<GeneratedReport>("generatedReport", "Result of generating a report."));
    parts.list(&*REPORT_TEMPLATES);
    parts.list(&*GENERATED_REPORTS);
    parts.object(template_object());
    parts.object(report_object());
    parts.node::<ReportTemplate>();
    parts.node::<GeneratedReport>();
    parts.extend::<Organization>(list_field(
        "reportTemplates",
        &REPORT_TEMPLATES,
        "Report templates the viewer may see: their own and the shared ones.",
        |_, req| {
            let org = req.require(Permission::AnalyticsRead)?;
            Ok(report_template::Entity::find().filter(report_template::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(list_field(
        "generatedReports",
        &GENERATED_REPORTS,
        "The reports the viewer generated.",
        |_, req| {
            let org = req.require(Permission::AnalyticsRead)?;
            Ok(generated_report::Entity::find().filter(generated_report::Column::OrgId.eq(org)))
        },
    ));
    mutations(parts);
}

fn template_input(
    (name, description): (Option<String>, Option<Option<String>>),
    saved_query_id: Option<Id>,
    (rows_path, columns, chart): (Option<String>, Option<Vec<ColumnInput>>, Option<Option<ReportChartInput>>),
    shared: Option<bool>,
) -> opsgraph_core::AppResult<TemplateInput> {
    let chart = chart.map(|c| c.map(|c| c.into_columns()).transpose()).transpose()?;
    Ok(TemplateInput {
        name,
        description,
        saved_query_id: saved_query_id.map(|q| SavedQuery::decode(&q, "savedQueryId")).transpose()?,
        rows_path,
        columns: columns.map(|c| c.into_iter().map(|c| Column { label: c.label, path: c.path }).collect()),
        chart,
        shared,
    })
}

fn mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        ReportTemplate,
        "createReportTemplate",
        "Create a report template over a saved query.",
        |req, i: CreateTemplate| async move {
            let input = template_input(
                (Some(i.name), Some(i.description)),
                Some(i.saved_query_id),
                (Some(i.rows_path), Some(i.columns), Some(i.chart)),
                i.shared,
            )?;
            Ok(payload_value(reports::create(req.db.as_ref(), &req.session, input).await?))
        },
    ));
    parts.mutation(node_mutation(
        ReportTemplate,
        "updateReportTemplate",
        "Change a report template; omitted fields stay.",
        |req, i: UpdateTemplate| async move {
            let key = (ReportTemplate::decode(&i.id, "id")?, i.expected_version);
            let input =
                template_input((i.name, i.description), i.saved_query_id, (i.rows_path, i.columns, i.chart), i.shared)?;
            Ok(payload_value(reports::update(req.db.as_ref(), &req.session, key, input).await?))
        },
    ));
    parts.mutation(node_mutation(
        ReportTemplate,
        "deleteReportTemplate",
        "Delete a report template (reports generated from it stay).",
        |req, i: AnalyticsIdInput| async move {
            let id = ReportTemplate::decode(&i.id, "id")?;
            Ok(payload_value(reports::delete(req.db.as_ref(), &req.session, id).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        GeneratedReport,
        "generateReport",
        "Run a template's saved query as you and keep the result as a CSV or PDF file (download it at `downloadUrl`).",
        |req, r: Option<Runner>, i: GenerateReport| async move {
            let runner = r.ok_or_else(|| AppError::internal("reports cannot run on this schema"))?;
            let id = ReportTemplate::decode(&i.template_id, "templateId")?;
            Ok(payload_value(reports::generate(req, &runner, id, i.format, i.variables).await?))
        },
    ));
}

fn template_object() -> Object {
    type T = report_template::Model;
    node_object::<ReportTemplate>("A report: a saved query's rows as columns, with an optional bar chart.")
        .field(prop::<T>("name", s_nn(), "Name.", |t| t.name.clone().into()))
        .field(prop::<T>("description", nullable(STR), "What it reports.", |t| opt(t.description.clone())))
        .field(ref_field_nn::<T, SavedQuery>("savedQuery", "The saved query it runs.", |t| t.saved_query_id))
        .field(prop::<T>("rowsPath", s_nn(), "Where the rows are in the answer.", |t| t.rows_path.clone().into()))
        .field(prop::<T>("columns", nn(scalar::JSON), "The columns: `[{label, path}]`.", |t| json(&t.columns)))
        .field(prop::<T>("chart", nullable(scalar::JSON), "The bar chart: `{labelColumn, valueColumn}`.", |t| {
            t.chart.as_ref().map_or(Value::Null, json)
        }))
        .field(prop::<T>("shared", nn(TypeRef::BOOLEAN), "Shared with the organisation.", |t| t.shared.into()))
        .field(ref_field::<T, Membership>("owner", "Whose it is.", |t| t.owner_id))
        .field(prop::<T>("version", int_nn(), "Optimistic-concurrency version.", |t| t.version.into()))
        .field(prop::<T>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |t| ts(&t.created_at)))
        .field(prop::<T>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |t| ts(&t.updated_at)))
}

fn report_object() -> Object {
    type G = generated_report::Model;
    node_object::<GeneratedReport>(
        "A report file generated from a template; only whoever generated it may download it.",
    )
    .field(ref_field::<G, ReportTemplate>("template", "The template (null once deleted).", |g| g.template_id))
    .field(ref_field::<G, Membership>("requestedBy", "Who generated it.", |g| g.requested_by))
    .field(prop::<G>("format", ReportFormat::nn(), "Its format.", |g| enum_value(&g.format)))
    .field(prop::<G>("fileName", s_nn(), "Its file name.", |g| g.file_name.clone().into()))
    .field(prop::<G>("contentType", s_nn(), "Its media type.", |g| g.content_type.clone().into()))
    .field(prop::<G>("byteSize", int_nn(), "Its size in bytes.", |g| g.byte_size.into()))
    .field(prop::<G>("rowCount", int_nn(), "Rows in its table.", |g| g.row_count.into()))
    .field(prop::<G>("downloadUrl", s_nn(), "Where to GET it (with the same credentials as the API).", |g| {
        download_path(g.id).into()
    }))
    .field(prop::<G>("createdAt", nn(scalar::DATE_TIME), "When it was generated.", |g| ts(&g.created_at)))
}

/// A report column.
#[derive(Deserialize, GqlInput)]
#[gql(name = "ReportColumnInput")]
struct ColumnInput {
    /// Heading.
    label: String,
    /// Dotted path in a row (`manager.user.name`).
    path: String,
}

/// A report's bar chart (PDF).
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "ReportChartInput")]
struct ReportChartInput {
    /// Index of the column labelling the bars.
    label_column: i32,
    /// Index of the column holding the values.
    value_column: i32,
}

impl ReportChartInput {
    fn into_columns(self) -> opsgraph_core::AppResult<ChartColumns> {
        let idx = |v: i32| usize::try_from(v).map_err(|_| AppError::bad_input("chart", "column indexes start at 0"));
        Ok(ChartColumns { label_column: idx(self.label_column)?, value_column: idx(self.value_column)? })
    }
}

/// Create a report template.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "CreateReportTemplateInput")]
struct CreateTemplate {
    /// Name.
    name: String,
    /// What it reports.
    description: Option<String>,
    /// The saved query it runs.
    saved_query_id: Id,
    /// Dotted path of the row list in the answer's `data`.
    rows_path: String,
    /// The columns (1 to 30).
    columns: Vec<ColumnInput>,
    /// A bar chart in the PDF.
    chart: Option<ReportChartInput>,
    /// Share with the organisation (AnalyticsManage).
    shared: Option<bool>,
}

/// Change a report template; omitted fields stay, null clears.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "UpdateReportTemplateInput")]
struct UpdateTemplate {
    /// The template.
    id: Id,
    /// The version you last read.
    expected_version: i32,
    /// Name.
    name: Option<String>,
    /// What it reports.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    description: Option<Option<String>>,
    /// The saved query it runs.
    saved_query_id: Option<Id>,
    /// Where the rows are.
    rows_path: Option<String>,
    /// The columns.
    columns: Option<Vec<ColumnInput>>,
    /// The bar chart.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    chart: Option<Option<ReportChartInput>>,
    /// Shared with the organisation.
    shared: Option<bool>,
}

/// Generate a report.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "GenerateReportInput")]
struct GenerateReport {
    /// The template.
    template_id: Id,
    /// CSV or PDF.
    format: ReportFormat,
    /// Variables over the saved query's stored ones.
    variables: Option<serde_json::Value>,
}

/// `ReportTemplate` lists.
pub static REPORT_TEMPLATES: LazyLock<ListSpec<report_template::Entity>> = LazyLock::new(|| {
    use report_template::Column as C;
    ListSpec {
        node: ReportTemplate::NAME,
        id: C::Id,
        filters: vec![ff("name", C::Name, K::Text), ff("shared", C::Shared, K::Boolean)],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("UPDATED_AT", C::UpdatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `GeneratedReport` lists.
pub static GENERATED_REPORTS: LazyLock<ListSpec<generated_report::Entity>> = LazyLock::new(|| {
    use generated_report::Column as C;
    ListSpec {
        node: GeneratedReport::NAME,
        id: C::Id,
        filters: vec![
            ff("templateId", C::TemplateId, K::Id(ReportTemplate::NAME)),
            ff("format", C::Format, K::Enum(ReportFormat::NAME)),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
