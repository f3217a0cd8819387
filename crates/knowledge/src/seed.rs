//! Demo data: a company handbook (an ORGANIZATION wiki of 32 pages, some with a second
//! revision) and an engineering runbook space for the first team, so
//! `search` answers real questions right after `./dev run` (keyword at once; semantic as
//! soon as the background indexer has embedded the chunks, a few seconds).

use opsgraph_core::input::Id;
use opsgraph_core::{AppResult, TxDb};
use opsgraph_org::nodes::Team;
use opsgraph_org::seed::DemoOrg;

use crate::embed::Models;
use crate::enums::{DocumentKind, Visibility};
use crate::nodes::Collection;
use crate::service::collections::{self, CreateCollectionInput};
use crate::service::documents::{self, CreateDocumentInput, UpdateDocumentInput};

/// The handbook: (title, tags, body).
pub const HANDBOOK: [(&str, &str, &str); 32] = [
    (
        "Welcome to the company",
        "onboarding",
        "# Welcome\n\nWe are a services company: we plan, build and run software for our clients. This handbook explains how we work, what you can expect from us and what we expect from you. Ask your manager or the people team whenever something is unclear.",
    ),
    (
        "Your first week",
        "onboarding",
        "# Your first week\n\nOn day one you receive your laptop, your accounts and a buddy. During the week you meet your team, read the engineering and delivery guides, log your first hours and join a client stand-up as an observer. By Friday you should be able to open a task, log time against it and ask for a review.",
    ),
    (
        "Laptops and equipment",
        "it,onboarding",
        "# Laptops and equipment\n\nEveryone gets a laptop refreshed every three years, a monitor and a headset. Order accessories up to 300 EUR a year through the IT portal. Lost or stolen equipment must be reported to IT within 24 hours so the device can be wiped remotely.",
    ),
    (
        "Accounts and passwords",
        "it,security",
        "# Accounts and passwords\n\nUse the company password manager for every work account. Single sign-on protects email, chat and the project tools; turn on two-factor authentication everywhere it is offered. Never share a password, not even with IT.",
    ),
    (
        "Working hours",
        "time",
        "# Working hours\n\nA full-time week is 40 hours. Core hours are 10:00 to 16:00 in your local time zone; outside them you organise your day with your team. Client meetings take priority over internal ones.",
    ),
    (
        "Logging time",
        "time,billing",
        "# Logging time\n\nLog your hours every day against the task or project you worked on, and mark client work as billable. Time is invoiced at the end of the month, and invoiced time can no longer be edited, so fix mistakes before the first working day of the next month.",
    ),
    (
        "Vacation and time off",
        "time,leave",
        "# Vacation and time off\n\nEveryone gets 25 days of paid vacation a year, plus public holidays. Request time off in the calendar at least two weeks ahead; your manager approves it. Unused days carry over until the end of March of the next year.",
    ),
    (
        "Sick leave",
        "leave",
        "# Sick leave\n\nIf you are ill, tell your manager before 10:00 and record a sick day in the calendar. From the fourth consecutive day we need a doctor's note. Take the time you need to recover; your team covers client commitments.",
    ),
    (
        "Parental leave",
        "leave",
        "# Parental leave\n\nParents get 16 weeks of fully paid leave, to be taken within the first year after a birth or adoption. Tell the people team three months ahead if you can, so client work can be planned around your leave.",
    ),
    (
        "Remote work",
        "remote",
        "# Remote work\n\nYou may work from home or anywhere in your country of employment. Working from another country for more than four weeks a year needs approval from the people team because of tax and insurance rules.",
    ),
    (
        "Expenses",
        "finance,expenses",
        "# Expenses\n\nSubmit every receipt within thirty days of spending. A manager who is not you approves the claim, and finance reimburses approved expenses with the next payroll. Expenses for client work are marked billable and re-invoiced to the client.",
    ),
    (
        "Travel",
        "finance,travel",
        "# Travel\n\nBook trains in standard class and flights in economy. Flights need a manager's approval before booking; hotels up to 150 EUR a night need none. Keep every receipt of the trip and submit it as an expense.",
    ),
    (
        "Meals and client entertainment",
        "finance,expenses",
        "# Meals and client entertainment\n\nWhen travelling we pay up to 40 EUR a day for meals. Taking a client to dinner needs a partner's approval beforehand; name the guests on the expense.",
    ),
    (
        "Invoicing clients",
        "finance,billing",
        "# Invoicing clients\n\nInvoices are drafted from logged billable time and rebillable expenses at the end of each month. An invoice gets its number only when it is issued, and issued invoices are never edited: mistakes are corrected with a credit note. Payment is due within 30 days.",
    ),
    (
        "Bill rates and cost rates",
        "finance,billing",
        "# Bill rates and cost rates\n\nEach person has a bill rate, what the client pays per hour, and a cost rate, what an hour costs us. Rates change on a date and older work keeps the rates of its day. Project margins compare what we invoiced with the cost of the hours and expenses.",
    ),
    (
        "Starting a project",
        "delivery",
        "# Starting a project\n\nEvery project starts with a kickoff: goals, scope, budget, milestones and the client's people. The project manager creates the project, staffs it and shares the plan with the client. Risks are recorded from the first week.",
    ),
    (
        "Estimating work",
        "delivery",
        "# Estimating work\n\nEstimate tasks in hours with a range, not a single number. Large items are split until no task is above two days. Estimates are reviewed by a second person before they are shared with a client.",
    ),
    (
        "Managing risks",
        "delivery,risk",
        "# Managing risks\n\nRecord a risk as soon as you see it, with its probability and impact. High risks are discussed in every status meeting and get an owner and a mitigation. Tell the client early; surprises cost trust.",
    ),
    (
        "Status reports",
        "delivery",
        "# Status reports\n\nProject managers send a weekly status to the client: progress against milestones, budget burn, risks and decisions needed. Keep it short and factual; red is allowed, hiding red is not.",
    ),
    (
        "Client feedback",
        "delivery,clients",
        "# Client feedback\n\nWe ask clients for a rating after every milestone. Every rating below four gets a written response from the project manager within a week and a follow-up call.",
    ),
    (
        "Code review",
        "engineering",
        "# Code review\n\nEvery change is reviewed by another engineer before it is merged. Reviews check correctness, tests and readability. Answer review requests within one working day; small changes get faster reviews.",
    ),
    (
        "Testing",
        "engineering",
        "# Testing\n\nEvery feature has automated tests that run against a real database. A bug fix starts with a test that fails. The main branch stays green: a red build is fixed before anything else.",
    ),
    (
        "Deployments",
        "engineering,operations",
        "# Deployments\n\nWe deploy small changes often, during working hours, never on Friday afternoons. Each deployment can be rolled back with one command. Database migrations must be backwards compatible with the previous release.",
    ),
    (
        "Incidents",
        "operations",
        "# Incidents\n\nWhen production breaks, the on-call engineer opens an incident, informs the client within 30 minutes and fixes or rolls back first. A blameless review follows within five days, with actions and owners.",
    ),
    (
        "On-call",
        "operations",
        "# On-call\n\nEngineers on client support contracts take one week of on-call every six weeks. On-call weeks are paid with a fixed allowance plus the hours worked at night, and the next day starts late.",
    ),
    (
        "Security",
        "security",
        "# Security\n\nReport a suspected breach or phishing email to security immediately. Client data stays in client systems or our approved storage; never copy it to personal devices. Access is removed the day someone leaves a project.",
    ),
    (
        "Data protection",
        "security,privacy",
        "# Data protection\n\nWe process personal data only for the purpose agreed with the client. Keep what you need, delete what you do not, and ask the data protection officer before moving personal data to a new tool or country.",
    ),
    (
        "Learning budget",
        "growth",
        "# Learning budget\n\nEveryone has 1,500 EUR and five days a year for courses, conferences and books. Agree the plan with your manager; share what you learned with your team afterwards.",
    ),
    (
        "Career paths",
        "growth",
        "# Career paths\n\nEngineers, designers and project managers grow along two tracks: individual expertise or people leadership. Promotions are decided twice a year from peer feedback, client feedback and the skills matrix.",
    ),
    (
        "Feedback and reviews",
        "growth",
        "# Feedback and reviews\n\nGive feedback often and specifically, praise in public and criticism in private. Twice a year every person has a review with their manager covering goals, skills and wellbeing.",
    ),
    (
        "Salaries and payroll",
        "people",
        "# Salaries and payroll\n\nSalaries are paid on the 25th of each month. Salary bands are published internally and reviewed every January. Changes to your bank details must reach the people team by the 15th.",
    ),
    (
        "Leaving the company",
        "people",
        "# Leaving the company\n\nThe notice period is one month during probation and three months after. Before your last day you hand over your projects, return your equipment and have an exit conversation with the people team.",
    ),
];

/// Pages revised since, with their new body: (index in [`HANDBOOK`], body).
const REVISIONS: [(usize, &str); 4] = [
    (
        6,
        "# Vacation and time off\n\nEveryone gets 27 days of paid vacation a year, plus public holidays. Request time off in the calendar at least two weeks ahead; your manager approves it. Unused days carry over until the end of March of the next year.",
    ),
    (
        11,
        "# Travel\n\nBook trains in standard class and flights in economy. Flights need a manager's approval before booking; hotels up to 170 EUR a night need none. Prefer the train for trips under five hours. Keep every receipt of the trip and submit it as an expense.",
    ),
    (
        9,
        "# Remote work\n\nYou may work from home or anywhere in your country of employment. Working from another country for more than six weeks a year needs approval from the people team because of tax and insurance rules. Tell your team where you are.",
    ),
    (
        27,
        "# Learning budget\n\nEveryone has 2,000 EUR and five days a year for courses, conferences and books. Agree the plan with your manager; share what you learned with your team afterwards.",
    ),
];

const RUNBOOK: [(&str, &str); 3] = [
    (
        "Rolling back a release",
        "# Rolling back a release\n\nIf a release fails its health checks, run the rollback job for the previous version, confirm the error rate drops, then post in the incident channel. Investigate only after the service is healthy again.",
    ),
    (
        "Database migrations",
        "# Database migrations\n\nMigrations run before the new release starts. Never drop a column in the release that stops using it: drop it one release later. Large backfills run in batches outside peak hours.",
    ),
    (
        "Rotating secrets",
        "# Rotating secrets\n\nSecrets are rotated every 90 days and immediately when someone with access leaves. Update the secret store first, deploy, then revoke the old value.",
    ),
];

/// A new document of `collection` tagged with the comma-separated `tags`.
fn page(collection: uuid::Uuid, kind: DocumentKind, title: &str, body: &str, tags: &str) -> CreateDocumentInput {
    CreateDocumentInput {
        collection_id: Id::of::<Collection>(collection),
        folder_id: None,
        kind,
        title: title.into(),
        body: body.into(),
        source_url: None,
        language: None,
        tags: Some(tags.split(',').map(str::to_owned).collect()),
        idempotency_key: None,
    }
}

/// Seeds one demo organisation's knowledge, acting as its owner; returns its handbook
/// collection.
pub async fn knowledge(db: &TxDb, org: &DemoOrg) -> AppResult<uuid::Uuid> {
    let owner = &org.owner;
    db.set_tenant(&owner.tenant()).await?;
    let collection = |name: &str, visibility, team: Option<Id>| CreateCollectionInput {
        name: name.into(),
        description: None,
        kind: None,
        visibility,
        team_id: team,
        project_id: None,
        language: None,
        embedding_model: None,
        idempotency_key: None,
    };
    let handbook = collections::create(
        db,
        owner,
        &Models::default(),
        collection("Company handbook", Visibility::Organization, None),
    )
    .await?;
    let mut pages = vec![];
    for (title, t, body) in HANDBOOK {
        pages.push(documents::create(db, owner, page(handbook.id, DocumentKind::WikiPage, title, body, t)).await?);
    }
    for (i, body) in REVISIONS {
        let page = &pages[i];
        let input = UpdateDocumentInput {
            id: Id::of::<crate::nodes::Document>(page.id),
            expected_version: page.version,
            title: None,
            body: Some(body.into()),
            kind: None,
            tags: None,
            source_url: None,
            folder_id: None,
        };
        documents::update(db, owner, input).await?;
    }
    if let Some(team) = org.teams.first() {
        let space = collection("Engineering runbooks", Visibility::Team, Some(Id::of::<Team>(team.id)));
        let runbooks = collections::create(db, owner, &Models::default(), space).await?;
        for (title, body) in RUNBOOK {
            let input = page(runbooks.id, DocumentKind::Article, title, body, "engineering,operations");
            documents::create(db, owner, input).await?;
        }
    }
    Ok(handbook.id)
}
