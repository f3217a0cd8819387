//! `Kpi`, `KpiMeasurement`, the metric catalogue, trends, and the KPI mutations.

use std::sync::LazyLock;

use async_graphql::Value;
use async_graphql::dynamic::{Field, FieldFuture, FieldValue, InputValue, Object, TypeRef};
use chrono::NaiveDate;
use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::gql::{
    GqlEnum, SchemaParts, date_arg, decimal, enum_value, list_field, node_mutation_with, node_object, opt, page_field,
    parent, payload, payload_value, prop, ref_field, ref_field_nn, scalar,
};
use opsgraph_core::input::Id;
use opsgraph_core::kpi::{Metric, MetricUnit, Metrics};
use opsgraph_core::node::NodeType;
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};
use opsgraph_core::{AppError, Permission, RequestCtx};
use opsgraph_derive::GqlInput;
use rust_decimal::Decimal;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde::Deserialize;

use super::common::{S as STR, int_nn, nn, nullable, s_nn, ts};
use crate::entity::{kpi, kpi_measurement};
use crate::enums::{KpiDirection, KpiPeriod, MeasurementSource};
use crate::loader::{LatestMeasurement, MeasurementsOfKpi, TrendsOfKpi};
use crate::nodes::{Kpi, KpiMeasurement, Membership, Organization};
use crate::service::kpis::{self, KpiInput, TrendPoint};

fn opt_dec(d: &Option<Decimal>) -> Value {
    d.as_ref().map_or(Value::Null, decimal)
}

/// Registers this area.
pub fn register(parts: &mut SchemaParts) {
    parts.enumeration::<KpiPeriod>();
    parts.enum_only::<KpiDirection>();
    parts.enumeration::<MeasurementSource>();
    parts.enum_only::<MetricUnit>();
    parts.input::<CreateKpi>();
    parts.input::<UpdateKpi>();
    parts.input::<MeasureKpi>();
    parts.input::<KpiIdInput>();
    parts.object(payload::<Kpi>("kpi", "Result of a mutation changing a KPI."));
    parts.object(payload::<KpiMeasurement>("kpiMeasurement", "Result of measuring a KPI."));
    parts.list(&*KPIS);
    parts.list(&*KPI_MEASUREMENTS);
    parts.object(kpi_object());
    parts.object(measurement_object());
    parts.object(metric_object());
    parts.object(trend_object());
    parts.node::<Kpi>();
    parts.node::<KpiMeasurement>();
    parts.extend::<Organization>(list_field("kpis", &KPIS, "The organisation's KPIs.", |_, req| {
        let org = req.require(Permission::AnalyticsRead)?;
        Ok(kpi::Entity::find().filter(kpi::Column::OrgId.eq(org)))
    }));
    parts.extend::<Organization>(
        Field::new("kpiMetrics", TypeRef::named_nn_list_nn("KpiMetric"), |ctx| {
            FieldFuture::new(async move {
                RequestCtx::of(&ctx)?.require(Permission::AnalyticsRead)?;
                let metrics = ctx.data_opt::<Metrics>().cloned().unwrap_or_default();
                let list: Vec<FieldValue<'_>> = metrics.all().map(|m| FieldValue::owned_any(*m)).collect();
                Ok(Some(FieldValue::list(list)))
            })
        })
        .description("The named aggregates a KPI may measure, from every domain."),
    );
    mutations(parts);
}

fn mutations(parts: &mut SchemaParts) {
    parts.mutation(node_mutation_with(
        Kpi,
        "createKpi",
        "Define a KPI (AnalyticsManage).",
        |req, m: Metrics, i: CreateKpi| async move {
            let input = KpiInput {
                name: Some(i.name),
                description: Some(i.description),
                metric: Some(i.metric),
                params: i.params,
                target: Some(i.target),
                direction: i.direction,
                period: i.period,
                owner_id: Some(i.owner_id.map(|o| Membership::decode(&o, "ownerId")).transpose()?),
                active: i.active,
            };
            Ok(payload_value(kpis::create(req.db.as_ref(), &req.session, &m, input).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        Kpi,
        "updateKpi",
        "Change a KPI; omitted fields stay.",
        |req, m: Metrics, i: UpdateKpi| async move {
            let owner = match i.owner_id {
                Some(Some(o)) => Some(Some(Membership::decode(&o, "ownerId")?)),
                Some(None) => Some(None),
                None => None,
            };
            let input = KpiInput {
                name: i.name,
                description: i.description,
                metric: i.metric,
                params: i.params,
                target: i.target,
                direction: i.direction,
                period: i.period,
                owner_id: owner,
                active: i.active,
            };
            let key = (Kpi::decode(&i.id, "id")?, i.expected_version);
            Ok(payload_value(kpis::update(req.db.as_ref(), &req.session, &m, key, input).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        Kpi,
        "deleteKpi",
        "Delete a KPI and its measurements.",
        |req, _m: Metrics, i: KpiIdInput| async move {
            Ok(payload_value(kpis::delete(req.db.as_ref(), &req.session, Kpi::decode(&i.id, "id")?).await?))
        },
    ));
    parts.mutation(node_mutation_with(
        KpiMeasurement,
        "measureKpi",
        "Measure a KPI now (its current period), or the period holding `on`; replaces that period's value.",
        |req, m: Metrics, i: MeasureKpi| async move {
            let id = Kpi::decode(&i.id, "id")?;
            Ok(payload_value(kpis::measure(req.db.as_ref(), &req.session, &m, id, i.on).await?))
        },
    ));
}

fn trend_field() -> Field {
    Field::new("trend", TypeRef::named_nn_list_nn("KpiTrendPoint"), |ctx| {
        FieldFuture::new(async move {
            let k = parent::<kpi::Model>(&ctx)?;
            let req = RequestCtx::of(&ctx)?;
            let today = chrono::Utc::now().date_naive();
            let period = KpiPeriod::parse(&k.period).unwrap_or(KpiPeriod::Month);
            let bucket = match ctx.args.get("bucket") {
                Some(b) => {
                    KpiPeriod::parse(b.enum_name()?).ok_or_else(|| AppError::bad_input("bucket", "unknown bucket"))?
                }
                None => period,
            };
            let to = date_arg(&ctx, "to")?.unwrap_or(today);
            let from = date_arg(&ctx, "from")?.unwrap_or_else(|| default_from(bucket, to));
            let window = kpis::checked_window((from, to, bucket))?;
            let points = req
                .loader(TrendsOfKpi)
                .load_one((k.id, window))
                .await
                .map_err(|e| opsgraph_core::loader::failed(&e))?;
            let list: Vec<FieldValue<'_>> =
                points.map(|p| p.iter().map(|p| FieldValue::owned_any(p.clone())).collect()).unwrap_or_default();
            Ok(Some(FieldValue::list(list)))
        })
    })
    .argument(
        InputValue::new("from", TypeRef::named(scalar::DATE)).description("First day (default: 12 buckets back)."),
    )
    .argument(InputValue::new("to", TypeRef::named(scalar::DATE)).description("Last day (default: today)."))
    .argument(
        InputValue::new("bucket", TypeRef::named(KpiPeriod::NAME))
            .description("Bucket size (default: the KPI's period)."),
    )
    .description("The KPI over time: one point per bucket, measured or not, oldest first.")
}

/// Twelve buckets back from `to`.
fn default_from(bucket: KpiPeriod, to: NaiveDate) -> NaiveDate {
    match bucket {
        KpiPeriod::Day => to - chrono::Days::new(11),
        KpiPeriod::Week => to - chrono::Days::new(77),
        KpiPeriod::Month => to - chrono::Months::new(11),
        KpiPeriod::Quarter => to - chrono::Months::new(33),
        KpiPeriod::Year => to - chrono::Months::new(132),
    }
}

fn kpi_object() -> Object {
    type M = kpi::Model;
    node_object::<Kpi>("A key performance indicator: a named aggregate of the graph with a target and a period.")
        .field(prop::<M>("name", s_nn(), "Name.", |k| k.name.clone().into()))
        .field(prop::<M>("description", nullable(STR), "What it is for.", |k| opt(k.description.clone())))
        .field(
            Field::new("metric", TypeRef::named("KpiMetric"), |ctx| {
                FieldFuture::new(async move {
                    let k = parent::<M>(&ctx)?;
                    let metrics = ctx.data_opt::<Metrics>().cloned().unwrap_or_default();
                    Ok(metrics.get(&k.metric, "metric").ok().map(|m| FieldValue::owned_any(*m)))
                })
            })
            .description("What it measures (null if this server no longer offers the metric)."),
        )
        .field(prop::<M>("metricKey", s_nn(), "The metric's key.", |k| k.metric.clone().into()))
        .field(prop::<M>("params", nn(scalar::JSON), "The metric's parameter.", |k| {
            Value::from_json(k.params.clone()).unwrap_or(Value::Null)
        }))
        .field(prop::<M>("target", nullable(scalar::DECIMAL), "The target.", |k| opt_dec(&k.target)))
        .field(prop::<M>("direction", KpiDirection::nn(), "Which way is better.", |k| enum_value(&k.direction)))
        .field(prop::<M>("period", KpiPeriod::nn(), "How often it is measured.", |k| enum_value(&k.period)))
        .field(ref_field::<M, Membership>("owner", "Who answers for it.", |k| k.owner_id))
        .field(prop::<M>("active", nn(TypeRef::BOOLEAN), "Whether the scheduled job measures it.", |k| k.active.into()))
        .field(
            Field::new("latest", TypeRef::named(KpiMeasurement::NAME), |ctx| {
                FieldFuture::new(async move {
                    let k = parent::<M>(&ctx)?;
                    let req = RequestCtx::of(&ctx)?;
                    let m = req
                        .loader(LatestMeasurement)
                        .load_one(k.id)
                        .await
                        .map_err(|e| opsgraph_core::loader::failed(&e))?;
                    Ok(m.map(|m| FieldValue::owned_any((*m).clone())))
                })
            })
            .description("The most recent period's measurement."),
        )
        .field(page_field::<M, MeasurementsOfKpi>(
            "measurements",
            "Every measurement (by period; `orderBy: {field: PERIOD_START, direction: DESC}` for newest first).",
            |k| k.id,
        ))
        .field(trend_field())
        .field(prop::<M>("version", int_nn(), "Optimistic-concurrency version.", |k| k.version.into()))
        .field(prop::<M>("createdAt", nn(scalar::DATE_TIME), "When it was defined.", |k| ts(&k.created_at)))
        .field(prop::<M>("updatedAt", nn(scalar::DATE_TIME), "When it last changed.", |k| ts(&k.updated_at)))
}

fn measurement_object() -> Object {
    type M = kpi_measurement::Model;
    node_object::<KpiMeasurement>("A KPI's value for one of its periods.")
        .field(ref_field_nn::<M, Kpi>("kpi", "The KPI.", |m| m.kpi_id))
        .field(prop::<M>("periodStart", nn(scalar::DATE), "First day of the period.", |m| {
            m.period_start.to_string().into()
        }))
        .field(prop::<M>("periodEnd", nn(scalar::DATE), "Last day of the period.", |m| m.period_end.to_string().into()))
        .field(prop::<M>("value", nn(scalar::DECIMAL), "The value.", |m| decimal(&m.value)))
        .field(prop::<M>("target", nullable(scalar::DECIMAL), "The target it was held against.", |m| {
            opt_dec(&m.target)
        }))
        .field(
            Field::new("onTarget", TypeRef::named(TypeRef::BOOLEAN), |ctx| {
                FieldFuture::new(async move {
                    let m = parent::<M>(&ctx)?;
                    let req = RequestCtx::of(&ctx)?;
                    let k = opsgraph_core::loader::by_id::<kpi::Entity>(&req, m.kpi_id).await?;
                    let hit = k.and_then(|k| kpis::on_target(m.value, m.target, &k.direction));
                    Ok(hit.map(|b| FieldValue::value(Value::from(b))))
                })
            })
            .description("Whether the value meets the target in the KPI's direction (null without a target)."),
        )
        .field(prop::<M>("source", MeasurementSource::nn(), "What recorded it.", |m| enum_value(&m.source)))
        .field(prop::<M>("measuredAt", nn(scalar::DATE_TIME), "When it was last measured.", |m| ts(&m.measured_at)))
}

fn metric_object() -> Object {
    Object::new("KpiMetric")
        .description("A named aggregate of the graph that KPIs measure.")
        .field(prop::<Metric>("key", s_nn(), "Its key (`work.open_risks`).", |m| m.key.into()))
        .field(prop::<Metric>("description", s_nn(), "What it measures.", |m| m.description.into()))
        .field(prop::<Metric>("unit", MetricUnit::nn(), "Its unit.", |m| enum_value(m.unit.as_str())))
        .field(prop::<Metric>("parameter", nullable(STR), "The parameter it takes, if any.", |m| {
            opt(m.param.map(|p| p.name.to_owned()))
        }))
        .field(prop::<Metric>(
            "parameterValues",
            TypeRef::named_nn_list_nn(STR),
            "The values the parameter accepts.",
            |m| Value::List(m.param.map(|p| p.values.iter().map(|v| Value::from(*v)).collect()).unwrap_or_default()),
        ))
}

fn trend_object() -> Object {
    type P = TrendPoint;
    Object::new("KpiTrendPoint")
        .description("A KPI in one time bucket.")
        .field(prop::<P>("bucketStart", nn(scalar::DATE), "The bucket's first day.", |p| {
            p.bucket_start.to_string().into()
        }))
        .field(prop::<P>("value", nullable(scalar::DECIMAL), "The latest value measured in it (null: none).", |p| {
            opt_dec(&p.value)
        }))
        .field(prop::<P>("average", nullable(scalar::DECIMAL), "The mean of its measurements.", |p| {
            opt_dec(&p.average)
        }))
        .field(prop::<P>("target", nullable(scalar::DECIMAL), "The target of the latest measurement.", |p| {
            opt_dec(&p.target)
        }))
        .field(prop::<P>("measurements", int_nn(), "Measurements in it.", |p| Value::from(p.measurements)))
}

/// Define a KPI.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "CreateKpiInput")]
struct CreateKpi {
    /// Name, unique in the organisation.
    name: String,
    /// What it is for.
    description: Option<String>,
    /// The metric's key (see `Organization.kpiMetrics`).
    metric: String,
    /// The metric's parameter, e.g. `{"level": "HIGH"}`.
    params: Option<serde_json::Value>,
    /// The target.
    target: Option<Decimal>,
    /// Which way is better (default HIGHER_IS_BETTER).
    direction: Option<KpiDirection>,
    /// How often it is measured (default MONTH).
    period: Option<KpiPeriod>,
    /// Who answers for it (Membership).
    owner_id: Option<Id>,
    /// Whether the scheduled job measures it (default true).
    active: Option<bool>,
}

/// Change a KPI; omitted fields stay, null clears.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "UpdateKpiInput")]
struct UpdateKpi {
    /// The KPI.
    id: Id,
    /// The version you last read.
    expected_version: i32,
    /// Name.
    name: Option<String>,
    /// What it is for.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    description: Option<Option<String>>,
    /// The metric's key.
    metric: Option<String>,
    /// The metric's parameter.
    params: Option<serde_json::Value>,
    /// The target.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    target: Option<Option<Decimal>>,
    /// Which way is better.
    direction: Option<KpiDirection>,
    /// How often it is measured.
    period: Option<KpiPeriod>,
    /// Who answers for it.
    #[serde(default, deserialize_with = "opsgraph_core::input::patch")]
    owner_id: Option<Option<Id>>,
    /// Whether the scheduled job measures it.
    active: Option<bool>,
}

/// Measure a KPI.
#[derive(Deserialize, GqlInput)]
#[serde(rename_all = "camelCase")]
#[gql(name = "MeasureKpiInput")]
struct MeasureKpi {
    /// The KPI.
    id: Id,
    /// A day of the period to measure (default: today's).
    on: Option<NaiveDate>,
}

opsgraph_core::id_input!(
    /// Names one KPI.
    KpiIdInput,
    "The KPI."
);

/// `Kpi` lists.
pub static KPIS: LazyLock<ListSpec<kpi::Entity>> = LazyLock::new(|| {
    use kpi::Column as C;
    ListSpec {
        node: Kpi::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("metric", C::Metric, K::Text),
            ff("period", C::Period, K::Enum(KpiPeriod::NAME)),
            ff("ownerId", C::OwnerId, K::Id(Membership::NAME)),
        ],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "NAME",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});

/// `KpiMeasurement` lists.
pub static KPI_MEASUREMENTS: LazyLock<ListSpec<kpi_measurement::Entity>> = LazyLock::new(|| {
    use kpi_measurement::Column as C;
    ListSpec {
        node: KpiMeasurement::NAME,
        id: C::Id,
        filters: vec![
            ff("periodStart", C::PeriodStart, K::Date),
            ff("source", C::Source, K::Enum(MeasurementSource::NAME)),
        ],
        sorts: vec![sk("PERIOD_START", C::PeriodStart, S::Date)],
        default_sort: "PERIOD_START",
        lean: vec![],
        aggregates: vec![],
        groups: vec![],
    }
});
