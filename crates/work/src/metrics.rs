//! The work domain's named aggregates for KPIs (see [`opsgraph_core::kpi`]). Figures of the
//! state of things (open, overdue) are read now; figures of a period over its days.

use opsgraph_core::kpi::{Metric, MetricParam, MetricUnit};

/// Open tasks: not done, cancelled or deleted.
const OPEN_TASK: &str = "t.org_id = $1 AND t.deleted_at IS NULL AND t.status NOT IN ('DONE', 'CANCELLED')";

/// Risk levels by severity band, as `delivery::risk_level` draws them.
const LEVEL: &str = "CASE WHEN r.severity <= 4 THEN 'LOW' WHEN r.severity <= 9 THEN 'MEDIUM' \
                     WHEN r.severity <= 16 THEN 'HIGH' ELSE 'CRITICAL' END";

fn leak(s: String) -> &'static str {
    s.leak()
}

/// Every work metric.
pub fn all() -> Vec<Metric> {
    vec![
        Metric {
            key: "work.open_tasks",
            description: "Tasks not done, cancelled or deleted, now.",
            unit: MetricUnit::Count,
            param: None,
            sql: leak(format!("SELECT count(*)::numeric AS value FROM tasks t WHERE {OPEN_TASK}")),
        },
        Metric {
            key: "work.overdue_tasks",
            description: "Open tasks whose due date has passed (by the period's end, or today if sooner).",
            unit: MetricUnit::Count,
            param: None,
            sql: leak(format!(
                "SELECT count(*)::numeric AS value FROM tasks t WHERE {OPEN_TASK} \
                   AND t.due_date < least($3::date, current_date)"
            )),
        },
        Metric {
            key: "work.tasks_completed",
            description: "Tasks completed during the period.",
            unit: MetricUnit::Count,
            param: None,
            sql: "SELECT count(*)::numeric AS value FROM tasks t WHERE t.org_id = $1 AND t.deleted_at IS NULL \
                    AND t.status = 'DONE' AND t.completed_at >= $2::date AND t.completed_at < $3::date",
        },
        Metric {
            key: "work.logged_hours",
            description: "Hours logged during the period.",
            unit: MetricUnit::Hours,
            param: None,
            sql: "SELECT coalesce(sum(hours), 0) AS value FROM time_entries \
                  WHERE org_id = $1 AND entry_date >= $2::date AND entry_date < $3::date",
        },
        Metric {
            key: "work.billable_utilisation",
            description: "Billable hours logged as a share of the delivery staff's capacity in the period, in percent. \
                          Delivery staff: members staffed on a live project during the period or who logged time in it; \
                          capacity: their weekly availability (8 h Monday to Friday by default).",
            unit: MetricUnit::Percent,
            param: None,
            sql: "WITH staff AS (SELECT pm.membership_id AS id FROM project_members pm JOIN projects p ON p.id = pm.project_id \
                    WHERE pm.org_id = $1 AND p.deleted_at IS NULL \
                      AND (pm.start_date IS NULL OR pm.start_date < $3::date) AND (pm.end_date IS NULL OR pm.end_date >= $2::date) \
                  UNION SELECT membership_id FROM time_entries WHERE org_id = $1 AND entry_date >= $2::date AND entry_date < $3::date), \
                  days AS (SELECT d::date AS d, extract(isodow FROM d)::smallint AS wd \
                           FROM generate_series($2::date, $3::date - 1, interval '1 day') d), \
                  cap AS (SELECT sum(coalesce(a.hours, CASE WHEN days.wd < 6 THEN 8 ELSE 0 END)) AS h \
                          FROM staff CROSS JOIN days \
                          LEFT JOIN availability a ON a.membership_id = staff.id AND a.weekday = days.wd), \
                  billable AS (SELECT sum(e.hours) AS h FROM time_entries e \
                               WHERE e.org_id = $1 AND e.is_billable AND e.entry_date >= $2::date AND e.entry_date < $3::date) \
                  SELECT coalesce(100 * billable.h / nullif(cap.h, 0), 0) AS value FROM cap, billable",
        },
        Metric {
            key: "work.open_risks",
            description: "Risks not closed, now; `level` (LOW, MEDIUM, HIGH, CRITICAL) counts one severity band.",
            unit: MetricUnit::Count,
            param: Some(MetricParam { name: "level", values: &["LOW", "MEDIUM", "HIGH", "CRITICAL"] }),
            sql: leak(format!(
                "SELECT count(*)::numeric AS value FROM risks r JOIN projects p ON p.id = r.project_id \
                 WHERE r.org_id = $1 AND r.status <> 'CLOSED' AND p.deleted_at IS NULL \
                   AND ($4::text IS NULL OR {LEVEL} = $4::text)"
            )),
        },
        Metric {
            key: "work.active_projects",
            description: "Projects in PLANNING or ACTIVE, now.",
            unit: MetricUnit::Count,
            param: None,
            sql: "SELECT count(*)::numeric AS value FROM projects WHERE org_id = $1 AND deleted_at IS NULL \
                    AND status IN ('PLANNING', 'ACTIVE')",
        },
    ]
}
