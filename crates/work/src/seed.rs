//! The work domain's demo data: projects with tasks, milestones, risks, staffing,
//! dependencies, comments, time, change requests, kudos and OKRs for the demo organisations
//! the org seed made, created through the work services.

use crate::nodes::{Comment, Objective, Project, Task, TimeOff};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::input::Id;
use opsgraph_core::node::Model;
use opsgraph_core::{AppResult, Session, TxDb};
use opsgraph_org::nodes::{Membership, Team};
use opsgraph_org::seed::DemoOrg;

use crate::entity::{project, task};
use crate::service::projects::{CreateProjectInput, create as create_project};
use uuid::Uuid;

/// One demo organisation's projects (key, name, status) and clients.
pub struct WorkPlan {
    /// Projects: key, name, status.
    pub projects: &'static [(&'static str, &'static str, &'static str)],
    /// Client names, assigned to projects in turn.
    pub clients: &'static [&'static str],
}

/// The demo organisations' work, in the order of `opsgraph_org::seed::PLANS`.
pub const PLANS: [WorkPlan; 2] = [
    WorkPlan {
        projects: &[("ACME", "Acme Platform Rebuild", "ACTIVE"), ("DATA", "Data Warehouse", "PLANNING")],
        clients: &["Acme Corporation", "Northwind Traders"],
    },
    WorkPlan { projects: &[("GLOBEX", "Brand Refresh", "ACTIVE")], clients: &["Globex Retail"] },
];

/// Creates one organisation's projects with their tasks, delivery, collaboration, time and
/// OKRs through the work services, acting as the demo owner; returns the projects.
pub async fn work(db: &TxDb, org: &DemoOrg, plan: &WorkPlan) -> AppResult<Vec<project::Model>> {
    let (owner, members, teams) = (&org.owner, &org.members, &org.teams);
    let mut projects = Vec::new();
    for (i, (key, name, status)) in plan.projects.iter().enumerate() {
        let project = create_project(
            db,
            owner,
            CreateProjectInput {
                key: (*key).into(),
                name: (*name).into(),
                description: Some(format!("{name} for a demo client.")),
                status: Some(GqlEnum::from_text_or_err(status)?),
                manager_id: members.get(1).or(members.first()).map(|m| Id::of::<Membership>(m.id)),
                team_id: teams.get(i % teams.len().max(1)).map(|t| Id::of::<Team>(t.id)),
                start_date: chrono::NaiveDate::from_ymd_opt(2026, 1 + i as u32, 1),
                end_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 31),
                // Staggered from today, so "due in the next 30 days" finds some.
                deadline: chrono::Utc::now().date_naive().checked_add_days(chrono::Days::new(12 * (i as u64 + 1))),
                client_name: Some(plan.clients[i % plan.clients.len()].into()),
                idempotency_key: None,
            },
        )
        .await?;
        let tasks = seed_tasks(db, owner, &project, members).await?;
        seed_collaboration(db, owner, &project, org, &tasks, i).await?;
        projects.push(project);
    }
    seed_okrs(db, owner, &projects, members).await?;
    seed_chat(db, org, &projects).await?;
    Ok(projects)
}

/// Team chat: #general with a short thread and a reaction, #announcements, and the first
/// project's channel (its staff's), each with conversation.
async fn seed_chat(db: &TxDb, org: &DemoOrg, projects: &[project::Model]) -> AppResult<()> {
    use crate::enums::ChannelKind;
    use crate::service::channels::{self, CreateChannelInput};
    use crate::service::chat::{self, PostMessageInput};
    let owner = &org.owner;
    db.set_tenant(&owner.tenant()).await?;
    let new = |name: &str, kind, project: Option<Uuid>| CreateChannelInput {
        name: name.into(),
        kind,
        is_private: None,
        description: Some(format!("Demo #{name}")),
        project_id: project.map(Id::of::<Project>),
        team_id: None,
        member_ids: None,
    };
    let say = |channel: Uuid, body: String, parent: Option<Uuid>| PostMessageInput {
        channel_id: Id::of::<crate::nodes::Channel>(channel),
        body,
        parent_id: parent.map(Id::of::<crate::nodes::ChannelMessage>),
        attachments: None,
        idempotency_key: None,
    };
    let general = channels::create(db, owner, new("general", ChannelKind::General, None)).await?;
    let handle = org.logins.get(1).cloned().unwrap_or_default();
    let first = chat::post(
        db,
        owner,
        say(general.id, format!("Welcome to opsgraph chat! @{handle}, can you share the sprint plan?"), None),
    )
    .await?;
    if let Some(p) = org.member_session(1) {
        chat::post(db, &p, say(general.id, "On it: plan posted in the project channel.".into(), Some(first.id)))
            .await?;
        chat::react(db, &p, &Id::of::<crate::nodes::ChannelMessage>(first.id), ":wave:", true).await?;
    }
    let news = channels::create(db, owner, new("announcements", ChannelKind::Announcement, None)).await?;
    chat::post(db, owner, say(news.id, "All-hands on Friday at 10:00.".into(), None)).await?;
    if let Some(p) = projects.first() {
        let ch =
            channels::create(db, owner, new(&format!("{}-team", p.key.to_lowercase()), ChannelKind::Group, Some(p.id)))
                .await?;
        chat::post(
            db,
            owner,
            say(ch.id, format!("Kick-off for {}: goals and owners in the pinned message.", p.name), None),
        )
        .await?;
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
    project: &project::Model,
    members: &[Model<Membership>],
) -> AppResult<Vec<task::Model>> {
    let mut created = Vec::new();
    use crate::service::tasks::{self, CreateTaskInput};
    for (i, (title, status, priority)) in TASK_TITLES.iter().enumerate() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 11, 1 + i as u32);
        let t = tasks::create(
            db,
            owner,
            CreateTaskInput {
                project_id: Id::of::<Project>(project.id),
                parent_id: None,
                title: (*title).into(),
                description: Some(format!("{title} for {}.", project.name)),
                kind: Some(GqlEnum::from_text_or_err(if i % 3 == 0 { "FEATURE" } else { "TASK" })?),
                status: Some(GqlEnum::from_text_or_err(if *status == "DONE" { "IN_PROGRESS" } else { status })?),
                priority: Some(GqlEnum::from_text_or_err(priority)?),
                assignee_id: members.get(i % members.len().max(1)).map(|m| Id::of::<Membership>(m.id)),
                start_date: start,
                due_date: start.and_then(|d| d.checked_add_days(chrono::Days::new(14))),
                estimate_hours: Some(rust_decimal::Decimal::from(4 + 2 * i as i64)),
                labels: Some(vec!["demo".into()]),
                client_visible: Some(i < 5),
                idempotency_key: None,
            },
        )
        .await?;
        if i == 3 {
            subtask(db, owner, project, &t, members).await?;
        }
        if i < 2 {
            delivery_items(db, owner, project, members, i).await?;
        }
        if *status == "DONE" {
            tasks::transition(db, owner, &Id::of::<Task>(t.id), "DONE", t.version).await?;
        }
        created.push(t);
    }
    Ok(created)
}

type Member = Model<Membership>;

/// Staffing, dependencies, comments with mentions, a checklist, logged time, time off, a
/// change request and kudos for one demo project.
async fn seed_collaboration(
    db: &TxDb,
    owner: &Session,
    project: &project::Model,
    org: &DemoOrg,
    tasks: &[task::Model],
    index: usize,
) -> AppResult<()> {
    let members = &org.members;
    use crate::service::{comments, dependencies};
    let pid = Id::of::<Project>(project.id);
    staff(db, owner, project, members, index).await?;
    // Design -> CI -> reports, and the guide waits for the design.
    for (task, on) in [(3usize, 2usize), (4, 3), (5, 2)] {
        if let (Some(t), Some(o)) = (tasks.get(task), tasks.get(on)) {
            dependencies::add(db, owner, &Id::of::<Task>(t.id), &Id::of::<Task>(o.id), None).await?;
        }
    }
    if let Some(design) = tasks.get(2) {
        discuss(db, owner, design, org).await?;
    }
    comments::add(
        db,
        owner,
        comments::AddCommentInput {
            subject_id: Some(pid.clone()),
            parent_id: None,
            kind: Some(GqlEnum::from_text_or_err("UPDATE")?),
            body: format!("Week {}: on track; the data model is in review.", 40 + index),
            idempotency_key: None,
        },
    )
    .await?;
    log_time(db, owner, tasks, members).await?;
    if index == 0 {
        leave_and_change(db, owner, project, members).await?;
    }
    Ok(())
}

/// A key result: title, start, target, current.
type KeyResultPlan = (&'static str, i64, i64, i64);

/// A quarter's objectives with key results, linked to the demo projects, and some kudos.
async fn seed_okrs(db: &TxDb, owner: &Session, projects: &[project::Model], members: &[Member]) -> AppResult<()> {
    use crate::service::{okrs, recognition};
    use rust_decimal::Decimal;
    let today = chrono::Utc::now().date_naive();
    let plan: [(&str, [KeyResultPlan; 2]); 2] = [
        ("Delight our clients", [("Client NPS", 30, 50, 42), ("Projects delivered on time (%)", 70, 95, 80)]),
        ("Grow a sustainable practice", [("Billable utilisation (%)", 60, 80, 71), ("Churned clients", 4, 1, 2)]),
    ];
    for (n, (title, krs)) in plan.iter().enumerate() {
        let o = okrs::create_objective(
            db,
            owner,
            okrs::CreateObjectiveInput {
                title: (*title).into(),
                description: None,
                owner_id: members.get(n).map(|m| Id::of::<Membership>(m.id)),
                team_id: None,
                parent_id: None,
                period_start: today - chrono::Days::new(45),
                period_end: today + chrono::Days::new(45),
                idempotency_key: None,
            },
        )
        .await?;
        for (kr, start, target, current) in krs {
            okrs::add_key_result(
                db,
                owner,
                okrs::AddKeyResultInput {
                    objective_id: Id::of::<Objective>(o.id),
                    title: (*kr).into(),
                    unit: None,
                    start_value: Some(Decimal::from(*start)),
                    target_value: Decimal::from(*target),
                    current_value: Some(Decimal::from(*current)),
                    weight: None,
                    owner_id: None,
                    idempotency_key: None,
                },
            )
            .await?;
        }
        for p in projects.iter().skip(n % 2) {
            okrs::set_link(db, owner, &Id::of::<Objective>(o.id), &Id::of::<Project>(p.id), true).await?;
        }
    }
    if let (Some(to), Some(p)) = (members.get(1), projects.first()) {
        recognition::give_kudos(
            db,
            owner,
            recognition::GiveKudosInput {
                to_id: Id::of::<Membership>(to.id),
                category: Some(GqlEnum::from_text_or_err("QUALITY")?),
                message: "The new data model review was thorough and kind.".into(),
                project_id: Some(Id::of::<Project>(p.id)),
                idempotency_key: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// A subtask of `parent`.
async fn subtask(
    db: &TxDb,
    owner: &Session,
    project: &project::Model,
    t: &task::Model,
    members: &[Member],
) -> AppResult<()> {
    use crate::service::tasks::{self, CreateTaskInput};
    tasks::create(
        db,
        owner,
        CreateTaskInput {
            project_id: Id::of::<Project>(project.id),
            parent_id: Some(Id::of::<Task>(t.id)),
            title: "Provision the staging database".into(),
            description: None,
            kind: None,
            status: None,
            priority: None,
            assignee_id: members.first().map(|m| Id::of::<Membership>(m.id)),
            start_date: None,
            due_date: None,
            estimate_hours: None,
            labels: None,
            client_visible: None,
            idempotency_key: None,
        },
    )
    .await?;
    Ok(())
}

/// A milestone and a risk (the `i`-th of two).
async fn delivery_items(
    db: &TxDb,
    owner: &Session,
    project: &project::Model,
    members: &[Member],
    i: usize,
) -> AppResult<()> {
    use crate::service::delivery::{self, CreateMilestoneInput, RaiseRiskInput};
    let name = if i == 0 { "Discovery complete" } else { "Beta release" };
    delivery::create_milestone(
        db,
        owner,
        CreateMilestoneInput {
            project_id: Id::of::<Project>(project.id),
            name: name.into(),
            description: None,
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1 + 14 * i as u32),
            idempotency_key: None,
        },
    )
    .await?;
    let (title, p, imp) = if i == 0 { ("Key client stakeholder leaves", 2, 5) } else { ("Legacy data quality", 4, 3) };
    delivery::raise_risk(
        db,
        owner,
        RaiseRiskInput {
            project_id: Id::of::<Project>(project.id),
            title: title.into(),
            description: None,
            probability: p,
            impact: imp,
            mitigation: Some("Weekly review with the client.".into()),
            owner_id: members.first().map(|m| Id::of::<Membership>(m.id)),
            idempotency_key: None,
        },
    )
    .await?;
    Ok(())
}

/// Everyone staffed on the project.
async fn staff(
    db: &TxDb,
    owner: &Session,
    project: &project::Model,
    members: &[Member],
    index: usize,
) -> AppResult<()> {
    use crate::service::members as staffing;
    let pid = Id::of::<Project>(project.id);
    for (j, m) in members.iter().enumerate() {
        let allocation = [50, 40, 60, 30, 80, 20][(j + index) % 6];
        staffing::add(
            db,
            owner,
            staffing::AddProjectMemberInput {
                project_id: pid.clone(),
                membership_id: Id::of::<Membership>(m.id),
                role: Some(["Engagement lead", "Developer", "Designer", "Analyst"][j % 4].into()),
                allocation_percent: Some(allocation),
                start_date: project.start_date,
                end_date: project.end_date,
                idempotency_key: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// A comment thread with a mention and a checklist on the design task.
async fn discuss(db: &TxDb, owner: &Session, design: &task::Model, org: &DemoOrg) -> AppResult<()> {
    use crate::service::{checklists, comments};
    let login = org.logins.get(1).cloned().unwrap_or_default();
    let mention_text = if login.is_empty() { String::new() } else { format!("@{login}") };
    let c = comments::add(
        db,
        owner,
        comments::AddCommentInput {
            subject_id: Some(Id::of::<Task>(design.id)),
            parent_id: None,
            kind: None,
            body: format!("{mention_text} could you review the entity diagram before Thursday?"),
            idempotency_key: None,
        },
    )
    .await?;
    comments::add(
        db,
        owner,
        comments::AddCommentInput {
            subject_id: None,
            parent_id: Some(Id::of::<Comment>(c.id)),
            kind: None,
            body: "Added the audit tables; ready for a second look.".into(),
            idempotency_key: None,
        },
    )
    .await?;
    for body in ["Entities reviewed", "Indexes agreed", "Migration plan written"] {
        checklists::add(
            db,
            owner,
            checklists::AddChecklistItemInput {
                task_id: Id::of::<Task>(design.id),
                body: body.into(),
                idempotency_key: None,
            },
        )
        .await?;
    }
    Ok(())
}

/// Three weeks of logged time on the first tasks.
async fn log_time(db: &TxDb, owner: &Session, tasks: &[task::Model], members: &[Member]) -> AppResult<()> {
    use crate::service::time;
    let today = chrono::Utc::now().date_naive();
    for (k, t) in tasks.iter().take(4).enumerate() {
        for (n, m) in members.iter().enumerate().take(3) {
            let back = 1 + ((k * 3 + n * 5) % 18) as u64;
            time::log_time(
                db,
                owner,
                time::LogTimeInput {
                    task_id: Some(Id::of::<Task>(t.id)),
                    project_id: None,
                    membership_id: Some(Id::of::<Membership>(m.id)),
                    date: today - chrono::Days::new(back),
                    hours: rust_decimal::Decimal::new(150 + 50 * ((k + n) as i64 % 5), 2),
                    is_billable: Some(k != 1),
                    note: Some(format!("{} work", t.title)),
                    idempotency_key: None,
                },
            )
            .await?;
        }
    }
    Ok(())
}

/// Approved leave for one member and a change request with a cost.
async fn leave_and_change(db: &TxDb, owner: &Session, project: &project::Model, members: &[Member]) -> AppResult<()> {
    use crate::service::{change_requests, time};
    let pid = Id::of::<Project>(project.id);
    let today = chrono::Utc::now().date_naive();
    if let Some(m) = members.get(2) {
        let start = today + chrono::Days::new(7);
        let off = time::request_time_off(
            db,
            owner,
            time::RequestTimeOffInput {
                membership_id: Some(Id::of::<Membership>(m.id)),
                kind: None,
                start_date: start,
                end_date: start + chrono::Days::new(4),
                hours_per_day: None,
                note: Some("Family trip".into()),
                idempotency_key: None,
            },
        )
        .await?;
        time::decide_time_off(
            db,
            owner,
            time::DecideTimeOffInput {
                id: Id::of::<TimeOff>(off.id),
                expected_version: off.version,
                status: GqlEnum::from_text_or_err("APPROVED")?,
            },
        )
        .await?;
    }
    change_requests::propose(
        db,
        owner,
        change_requests::ProposeChangeRequestInput {
            project_id: pid.clone(),
            title: "Add single sign-on".into(),
            description: Some("The client asks for SSO with their identity provider.".into()),
            impact: Some("Two extra weeks for one developer.".into()),
            schedule_impact_days: Some(10),
            cost_impact: Some(change_requests::MoneyInput {
                amount: rust_decimal::Decimal::new(1_250_000, 2),
                currency: "EUR".into(),
            }),
            idempotency_key: None,
        },
    )
    .await?;
    Ok(())
}
