//! The org domain's demo data: organisations with owners, people, teams and skills, created
//! through the org services (so it obeys the same rules and audit as the API). The server's
//! `seed` command calls [`organisation`] for each of [`PLANS`] and hands the result to the
//! other domains' seeds.

use crate::nodes::{Membership, Skill, Team};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::input::Id;
use opsgraph_core::{Actor, AppResult, Role, Session, TxDb};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryFilter, Statement};

use crate::AuthConfig;
use crate::entity::{membership, skill, team};
use crate::service::invitations::{self, AcceptInvitationInput};
use crate::service::members::{AddMemberInput, add};
use crate::service::rates::{self, RateChange};
use crate::service::signup::{NewAccount, SignUpInput, create_account};
use crate::service::skills::{CreateSkillInput, create as create_skill, set_member_skill};
use crate::service::teams::{CreateTeamInput, add_member, create as create_team};

/// Password of every demo account.
pub const DEMO_PASSWORD: &str = "opsgraph-demo-1";

/// What the org seed made, for the seeds of the domains above it.
pub struct DemoOrg {
    /// The owner's session (seeds of other domains act as the owner).
    pub owner: Session,
    /// The people, in plan order.
    pub members: Vec<membership::Model>,
    /// Each person's sign-in handle (the local part of their e-mail), as in `members`.
    pub logins: Vec<String>,
    /// The teams, in plan order.
    pub teams: Vec<team::Model>,
}

impl DemoOrg {
    /// The session of the `i`-th person (seeds acting as them).
    pub fn member_session(&self, i: usize) -> Option<Session> {
        let m = self.members.get(i)?;
        Some(Session {
            actor: Actor::User { user_id: m.user_id },
            membership_id: Some(m.id),
            role: Role::parse(&m.role),
            ..self.owner.clone()
        })
    }
}

/// One demo organisation: its owner, people, teams and skills.
pub struct OrgPlan {
    /// Organisation name.
    pub org: &'static str,
    /// The demo's domain.
    pub domain: &'static str,
    /// The demo's owner.
    pub owner: (&'static str, &'static str),
    /// The demo's people.
    pub people: &'static [(&'static str, &'static str, &'static str, &'static str, &'static str)],
    /// The demo's teams.
    pub teams: &'static [(&'static str, &'static str)],
    /// The demo's skills.
    pub skills: &'static [&'static str],
}

/// The demo organisations.
pub const PLANS: [OrgPlan; 2] = [
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
    },
];

/// Whether the demo organisations exist already.
pub async fn present(pool: &DatabaseConnection) -> AppResult<bool> {
    let row = pool
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT 1 AS x FROM users WHERE lower(email) = 'owner@acme.example'",
        ))
        .await?;
    Ok(row.is_some())
}

/// Creates one demo organisation through the org services (same rules and audit as the
/// API): owner, people who can all sign in, teams with members, skills and ratings.
pub async fn organisation(db: &TxDb, auth: &AuthConfig, plan: &OrgPlan) -> AppResult<DemoOrg> {
    let anon = Session::anonymous("seed");
    let account = NewAccount::from_input(SignUpInput {
        email: format!("owner@{}", plan.domain),
        password: DEMO_PASSWORD.into(),
        first_name: plan.owner.0.into(),
        last_name: plan.owner.1.into(),
        organization_name: plan.org.into(),
    })?;
    let tokens = create_account(db, auth, &anon, account).await?;
    let org_id = tokens.org_id;
    let membership_id = membership::Entity::find()
        .filter(membership::Column::UserId.eq(tokens.user.id))
        .filter(membership::Column::OrgId.eq(org_id))
        .one(db)
        .await?
        .map(|m| m.id);
    let owner = Session {
        actor: Actor::User { user_id: tokens.user.id },
        org_id,
        membership_id,
        role: Some(Role::Owner),
        ..anon
    };
    let (members, logins) = people(db, auth, &owner, plan).await?;
    let skills = skills(db, &owner, plan).await?;
    let teams = teams(db, &owner, plan, &members).await?;
    for (i, m) in members.iter().enumerate() {
        for (j, s) in skills.iter().enumerate() {
            if (i + j) % 2 == 0 {
                set_member_skill(
                    db,
                    &owner,
                    &Id::of::<Membership>(m.id),
                    &Id::of::<Skill>(s.id),
                    ((i * 3 + j * 2) % 11) as i64,
                )
                .await?;
            }
        }
    }
    Ok(DemoOrg { owner, members, logins, teams })
}

/// The plan's people, each able to sign in with the demo password; with their handles.
async fn people(
    db: &TxDb,
    auth: &AuthConfig,
    owner: &Session,
    plan: &OrgPlan,
) -> AppResult<(Vec<membership::Model>, Vec<String>)> {
    let mut members = Vec::new();
    let mut logins = Vec::new();
    for (login, name, role, title, dept) in plan.people {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        let m = add(
            db,
            owner,
            AddMemberInput {
                email: format!("{login}@{}", plan.domain),
                first_name: Some(first.into()),
                last_name: Some(last.into()),
                role: GqlEnum::from_text_or_err(role)?,
                job_title: Some((*title).into()),
                department: Some((*dept).into()),
                manager_id: members.first().map(|m: &membership::Model| Id::of::<Membership>(m.id)),
                hire_date: chrono::NaiveDate::from_ymd_opt(2022, 1 + (members.len() as u32 % 12), 1),
                cost_rate: Some(rust_decimal::Decimal::new(6000 + 500 * members.len() as i64, 2)),
                bill_rate: Some(rust_decimal::Decimal::new(15000 + 1000 * members.len() as i64, 2)),
            },
        )
        .await?;
        // Every demo person can sign in: redeem their invitation with the demo password.
        let token = invitations::create(db, owner, m.org_id, m.id).await?;
        let accept = AcceptInvitationInput { token, password: DEMO_PASSWORD.into(), first_name: None, last_name: None };
        invitations::accept(db, auth, owner, accept).await?;
        if members.len() % 2 == 1 {
            // Every other person got a raise half a year ago: older work keeps the old rates.
            let from = chrono::Utc::now().date_naive() - chrono::Days::new(182);
            let raise = |r: i64| Some(Some(rust_decimal::Decimal::new(r, 2)));
            let change = RateChange {
                from: Some(from),
                cost: raise(6500 + 500 * members.len() as i64),
                bill: raise(16500 + 1000 * members.len() as i64),
            };
            rates::set(db, m.org_id, m.id, &change).await?;
        }
        logins.push((*login).to_owned());
        members.push(m);
    }
    Ok((members, logins))
}

/// The plan's skills catalog.
async fn skills(db: &TxDb, owner: &Session, plan: &OrgPlan) -> AppResult<Vec<skill::Model>> {
    let mut skills = Vec::new();
    for name in plan.skills {
        skills.push(
            create_skill(
                db,
                owner,
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
    Ok(skills)
}

/// The plan's teams, each led by a member, with members spread over them.
async fn teams(
    db: &TxDb,
    owner: &Session,
    plan: &OrgPlan,
    members: &[membership::Model],
) -> AppResult<Vec<team::Model>> {
    let mut teams = Vec::new();
    for (i, (name, kind)) in plan.teams.iter().enumerate() {
        let lead = members.get(i % members.len().max(1)).map(|m| Id::of::<Membership>(m.id));
        let t = create_team(
            db,
            owner,
            CreateTeamInput {
                name: (*name).into(),
                kind: Some(GqlEnum::from_text_or_err(kind)?),
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
                    owner,
                    &Id::of::<Team>(t.id),
                    &Id::of::<Membership>(m.id),
                    Some(if j == 0 { "Lead" } else { "Member" }),
                )
                .await?;
            }
        }
        teams.push(t);
    }
    Ok(teams)
}

/// The demo webhook: an endpoint for a receiver on this machine, DISABLED until someone
/// listens there and enables it.
pub async fn webhook(db: &TxDb, org: &DemoOrg, hooks: &crate::service::webhooks::Webhooks) -> AppResult<()> {
    use crate::service::webhooks::{self, EndpointInput};
    let input = EndpointInput {
        url: Some("http://127.0.0.1:8787/webhooks".into()),
        description: Some(
            "Demo: a receiver on this machine. Start one on port 8787, then enable this endpoint.".into(),
        ),
        event_types: Some(vec!["task.*".into(), "deal.*".into(), "invoice.*".into()]),
        active: None,
    };
    let (ep, _secret) = webhooks::create(db, &org.owner, hooks, input).await?;
    let gid = Id::of::<crate::nodes::WebhookEndpoint>(ep.id);
    let off = EndpointInput { active: Some(false), ..EndpointInput::default() };
    webhooks::update(db, &org.owner, hooks, (&gid, ep.version), off).await?;
    Ok(())
}

/// The demo's projects query: every project with its task count.
pub const DEMO_PROJECTS_QUERY: &str =
    "query Projects { organization { projects(first: 50) { nodes { key name status tasks { totalCount } } } } }";

/// The demo's reporting: KPIs from several domains measured over the last periods, a
/// shared saved query, a shared "Operations" dashboard with KPI, chart and list widgets,
/// and a report template.
pub async fn reporting(
    db: &TxDb,
    org: &DemoOrg,
    metrics: &opsgraph_core::kpi::Metrics,
    runner: &opsgraph_core::query_runner::Runner,
) -> AppResult<()> {
    use crate::service::dashboards::{self, DashboardInput};
    let input = DashboardInput { name: Some("Operations".into()), shared: Some(true), ..Default::default() };
    let dash = dashboards::create(db, &org.owner, input).await?;
    demo_kpis(db, org, metrics, dash.id).await?;
    demo_queries(db, org, runner, dash.id).await
}

/// Five KPIs, each measured for this period and the five before it, on the dashboard.
async fn demo_kpis(db: &TxDb, org: &DemoOrg, metrics: &opsgraph_core::kpi::Metrics, dash: uuid::Uuid) -> AppResult<()> {
    use crate::enums::{KpiDirection as D, KpiPeriod as P, MeasurementSource, WidgetKind as W};
    use crate::service::dashboards::{self, WidgetInput};
    use crate::service::kpis::{self, KpiInput};
    let s = &org.owner;
    let plan: [(&str, &str, serde_json::Value, i64, D, P); 5] = [
        ("Open tasks", "work.open_tasks", serde_json::json!({}), 60, D::LowerIsBetter, P::Week),
        ("Billable utilisation", "work.billable_utilisation", serde_json::json!({}), 75, D::HigherIsBetter, P::Month),
        ("High risks", "work.open_risks", serde_json::json!({ "level": "HIGH" }), 2, D::LowerIsBetter, P::Week),
        (
            "Weighted pipeline",
            "crm.pipeline_weighted_value",
            serde_json::json!({}),
            250_000,
            D::HigherIsBetter,
            P::Month,
        ),
        ("Overdue invoices", "finance.overdue_invoices", serde_json::json!({}), 0, D::LowerIsBetter, P::Week),
    ];
    for (name, metric, params, target, direction, period) in plan {
        let input = KpiInput {
            name: Some(name.into()),
            metric: Some(metric.into()),
            params: Some(params),
            target: Some(Some(rust_decimal::Decimal::from(target))),
            direction: Some(direction),
            period: Some(period),
            owner_id: Some(s.membership_id),
            ..Default::default()
        };
        let k = kpis::create(db, s, metrics, input).await?;
        let mut day = None;
        for _ in 0..6 {
            let m = kpis::record(db, metrics, &k, day, MeasurementSource::Schedule).await?;
            day = m.period_start.pred_opt();
        }
        let w = WidgetInput { kind: Some(W::Kpi), title: Some(name.into()), kpi_id: Some(k.id), ..Default::default() };
        dashboards::add_widget(db, s, dash, w).await?;
    }
    Ok(())
}

/// A shared saved query, a chart and a list over it, and a report template.
async fn demo_queries(
    db: &TxDb,
    org: &DemoOrg,
    runner: &opsgraph_core::query_runner::Runner,
    dash: uuid::Uuid,
) -> AppResult<()> {
    use crate::enums::WidgetKind as W;
    use crate::service::dashboards::{self, ChartSpec, WidgetInput};
    use crate::service::report_files::{ChartColumns, Column};
    use crate::service::{reports, saved_queries};
    let s = &org.owner;
    let input = saved_queries::SavedQueryInput {
        name: Some("Projects and their tasks".into()),
        document: Some(DEMO_PROJECTS_QUERY.into()),
        shared: Some(true),
        ..Default::default()
    };
    let q = saved_queries::create(db, s, runner, input).await?;
    let rows = "organization.projects.nodes";
    let chart = ChartSpec { rows_path: rows.into(), label_path: "key".into(), value_path: "tasks.totalCount".into() };
    for (kind, title) in [(W::Chart, "Tasks per project"), (W::List, "Projects")] {
        let w = WidgetInput {
            kind: Some(kind),
            title: Some(title.into()),
            saved_query_id: Some(q.id),
            chart: Some(chart.clone()),
            ..Default::default()
        };
        dashboards::add_widget(db, s, dash, w).await?;
    }
    let columns = [("Key", "key"), ("Project", "name"), ("Status", "status"), ("Tasks", "tasks.totalCount")];
    let input = reports::TemplateInput {
        name: Some("Project portfolio".into()),
        saved_query_id: Some(q.id),
        rows_path: Some(rows.into()),
        columns: Some(columns.iter().map(|(l, p)| Column { label: (*l).into(), path: (*p).into() }).collect()),
        chart: Some(Some(ChartColumns { label_column: 0, value_column: 3 })),
        shared: Some(true),
        ..Default::default()
    };
    reports::create(db, s, input).await?;
    Ok(())
}
