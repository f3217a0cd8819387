//! Bulk test data for N+1 tests and the work benchmark: a portfolio of projects, each with
//! tasks in every status, staffing, milestones, risks, time entries and a linked objective,
//! inserted with set-based SQL (setup only; the API is what is measured).

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use uuid::Uuid;

/// Fills organisation `org` with `projects` projects of `tasks` tasks each, all managed by,
/// assigned to and staffed with member `me`.
pub async fn seed(pool: &DatabaseConnection, org: Uuid, me: Uuid, projects: i32, tasks: i32) -> anyhow::Result<()> {
    let statements = [
        "INSERT INTO projects (id, org_id, key, name, status, manager_id, client_name, next_task_number) \
         SELECT gen_random_uuid(), $1, 'P' || g || 'X', 'Project ' || g, 'ACTIVE', $2, 'Client ' || g, $4 + 1 \
         FROM generate_series(1, $3) g",
        "INSERT INTO tasks (id, org_id, project_id, number, title, description, status, priority, assignee_id, \
           reporter_id, due_date, estimate_hours, position, labels) \
         SELECT gen_random_uuid(), $1, p.id, t, 'Task ' || t || ' of ' || p.name, 'Work item ' || t, \
           (ARRAY['BACKLOG','TODO','IN_PROGRESS','IN_REVIEW','BLOCKED','DONE'])[1 + t % 6], \
           (ARRAY['LOW','MEDIUM','HIGH','URGENT'])[1 + t % 4], $2, $2, current_date + (t % 30 - 10), 2 + t % 5, \
           t * 1024, ARRAY['bench'] \
         FROM projects p, generate_series(1, $4) t WHERE p.org_id = $1",
        "INSERT INTO project_members (id, org_id, project_id, membership_id, role, allocation_percent) \
         SELECT gen_random_uuid(), $1, id, $2, 'Lead', 10 FROM projects WHERE org_id = $1",
        "INSERT INTO milestones (id, org_id, project_id, name, due_date) \
         SELECT gen_random_uuid(), $1, id, 'M' || g, current_date + g * 14 FROM projects, generate_series(1, 2) g \
         WHERE org_id = $1",
        "INSERT INTO risks (id, org_id, project_id, title, probability, impact, owner_id) \
         SELECT gen_random_uuid(), $1, id, 'Risk ' || g, 1 + g, 5 - g, $2 FROM projects, generate_series(1, 2) g \
         WHERE org_id = $1",
        "INSERT INTO time_entries (id, org_id, membership_id, project_id, task_id, entry_date, hours, is_billable) \
         SELECT gen_random_uuid(), $1, $2, project_id, id, current_date - (number % 20), 1.5, number % 3 <> 0 \
         FROM tasks WHERE org_id = $1",
        "INSERT INTO objectives (id, org_id, title, owner_id, period_start, period_end) \
         SELECT gen_random_uuid(), $1, 'Deliver ' || name, $2, current_date - 30, current_date + 60 \
         FROM projects WHERE org_id = $1",
        "INSERT INTO key_results (id, org_id, objective_id, title, start_value, target_value, current_value) \
         SELECT gen_random_uuid(), $1, id, 'KR ' || g, 0, 100, 20 * g FROM objectives, generate_series(1, 3) g \
         WHERE org_id = $1",
        "INSERT INTO objective_links (id, org_id, objective_id, project_id) \
         SELECT gen_random_uuid(), $1, o.id, p.id FROM objectives o JOIN projects p \
           ON o.title = 'Deliver ' || p.name AND p.org_id = o.org_id WHERE o.org_id = $1",
    ];
    for sql in statements {
        pool.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [org.into(), me.into(), projects.into(), tasks.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The organisation and membership of the only member of a freshly signed-up organisation
/// owned by `email`.
pub async fn owner_ids(pool: &DatabaseConnection, email: &str) -> anyhow::Result<(Uuid, Uuid)> {
    let row = pool
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT m.org_id, m.id FROM memberships m JOIN users u ON u.id = m.user_id WHERE u.email = $1",
            [email.into()],
        ))
        .await?
        .ok_or_else(|| anyhow::anyhow!("no membership for {email}"))?;
    Ok((row.try_get("", "org_id")?, row.try_get("", "id")?))
}

/// The project dashboard in one query: client, manager, staffing, board aggregates, tasks
/// with assignees and hours, milestones, open risks by severity, OKR progress, hours.
pub const DASHBOARD: &str = "{ organization { projects(first: 50) { totalCount nodes { key name status \
 client { name } manager { user { displayName } } team { name } \
 members(first: 20) { nodes { role allocationPercent membership { user { displayName } } } } \
 taskStats { status count estimateHours loggedHours } \
 tasks(first: 50, orderBy: [{ field: STATUS, direction: ASC }]) { totalCount nodes { identifier status priority isOverdue loggedHours assignee { user { displayName } } subtasks { totalCount } } } \
 milestones { nodes { name dueDate status } } \
 risks(filter: { status: { eq: OPEN } }, orderBy: [{ field: SEVERITY, direction: DESC }]) { nodes { title severity level owner { user { displayName } } } } \
 okrProgress objectives { title progress keyResults { title progress } } \
 hours { estimatedHours loggedHours billableHours remainingHours } } } } }";

/// "My work": the viewer's open tasks due within two weeks, most urgent first.
pub const MY_WORK: &str = "query($due: Date!) { myWork(first: 50, filter: { status: { notIn: [DONE, CANCELLED] }, dueDate: { lte: $due } }, orderBy: [{ field: PRIORITY, direction: DESC }]) { totalCount nodes { identifier title status priority dueDate isOverdue project { key name } loggedHours } } }";
