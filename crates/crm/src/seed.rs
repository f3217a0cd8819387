//! The crm domain's demo data, created through the crm services as the demo owner: an
//! industry catalog, accounts with contacts, and a "New business" pipeline with 32 deals
//! across its stages in two currencies, some moved so they have a stage history.

use opsgraph_core::input::Id;
use opsgraph_core::node::Model;
use opsgraph_core::{AppResult, TxDb};
use opsgraph_org::nodes::Membership;
use opsgraph_org::seed::DemoOrg;
use rust_decimal::Decimal;

use crate::nodes::{Account, Contact, Deal, Industry, PipelineStage};
use crate::service::pipelines::{CreatePipelineInput, StageInput};
use crate::service::projects::SetProjectAccountInput;
use crate::service::{accounts, contacts, deals, industries, pipelines, portal};
use opsgraph_org::AuthConfig;
use opsgraph_org::seed::DEMO_PASSWORD;
use opsgraph_org::service::invitations::{self, AcceptInvitationInput};
use opsgraph_work::nodes::Project;

const INDUSTRIES: [&str; 4] = ["Retail", "Manufacturing", "Financial services", "Public sector"];

/// A demo person: first name, last name, title.
type Person = (&'static str, &'static str, &'static str);

/// Accounts: name, industry index, country, contacts.
const ACCOUNTS: [(&str, usize, &str, [Person; 2]); 6] = [
    ("Acme Corporation", 1, "US", [("John", "Smith", "CTO"), ("Emily", "Chen", "Head of Procurement")]),
    ("Northwind Traders", 0, "GB", [("Oliver", "Brown", "COO"), ("Amelia", "Wilson", "IT Manager")]),
    ("Globex Retail", 0, "DE", [("Lukas", "Schmidt", "CIO"), ("Mia", "Weber", "Buyer")]),
    ("Initech Bank", 2, "US", [("Peter", "Gibbons", "VP Engineering"), ("Joanna", "Park", "Risk Officer")]),
    ("Stadt Musterhausen", 3, "DE", [("Anna", "Keller", "Digital Lead"), ("Jonas", "Wolf", "Procurement")]),
    ("Umbrella Logistics", 1, "FR", [("Camille", "Martin", "CEO"), ("Hugo", "Bernard", "Operations")]),
];

const STAGES: [(&str, i32, &str); 6] = [
    ("Lead", 10, "OPEN"),
    ("Qualified", 25, "OPEN"),
    ("Proposal", 50, "OPEN"),
    ("Negotiation", 75, "OPEN"),
    ("Won", 100, "WON"),
    ("Lost", 0, "LOST"),
];

const DEAL_NAMES: [&str; 8] = [
    "Platform rebuild",
    "Data warehouse",
    "Support retainer",
    "Mobile app",
    "Cloud migration",
    "Security audit",
    "Analytics",
    "Training",
];

/// Creates one organisation's crm data; links `projects` to the accounts their client names
/// and gives the first project's client a portal login (see [`PORTAL_LOGINS`]).
pub async fn crm(db: &TxDb, auth: &AuthConfig, org: &DemoOrg, projects: &[Model<Project>]) -> AppResult<()> {
    let owner = &org.owner;
    let mut industry_ids = vec![];
    for name in INDUSTRIES {
        let i = industries::create(db, owner, industries::CreateIndustryInput { name: name.into(), description: None })
            .await?;
        industry_ids.push(Id::of::<Industry>(i.id));
    }
    let mut people = vec![];
    for (i, (name, industry, country, staff)) in ACCOUNTS.iter().enumerate() {
        let a = accounts::create(db, owner, account(name, &industry_ids[*industry], country, member(org, i))).await?;
        for (first, last, title) in staff {
            let c = contacts::create(db, owner, contact(&a.id, first, last, title, name)).await?;
            people.push((Id::of::<Account>(a.id), Id::of::<Contact>(c.id)));
        }
        for p in projects.iter().filter(|p| p.client_name.as_deref() == Some(*name)) {
            let link = SetProjectAccountInput {
                project_id: Id::of::<Project>(p.id),
                account_id: Some(Id::of::<Account>(a.id)),
            };
            crate::service::projects::set_project_account(db, owner, link).await?;
            if projects.first().is_some_and(|f| f.id == p.id) {
                portal_login(db, auth, org, people[people.len() - 2].1.clone()).await?;
            }
        }
    }
    let stage_inputs = STAGES
        .iter()
        .map(|(n, p, k)| StageInput {
            name: (*n).into(),
            probability: *p,
            kind: opsgraph_core::gql::GqlEnum::from_text(k),
        })
        .collect();
    let p = pipelines::create(
        db,
        owner,
        CreatePipelineInput { name: "New business".into(), is_default: Some(true), stages: stage_inputs },
    )
    .await?;
    let stages = crate::loader::stages(db, p.id).await?;
    for i in 0..32 {
        let (account, contact) = &people[i % people.len()];
        let created = deals::create(db, owner, deal(i, account, contact, member(org, i))).await?;
        let target = i % STAGES.len();
        if target > 0 {
            let stage = Some(Id::of::<PipelineStage>(stages[target]));
            let lost = (target == 5).then(|| "Chose a cheaper offer".to_owned());
            let mv = deals::MoveDealInput {
                id: Id::of::<Deal>(created.id),
                stage_id: stage,
                after_id: None,
                lost_reason: lost,
            };
            deals::move_deal(db, owner, mv).await?;
        }
    }
    Ok(())
}

/// The demo client portal logins (the first project's client's first contact), password
/// [`opsgraph_org::seed::DEMO_PASSWORD`].
pub const PORTAL_LOGINS: [&str; 2] = ["john.smith@acmecorporation.example", "lukas.schmidt@globexretail.example"];

/// Gives `contact` portal access and redeems its invitation with the demo password.
async fn portal_login(db: &TxDb, auth: &AuthConfig, org: &DemoOrg, contact: Id) -> AppResult<()> {
    let owner = &org.owner;
    let c = portal::set_access(db, owner, portal::SetPortalAccessInput { contact_id: contact, enabled: true }).await?;
    let Some(m) = c.membership_id else { return Ok(()) };
    let token = invitations::create(db, owner, c.org_id, m).await?;
    let accept = AcceptInvitationInput { token, password: DEMO_PASSWORD.into(), first_name: None, last_name: None };
    invitations::accept(db, auth, owner, accept).await?;
    Ok(())
}

fn member(org: &DemoOrg, i: usize) -> Option<Id> {
    let m: Option<&Model<Membership>> = org.members.get(i % org.members.len().max(1));
    m.map(|m| Id::of::<Membership>(m.id))
}

fn account(name: &str, industry: &Id, country: &str, owner: Option<Id>) -> accounts::CreateAccountInput {
    let slug: String = name.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    accounts::CreateAccountInput {
        name: name.into(),
        industry_id: Some(industry.clone()),
        size: None,
        website: Some(format!("https://{slug}.example")),
        address: None,
        city: None,
        country: Some(country.into()),
        status: None,
        owner_id: owner,
        tags: None,
        custom_fields: None,
        idempotency_key: None,
    }
}

fn contact(account: &uuid::Uuid, first: &str, last: &str, title: &str, company: &str) -> contacts::CreateContactInput {
    let domain: String = company.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    contacts::CreateContactInput {
        account_id: Some(Id::of::<Account>(*account)),
        first_name: first.into(),
        last_name: Some(last.into()),
        email: Some(format!("{}.{}@{domain}.example", first.to_lowercase(), last.to_lowercase())),
        phone: None,
        title: Some(title.into()),
        company: None,
        source: Some("demo".into()),
        status: None,
        owner_id: None,
        tags: None,
        custom_fields: None,
        idempotency_key: None,
    }
}

fn deal(i: usize, account: &Id, contact: &Id, owner: Option<Id>) -> deals::CreateDealInput {
    let currency = if i.is_multiple_of(3) { "EUR" } else { "USD" };
    deals::CreateDealInput {
        name: format!("{} #{}", DEAL_NAMES[i % DEAL_NAMES.len()], i + 1),
        pipeline_id: None,
        stage_id: None,
        account_id: Some(account.clone()),
        contact_id: Some(contact.clone()),
        amount: Some(Decimal::from(5_000 + (i as i64 * 7_919) % 95_000)),
        currency: Some(currency.into()),
        probability: None,
        expected_close_date: chrono::Utc::now()
            .date_naive()
            .checked_add_days(chrono::Days::new(7 * (i as u64 % 13) + 3)),
        owner_id: owner,
        source: Some("demo".into()),
        idempotency_key: None,
    }
}
