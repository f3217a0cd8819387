//! `SavedQuery`, `Dashboard` and `DashboardWidget`: the lists, running a saved query (as
//! the viewer), a widget's result, and the mutations.

use opsgraph_core::gql::json;
use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, enum_value, list_field, list_of_field, node_mutation, node_mutation_with, node_object, opt,
    parent, payload, payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::input::Id;
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::query_runner::Runner;
use opsgraph_core::{AppError, AppResult, Permission, RequestCtx};
use opsgraph_derive::GqlInput;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::common::{S as STR, int_nn, nn, nullable, s_nn, ts};
use crate::entity::{dashboard, dashboard_widget, saved_query};
use crate::enums::WidgetKind;
use crate::loader::WidgetsOfDashboard;
use crate::nodes::{Dashboard, DashboardWidget, Kpi, Membership, Organization, SavedQuery};
use crate::service::dashboards::{self, ChartSpec, DashboardInput, Layout, WidgetInput};
use crate::service::saved_queries::{self, SavedQueryInput};

/// The runner the server gave the schema (a schema built only to print has none).
fn runner(r: Option<Runner>) -> AppResult<Runner> {
    r.ok_or_else(|| AppError::internal("saved queries cannot run on this schema"))
}

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<WidgetKind>();
    parts.input::<CreateSavedQuery>();
    parts.input::<UpdateSavedQuery>();
    parts.input::<CreateDashboard>();
    parts.input::<UpdateDashboard>();
    parts.input::<AddWidget>();
    parts.input::<UpdateWidget>();
    parts.input::<LayoutInput>();
    parts.input::<ChartInput>();
    parts.input::<AnalyticsIdInput>();
    parts.object(payload::<SavedQuery>("savedQuery", "Result of a mutation changing a saved query."));
    parts.object(payload::<Dashboard>("dashboard", "Result of a mutation changing a dashboard."));
    parts.object(payload::<DashboardWidget>("dashboardWidget", "Result of a mutation changing a widget."));
    parts.list(&*SAVED_QUERIES);
    parts.list(&*DASHBOARDS);
    parts.object(saved_query_object());
    parts.object(dashboard_object());
    parts.object(widget_object());
    parts.node::<SavedQuery>();
    parts.node::<Dashboard>();
    parts.node::<DashboardWidget>();
    parts.extend::<Organization>(list_field(
        "savedQueries",
        &SAVED_QUERIES,
        "Saved queries the viewer may see: their own and the shared ones.",
        |_, req| {
            let org = req.require(Permission::AnalyticsRead)?;
            Ok(saved_query::Entity::find().filter(saved_query::Column::OrgId.eq(org)))
        },
    ));
    parts.extend::<Organization>(list_field(
        "dashboards",
        &DASHBOARDS,
        "Dashboards the viewer may see: their own and the shared ones.",
        |_, req| {
            let org = req.require(Permission::AnalyticsRead)?;
            Ok(dashboard::Entity::find().filter(dashboard::Column::OrgId.eq(org)))
        },
    ));
    saved_query_mutations(parts);
    dashboard_mutations(parts);
}

fn saved_query_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation_with(
        SavedQuery,
        "createSavedQuery",
        "Save a GraphQL query (one query operation, within the request limits).",
        |req, r: Option<Runner>, i: CreateSavedQuery| async move {
            let input = SavedQueryInput {
                name: Some(i.name),
                description: Some(i.description),
                document: Some(i.document),
                variables: i.variables,
                shared: i.shared,
            };
            Ok(payload_value(saved_queries::create(req.db.as_ref(), &req.session, &runner(r)?, input).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        SavedQuery,
        "updateSavedQuery",
        "Change a saved query (its owner; a manager once shared).",
        |req, r: Option<Runner>, i: UpdateSavedQuery| async move {
            let input = SavedQueryInput {
                name: i.name,
                description: i.description,
                document: i.document,
                variables: i.variables,
                shared: i.shared,
            };
            let key = (SavedQuery::decode(&i.id, "id")?, i.expected_version);
            Ok(payload_value(saved_queries::update(req.db.as_ref(), &req.session, &runner(r)?, key, input).await?))
        },
    ));
    parts.mutation(node_mutation(
        SavedQuery,
        "deleteSavedQuery",
        "Delete a saved query, with the widgets and report templates over it.",
        |req, i: AnalyticsIdInput| async move {
            let id = SavedQuery::decode(&i.id, "id")?;
            Ok(payload_value(saved_queries::delete(req.db.as_ref(), &req.session, id).await?))
        },
    ));
}

fn dashboard_mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation(
        Dashboard,
        "createDashboard",
        "Create a dashboard.",
        |req, i: CreateDashboard| async move {
            let input = DashboardInput { name: Some(i.name), description: Some(i.description), shared: i.shared };
            Ok(payload_value(dashboards::create(req.db.as_ref(), &req.session, input).await?))
        },
    ));
    parts.mutation(node_mutation(
        Dashboard,
        "updateDashboard",
        "Rename, describe or share a dashboard (sharing needs its widgets' saved queries shared).",
        |req, i: UpdateDashboard| async move {
            let input = DashboardInput { name: i.name, description: i.description, shared: i.shared };
            let key = (Dashboard::decode(&i.id, "id")?, i.expected_version);
            Ok(payload_value(dashboards::update(req.db.as_ref(), &req.session, key, input).await?))
        },
    ));
    parts.mutation(node_mutation(
        Dashboard,
        "deleteDashboard",
        "Delete a dashboard and its widgets.",
        |req, i: AnalyticsIdInput| async move {
            let id = Dashboard::decode(&i.id, "id")?;
            Ok(payload_value(dashboards::delete(req.db.as_ref(), &req.session, id).await?))
        },
    ));
    parts.mutation(node_mutation(
        DashboardWidget,
        "addDashboardWidget",
        "Add a widget: a KPI, or a chart or list over a saved query (at the end, or at `position`).",
        |req, i: AddWidget| async move {
            let dashboard = Dashboard::decode(&i.dashboard_id, "dashboardId")?;
            let input = WidgetInput {
                kind: Some(i.kind),
                title: Some(i.title),
                kpi_id: i.kpi_id.map(|k| Kpi::decode(&k, "kpiId")).transpose()?,
                saved_query_id: i.saved_query_id.map(|q| SavedQuery::decode(&q, "savedQueryId")).transpose()?,
                layout: i.layout.map(LayoutInput::into_layout),
                chart: i.chart.map(ChartInput::into_spec),
                position: i.position,
            };
            Ok(payload_value(dashboards::add_widget(req.db.as_ref(), &req.session, dashboard, input).await?))
        },
    ));
    parts.mutation(node_mutation(
        DashboardWidget,
        "updateDashboardWidget",
        "Change a widget's title, source, layout, chart or position.",
        |req, i: UpdateWidget| async move {
            let input = WidgetInput {
                kind: None,
                title: i.title,
                kpi_id: i.kpi_id.map(|k| Kpi::decode(&k, "kpiId")).transpose()?,
                saved_query_id: i.saved_query_id.map(|q| SavedQuery::decode(&q, "savedQueryId")).transpose()?,
                layout: i.layout.map(LayoutInput::into_layout),
                chart: i.chart.map(ChartInput::into_spec),
                position: i.position,
            };
            let key = (DashboardWidget::decode(&i.id, "id")?, i.expected_version);
            Ok(payload_value(dashboards::update_widget(req.db.as_ref(), &req.session, key, input).await?))
        },
    ));
    parts.mutation(node_mutation(
        Dashboard,
        "removeDashboardWidget",
        "Remove a widget; returns its dashboard.",
        |req, i: AnalyticsIdInput| async move {
            let id = DashboardWidget::decode(&i.id, "id")?;
            Ok(payload_value(dashboards::remove_widget(req.db.as_ref(), &req.session, id).await?))
        },
    ));
}

/// Runs saved query `q` as the viewer; the answer as a GraphQL response (`data`, `errors`).
async fn run_as_viewer(
    req: std::sync::Arc<RequestCtx>,
    r: Option<Runner>,
    q: &saved_query::Model,
    variables: Option<serde_json::Value>,
) -> AppResult<Option<FieldValue<'static>>> {
    let outcome = saved_queries::run(req, &runner(r)?, q, variables).await?;
    Ok(Some(FieldValue::value(json(&outcome.to_json()))))
}

fn saved_query_object() -> Object {
    type Q = saved_query::Model;
    node_object::<SavedQuery>("A stored GraphQL query; whoever runs it sees only what they may see.")
        .field(prop::<Q>("name", s_nn(), "Name.", |q| q.name.clone().into()))
        .field(prop::<Q>("description", nullable(STR), "What it shows.", |q| opt(q.description.clone())))
        .field(prop::<Q>("document", s_nn(), "The GraphQL document.", |q| q.document.clone().into()))
        .field(prop::<Q>("variables", nn(scalar::JSON), "Its stored variables.", |q| json(&q.variables)))
        .field(prop::<Q>("shared", nn(TypeRef::BOOLEAN), "Shared with the organisation.", |q| q.shared.into()))
        .field(ref_field::<Q, Membership>("owner", "Who saved it.", |q| q.owner_id))
        .field(
            Field::new("run", nn(scalar::JSON), |ctx| {
                let r = ctx.data_opt::<Option<Runner>>().cloned().flatten();
                FieldFuture::new(async move {
                    let q = parent::<Q>(&ctx)?;
                    let vars = ctx
                        .args
                        .get("variables")
                        .map(|v| v.deserialize::<serde_json::Value>())
                        .transpose()
                        .map_err(|e| AppError::bad_input("variables", e.message))?;
                    Ok(run_as_viewer(RequestCtx::of(&ctx)?, r, q, vars).await?)
                })
            })
            .argument(InputValue::new("variables", TypeRef::named(scalar::JSON)).description("Variables over the stored ones."))
            .description("Runs it as the viewer: the GraphQL response (`data`, and `errors` where the viewer may not see something)."),
        )
        .field(prop::<Q>("version", int_nn(), "Optimistic-concurrency version.", |q| q.version.into()))
        .field(prop::<Q>("createdAt", nn(scalar::DATE_TIME), "When it was saved.", |q| ts(&q.created_at)))
        .field(prop::<Q>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |q| ts(&q.updated_at)))
}

fn dashboard_object() -> Object {
    type D = dashboard::Model;
    node_object::<Dashboard>("A dashboard: ordered widgets, a member's own or shared with the organisation.")
        .field(prop::<D>("name", s_nn(), "Name.", |d| d.name.clone().into()))
        .field(prop::<D>("description", nullable(STR), "What it is for.", |d| opt(d.description.clone())))
        .field(prop::<D>("shared", nn(TypeRef::BOOLEAN), "Shared with the organisation.", |d| d.shared.into()))
        .field(ref_field::<D, Membership>("owner", "Whose it is.", |d| d.owner_id))
        .field(list_of_field::<D, WidgetsOfDashboard, DashboardWidget>("widgets", "Its widgets, in order.", |d| d.id))
        .field(prop::<D>("version", int_nn(), "Optimistic-concurrency version.", |d| d.version.into()))
        .field(prop::<D>("createdAt", nn(scalar::DATE_TIME), "When it was created.", |d| ts(&d.created_at)))
        .field(prop::<D>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |d| ts(&d.updated_at)))
}

fn widget_object() -> Object {
    type W = dashboard_widget::Model;
    node_object::<DashboardWidget>("A widget of a dashboard.")
        .field(ref_field_nn::<W, Dashboard>("dashboard", "Its dashboard.", |w| w.dashboard_id))
        .field(prop::<W>("position", int_nn(), "Its place (0 first).", |w| w.position.into()))
        .field(prop::<W>("kind", WidgetKind::nn(), "What it shows.", |w| enum_value(&w.kind)))
        .field(prop::<W>("title", s_nn(), "Title.", |w| w.title.clone().into()))
        .field(ref_field::<W, Kpi>("kpi", "The KPI (KPI widgets).", |w| w.kpi_id))
        .field(ref_field::<W, SavedQuery>("savedQuery", "The saved query (chart and list widgets).", |w| {
            w.saved_query_id
        }))
        .field(prop::<W>("layout", nn(scalar::JSON), "Where it sits: `{x, y, w, h}` on a 12-column grid.", |w| {
            json(&w.layout)
        }))
        .field(prop::<W>(
            "chart",
            nullable(scalar::JSON),
            "How a chart reads the rows: `{rowsPath, labelPath, valuePath}`.",
            |w| w.chart.as_ref().map_or(Value::Null, json),
        ))
        .field(
            Field::new("result", nullable(scalar::JSON), |ctx| {
                let r = ctx.data_opt::<Option<Runner>>().cloned().flatten();
                FieldFuture::new(async move {
                    let w = parent::<W>(&ctx)?;
                    let Some(q) = w.saved_query_id else { return Ok(None) };
                    let req = RequestCtx::of(&ctx)?;
                    let q = opsgraph_core::loader::by_id::<saved_query::Entity>(&req, q)
                        .await?
                        .ok_or_else(|| AppError::not_found("saved query"))?;
                    Ok(run_as_viewer(req, r, &q, None).await?)
                })
            })
            .description("Its saved query run as the viewer (chart and list widgets; null for KPI widgets)."),
        )
        .field(prop::<W>("version", int_nn(), "Optimistic-concurrency version.", |w| w.version.into()))
}

/// Save a GraphQL query.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "CreateSavedQueryInput")]
struct CreateSavedQuery {
    /// Name.
    name: String,
    /// What it shows.
    description: Option<String>,
    /// The GraphQL document: one query operation.
    document: String,
    /// Its variables (an object).
    variables: Option<serde_json::Value>,
    /// Share with the organisation (AnalyticsManage).
    shared: Option<bool>,
}

/// Change a saved query; omitted fields stay.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "UpdateSavedQueryInput")]
struct UpdateSavedQuery {
    /// The saved query.
    id: Id,
    /// The version you last read.
    expected_version: i32,
    /// Name.
    name: Option<String>,
    /// What it shows.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    description: Option<Option<String>>,
    /// The GraphQL document.
    document: Option<String>,
    /// Its variables.
    variables: Option<serde_json::Value>,
    /// Shared with the organisation.
    shared: Option<bool>,
}

/// Create a dashboard.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "CreateDashboardInput")]
struct CreateDashboard {
    /// Name.
    name: String,
    /// What it is for.
    description: Option<String>,
    /// Share with the organisation (AnalyticsManage).
    shared: Option<bool>,
}

/// Change a dashboard; omitted fields stay.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "UpdateDashboardInput")]
struct UpdateDashboard {
    /// The dashboard.
    id: Id,
    /// The version you last read.
    expected_version: i32,
    /// Name.
    name: Option<String>,
    /// What it is for.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    description: Option<Option<String>>,
    /// Shared with the organisation.
    shared: Option<bool>,
}

/// Where a widget sits on a 12-column grid.
#[derive(Deserialize, GqlInput)]
#[gql(name = "WidgetLayoutInput")]
struct LayoutInput {
    /// Column, 0..11.
    x: i32,
    /// Row, 0..999.
    y: i32,
    /// Width in columns, 1..12.
    w: i32,
    /// Height in rows, 1..100.
    h: i32,
}

impl LayoutInput {
    fn into_layout(self) -> Layout {
        Layout { x: self.x, y: self.y, w: self.w, h: self.h }
    }
}

/// How a chart reads a saved query's answer.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "WidgetChartInput")]
struct ChartInput {
    /// Dotted path of the row list in `data` (`organization.projects.nodes`).
    rows_path: String,
    /// Dotted path of a row's label.
    label_path: String,
    /// Dotted path of a row's value.
    value_path: String,
}

impl ChartInput {
    fn into_spec(self) -> ChartSpec {
        ChartSpec { rows_path: self.rows_path, label_path: self.label_path, value_path: self.value_path }
    }
}

/// Add a widget to a dashboard.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "AddDashboardWidgetInput")]
struct AddWidget {
    /// The dashboard.
    dashboard_id: Id,
    /// What it shows.
    kind: WidgetKind,
    /// Title.
    title: String,
    /// The KPI (KPI widgets).
    kpi_id: Option<Id>,
    /// The saved query (chart and list widgets).
    saved_query_id: Option<Id>,
    /// Where it sits (default: full-width below the others).
    layout: Option<LayoutInput>,
    /// How a chart reads the rows (chart widgets).
    chart: Option<ChartInput>,
    /// Its place (default: last).
    position: Option<i32>,
}

/// Change a widget; omitted fields stay.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "UpdateDashboardWidgetInput")]
struct UpdateWidget {
    /// The widget.
    id: Id,
    /// The version you last read.
    expected_version: i32,
    /// Title.
    title: Option<String>,
    /// The KPI (KPI widgets).
    kpi_id: Option<Id>,
    /// The saved query (chart and list widgets).
    saved_query_id: Option<Id>,
    /// Where it sits.
    layout: Option<LayoutInput>,
    /// How a chart reads the rows.
    chart: Option<ChartInput>,
    /// Its place.
    position: Option<i32>,
}

opsgraph_core::id_input!(
    /// Names one saved query, dashboard, widget, report template or report.
    AnalyticsIdInput,
    "The saved query, dashboard, widget, template or report."
);

/// `SavedQuery` lists.
pub static SAVED_QUERIES: LazyLock<ListSpec<saved_query::Entity>> = LazyLock::new(|| {
    use saved_query::Column as C;
    ListSpec {
        node: SavedQuery::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("shared", C::Shared, K::Boolean),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
        ],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("UPDATED_AT", C::UpdatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Dashboard` lists.
pub static DASHBOARDS: LazyLock<ListSpec<dashboard::Entity>> = LazyLock::new(|| {
    use dashboard::Column as C;
    ListSpec {
        node: Dashboard::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("shared", C::Shared, K::Boolean),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
        ],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("UPDATED_AT", C::UpdatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
