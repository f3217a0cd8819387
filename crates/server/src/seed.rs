//! Demo data: two organisations with owners, members, teams, skills and projects, loaded
//! through the domain services (so it obeys the same rules and audit as the API).

use opsgraph_core::{Actor, Role, Session, Tenant, TxDb};
use opsgraph_org::AuthConfig;
use opsgraph_org::service::auth::{SignUpInput, sign_up};
use opsgraph_org::service::invitations::{self, AcceptInvitationInput};
use opsgraph_org::service::members::{AddMemberInput, add};
use opsgraph_org::service::skills::{CreateSkillInput, create as create_skill, set_member_skill};
use opsgraph_org::service::teams::{CreateTeamInput, add_member, create as create_team};
use opsgraph_work::service::projects::{CreateProjectInput, create as create_project};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "opsgraph-demo-1";

struct OrgPlan {
    org: &'static str,
    domain: &'static str,
    owner: (&'static str, &'static str),
    people: &'static [(&'static str, &'static str, &'static str, &'static str, &'static str)],
    teams: &'static [(&'static str, &'static str)],
    skills: &'static [&'static str],
    projects: &'static [(&'static str, &'static str, &'static str)],
    clients: &'static [&'static str],
}

const PLANS: [OrgPlan; 2] = [
    OrgPlan {
        org: "Acme Consulting",
        domain: "acme.example",
        owner: ("Ada", "Lovelace"),
        people: &[
            ("grace", "Grace Hopper", "ADMIN", "Head of Delivery", "Delivery"),
            ("alan", "Alan Turing", "MANAGER", "Engagement Manager", "Delivery"),
            ("edsger", "Edsger Dijkstra", "MEMBER", "Senior Engineer", "Engineering"),
            ("barbara", "Barbara Liskov", "MEMBER", "Architect", "Engineering"),
            ("ken", "Ken Thompson", "MEMBER", "Engineer", "Engineering"),
            ("margaret", "Margaret Hamilton", "VIEWER", "Finance Analyst", "Finance"),
        ],
        teams: &[("Delivery", "DEPARTMENT"), ("Platform Studio", "STUDIO"), ("Data Crew", "CREW")],
        skills: &["Rust", "PostgreSQL", "GraphQL", "Project Management", "Machine Learning"],
        projects: &[("ACME", "Acme Platform Rebuild", "ACTIVE"), ("DATA", "Data Warehouse", "PLANNING")],
        clients: &["Acme Corporation", "Northwind Traders"],
    },
    OrgPlan {
        org: "Globex Studios",
        domain: "globex.example",
        owner: ("Hank", "Scorpio"),
        people: &[
            ("frank", "Frank Grimes", "MANAGER", "Producer", "Production"),
            ("lisa", "Lisa Simpson", "MEMBER", "Designer", "Design"),
            ("homer", "Homer Simpson", "MEMBER", "Safety Inspector", "Operations"),
        ],
        teams: &[("Design Studio", "STUDIO"), ("Operations", "AREA")],
        skills: &["Figma", "Illustration", "Video Editing"],
        projects: &[("GLOBEX", "Brand Refresh", "ACTIVE")],
        clients: &["Globex Retail"],
    },
];

/// Loads the demo organisations unless they exist already.
pub async fn demo(pool: &DatabaseConnection, auth: &AuthConfig) -> anyhow::Result<()> {
    let exists = pool
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 1 AS x FROM users WHERE lower(email) = 'owner@acme.example'",
        ))
        .await?
        .is_some();
    if exists {
        tracing::info!("demo data already present");
        return Ok(());
    }
    for plan in &PLANS {
        let db = TxDb::begin(pool, &Tenant::default()).await?;
        seed_org(&db, auth, plan).await.map_err(|e| anyhow::anyhow!("seeding {}: {e:?}", plan.org))?;
        db.commit().await?;
        tracing::info!(org = plan.org, "demo organisation loaded");
    }
    Ok(())
}

async fn seed_org(db: &TxDb, auth: &AuthConfig, plan: &OrgPlan) -> opsgraph_core::AppResult<()> {
    let anon = Session::anonymous("seed");
    let tokens = sign_up(
        db,
        auth,
        &anon,
        SignUpInput {
            email: format!("owner@{}", plan.domain),
            password: DEMO_PASSWORD.into(),
            first_name: plan.owner.0.into(),
            last_name: plan.owner.1.into(),
            organization_name: plan.org.into(),
        },
    )
    .await?;
    let org_id = tokens.org_id;
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT id FROM memberships WHERE user_id = $1 AND org_id = $2",
            [tokens.user.id.into(), org_id.into()],
        ))
        .await?;
    let membership_id = row.map(|r| r.try_get::<uuid::Uuid>("", "id")).transpose()?;
    let owner = Session {
        actor: Actor::User { user_id: tokens.user.id },
        org_id,
        membership_id,
        role: Some(Role::Owner),
        ..anon
    };
    let mut members = Vec::new();
    for (login, name, role, title, dept) in plan.people {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        let m = add(
            db,
            &owner,
            AddMemberInput {
                email: format!("{login}@{}", plan.domain),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                role: (*role).into(),
                job_title: Some((*title).into()),
                department: Some((*dept).into()),
                manager_id: members
                    .first()
                    .map(|m: &opsgraph_org::entity::membership::Model| opsgraph_core::id::encode("Membership", m.id)),
                hire_date: chrono::NaiveDate::from_ymd_opt(2022, 1 + (members.len() as u32 % 12), 1),
                cost_rate: Some(rust_decimal::Decimal::new(6000 + 500 * members.len() as i64, 2)),
                bill_rate: Some(rust_decimal::Decimal::new(15000 + 1000 * members.len() as i64, 2)),
            },
        )
        .await?;
        // Every demo person can sign in: redeem their invitation with the demo password.
        let token = invitations::create(db, &owner, m.org_id, m.id).await?;
        let accept = AcceptInvitationInput { token, password: DEMO_PASSWORD.into(), first_name: None, last_name: None };
        invitations::accept(db, auth, &owner, accept).await?;
        members.push(m);
    }
    let mut skills = Vec::new();
    for name in plan.skills {
        skills.push(
            create_skill(
                db,
                &owner,
                CreateSkillInput {
                    name: (*name).into(),
                    kind: None,
                    category: Some("Technical".into()),
                    description: None,
                    parent_id: None,
                    level: None,
                },
            )
            .await?,
        );
    }
    let gid = |t: &str, id: uuid::Uuid| opsgraph_core::id::encode(t, id);
    let mut teams = Vec::new();
    for (i, (name, kind)) in plan.teams.iter().enumerate() {
        let lead = members.get(i % members.len().max(1)).map(|m| gid("Membership", m.id));
        let t = create_team(
            db,
            &owner,
            CreateTeamInput {
                name: (*name).into(),
                kind: Some((*kind).into()),
                description: Some(format!("The {name}.")),
                parent_id: None,
                lead_id: lead,
            },
        )
        .await?;
        for (j, m) in members.iter().enumerate() {
            if j % plan.teams.len() == i || j == 0 {
                add_member(
                    db,
                    &owner,
                    &gid("Team", t.id),
                    &gid("Membership", m.id),
                    Some(if j == 0 { "Lead" } else { "Member" }),
                )
                .await?;
            }
        }
        teams.push(t);
    }
    for (i, m) in members.iter().enumerate() {
        for (j, s) in skills.iter().enumerate() {
            if (i + j) % 2 == 0 {
                set_member_skill(
                    db,
                    &owner,
                    &gid("Membership", m.id),
                    &gid("Skill", s.id),
                    ((i * 3 + j * 2) % 11) as i64,
                )
                .await?;
            }
        }
    }
    for (i, (key, name, status)) in plan.projects.iter().enumerate() {
        let project = create_project(
            db,
            &owner,
            CreateProjectInput {
                key: (*key).into(),
                name: (*name).into(),
                description: Some(format!("{name} for a demo client.")),
                status: Some((*status).into()),
                manager_id: members.get(1).or(members.first()).map(|m| gid("Membership", m.id)),
                team_id: teams.get(i % teams.len().max(1)).map(|t| gid("Team", t.id)),
                start_date: chrono::NaiveDate::from_ymd_opt(2026, 1 + i as u32, 1),
                end_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
                client_name: Some(plan.clients[i % plan.clients.len()].into()),
                idempotency_key: None,
            },
        )
        .await?;
        seed_tasks(db, &owner, &project, &members).await?;
    }
    Ok(())
}

const TASK_TITLES: [(&str, &str, &str); 8] = [
    ("Kick-off workshop with the client", "DONE", "HIGH"),
    ("Map the current architecture", "DONE", "MEDIUM"),
    ("Design the data model", "IN_REVIEW", "HIGH"),
    ("Set up CI and environments", "IN_PROGRESS", "MEDIUM"),
    ("Migrate legacy reports", "BLOCKED", "URGENT"),
    ("Write the onboarding guide", "TODO", "LOW"),
    ("Performance baseline", "TODO", "MEDIUM"),
    ("Explore an analytics add-on", "BACKLOG", "LOW"),
];

async fn seed_tasks(
    db: &TxDb,
    owner: &Session,
    project: &opsgraph_work::entity::project::Model,
    members: &[opsgraph_org::entity::membership::Model],
) -> opsgraph_core::AppResult<()> {
    use opsgraph_work::service::delivery::{self, CreateMilestoneInput, RaiseRiskInput};
    use opsgraph_work::service::tasks::{self, CreateTaskInput};
    let gid = |t: &str, id: uuid::Uuid| opsgraph_core::id::encode(t, id);
    for (i, (title, status, priority)) in TASK_TITLES.iter().enumerate() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 1 + i as u32);
        let t = tasks::create(
            db,
            owner,
            CreateTaskInput {
                project_id: gid("Project", project.id),
                parent_id: None,
                title: (*title).into(),
                description: Some(format!("{title} for {}.", project.name)),
                kind: Some(if i % 3 == 0 { "FEATURE" } else { "TASK" }.into()),
                status: Some(if *status == "DONE" { "IN_PROGRESS" } else { status }.into()),
                priority: Some((*priority).into()),
                assignee_id: members.get(i % members.len().max(1)).map(|m| gid("Membership", m.id)),
                start_date: start,
                due_date: start.and_then(|d| d.checked_add_days(chrono::Days::new(14))),
                estimate_hours: Some(rust_decimal::Decimal::from(4 + 2 * i as i64)),
                labels: Some(vec!["demo".into()]),
                idempotency_key: None,
            },
        )
        .await?;
        if i == 3 {
            tasks::create(
                db,
                owner,
                CreateTaskInput {
                    project_id: gid("Project", project.id),
                    parent_id: Some(gid("Task", t.id)),
                    title: "Provision the staging database".into(),
                    description: None,
                    kind: None,
                    status: None,
                    priority: None,
                    assignee_id: members.first().map(|m| gid("Membership", m.id)),
                    start_date: None,
                    due_date: None,
                    estimate_hours: None,
                    labels: None,
                    idempotency_key: None,
                },
            )
            .await?;
        }
        if i < 2 {
            let name = if i == 0 { "Discovery complete" } else { "Beta release" };
            delivery::create_milestone(
                db,
                owner,
                CreateMilestoneInput {
                    project_id: gid("Project", project.id),
                    name: name.into(),
                    description: None,
                    due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1 + 14 * i as u32),
                },
            )
            .await?;
            let (title, p, imp) =
                if i == 0 { ("Key client stakeholder leaves", 2, 5) } else { ("Legacy data quality", 4, 3) };
            delivery::raise_risk(
                db,
                owner,
                RaiseRiskInput {
                    project_id: gid("Project", project.id),
                    title: title.into(),
                    description: None,
                    probability: p,
                    impact: imp,
                    mitigation: Some("Weekly review with the client.".into()),
                    owner_id: members.first().map(|m| gid("Membership", m.id)),
                },
            )
            .await?;
        }
        if *status == "DONE" {
            tasks::transition(db, owner, &gid("Task", t.id), "DONE", t.version).await?;
        }
    }
    Ok(())
}
