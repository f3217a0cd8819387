//! The crm domain's named aggregates for KPIs (see [`opsgraph_core::kpi`]). Money is in the
//! organisation's currency by crm's one conversion rule; deals without a rate are left out.

use opsgraph_core::kpi::{Metric, MetricUnit};

use crate::service::forecast;

/// Deals of organisation `$1` at a stage of kind `kind`.
fn deals_at(kind: &str) -> String {
    format!(
        "FROM deals JOIN pipeline_stages s ON s.id = deals.stage_id \
         WHERE deals.org_id = $1 AND deals.deleted_at IS NULL AND s.kind = '{kind}'"
    )
}

/// Every crm metric.
pub fn all() -> Vec<Metric> {
    vec![
        Metric {
            key: "crm.pipeline_weighted_value",
            description: "Open deals' amounts times their probability, in the organisation's currency, now.",
            unit: MetricUnit::Money,
            param: None,
            sql: format!("SELECT coalesce(sum({}), 0) AS value {}", *forecast::WEIGHTED, deals_at("OPEN")).leak(),
        },
        Metric {
            key: "crm.deals_won",
            description: "Deals won during the period.",
            unit: MetricUnit::Count,
            param: None,
            sql: format!(
                "SELECT count(*)::numeric AS value {} AND deals.actual_close_date >= $2::date \
                   AND deals.actual_close_date < $3::date",
                deals_at("WON")
            )
            .leak(),
        },
        Metric {
            key: "crm.won_value",
            description: "Amounts of the deals won during the period, in the organisation's currency.",
            unit: MetricUnit::Money,
            param: None,
            sql: format!(
                "SELECT coalesce(sum({}), 0) AS value {} AND deals.actual_close_date >= $2::date \
                   AND deals.actual_close_date < $3::date",
                *forecast::CONVERTED,
                deals_at("WON")
            )
            .leak(),
        },
        Metric {
            key: "crm.feedback_rating",
            description: "Mean client feedback rating (1 to 5) given during the period (0 when none).",
            unit: MetricUnit::Rating,
            param: None,
            sql: "SELECT coalesce(avg(rating), 0) AS value FROM client_feedback \
                  WHERE org_id = $1 AND created_at >= $2::date AND created_at < $3::date",
        },
    ]
}
