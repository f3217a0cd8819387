//! The finance domain's named aggregates for KPIs (see [`opsgraph_core::kpi`]). Money is in
//! the organisation's currency at each invoice's rate of issue.

use opsgraph_core::kpi::{Metric, MetricUnit};

/// Issued invoices of `$1` still owed something whose due date has passed.
const OVERDUE: &str = "FROM invoices WHERE org_id = $1 AND kind = 'INVOICE' \
                       AND status IN ('ISSUED', 'SENT', 'PARTIALLY_PAID') \
                       AND due_date < least($3::date, current_date)";

/// Every finance metric.
pub fn all() -> Vec<Metric> {
    vec![
        Metric {
            key: "finance.overdue_invoices",
            description: "Issued invoices not fully paid whose due date has passed (by the period's end, or today).",
            unit: MetricUnit::Count,
            param: None,
            sql: format!("SELECT count(*)::numeric AS value {OVERDUE}").leak(),
        },
        Metric {
            key: "finance.overdue_amount",
            description: "What overdue invoices still owe, in the organisation's currency.",
            unit: MetricUnit::Money,
            param: None,
            sql: format!(
                "SELECT coalesce(sum((total - paid_total - credited_total) * coalesce(rate_to_org, 1)), 0) AS value \
                 {OVERDUE}"
            )
            .leak(),
        },
        Metric {
            key: "finance.invoiced_amount",
            description: "Invoices issued during the period (credit notes deducted), in the organisation's currency.",
            unit: MetricUnit::Money,
            param: None,
            sql: "SELECT coalesce(sum(CASE WHEN kind = 'CREDIT_NOTE' THEN -total ELSE total END \
                    * coalesce(rate_to_org, 1)), 0) AS value FROM invoices \
                  WHERE org_id = $1 AND status NOT IN ('DRAFT', 'VOID') \
                    AND issue_date >= $2::date AND issue_date < $3::date",
        },
    ]
}
