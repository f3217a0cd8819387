//! The org domain's named aggregates for KPIs (see [`opsgraph_core::kpi`]).

use opsgraph_core::kpi::{Metric, MetricUnit};

/// Every org metric.
pub fn all() -> Vec<Metric> {
    vec![Metric {
        key: "org.active_members",
        description: "Active staff members (clients not counted), now.",
        unit: MetricUnit::Count,
        param: None,
        sql: "SELECT count(*)::numeric AS value FROM memberships \
              WHERE org_id = $1 AND is_active AND role <> 'CLIENT'",
    }]
}
