//! Roles, permissions and the authenticated session of a request: written once, used by
//! every domain's guards.

use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// A member's role; decides permissions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, opsgraph_derive::GqlEnum)]
pub enum Role {
    /// Full control, including ownership and billing.
    Owner,
    /// Administers members, teams, keys and settings.
    Admin,
    /// Manages teams, projects and people's work.
    Manager,
    /// Works on assigned work.
    Member,
    /// Read-only access to the organisation.
    Viewer,
    /// External client: portal access only.
    Client,
}

impl Role {
    /// Whether this role grants `perm`. The single role -> permission table of the platform.
    pub fn allows(self, perm: Permission) -> bool {
        use Permission::*;
        use Role::*;
        match perm {
            OrgRead => true,
            MembersRead | TeamsRead | SkillsRead | SettingsRead => self != Client,
            ProfileEditOwn | SkillsEditOwn | NotificationsOwn => true,
            RatesRead | TeamsManage | SkillsManage | MemberSkillsManage => {
                matches!(self, Owner | Admin | Manager)
            }
            MembersManage | ApiKeysManage | WebhooksManage | AuditRead | SettingsManage | OrgManage => {
                matches!(self, Owner | Admin)
            }
            OwnersManage => self == Owner,
            WorkRead | CrmRead => self != Client,
            ProjectsRead | AccountsRead | KnowledgeRead => true,
            ClientRespond => matches!(self, Owner | Admin | Manager | Member | Client),
            WorkWrite | CrmWrite | KnowledgeWrite => matches!(self, Owner | Admin | Manager | Member),
            WorkManage | Integrate | CrmManage | FinanceWrite => matches!(self, Owner | Admin | Manager),
            FinanceRead => matches!(self, Owner | Admin | Manager | Viewer),
            InvoicesRead => matches!(self, Owner | Admin | Manager | Viewer | Client),
            FinanceManage | KnowledgeManage | AiManage => matches!(self, Owner | Admin),
            AiUse => matches!(self, Owner | Admin | Manager | Member),
            AnalyticsRead => self != Client,
            AnalyticsWrite => matches!(self, Owner | Admin | Manager | Member),
            AnalyticsManage => matches!(self, Owner | Admin | Manager),
        }
    }
}

/// What an action needs. Guards ask for one of these; only [`Role::allows`] decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    /// See the organisation itself.
    OrgRead,
    /// Rename the organisation, change its profile.
    OrgManage,
    /// See members and their profiles.
    MembersRead,
    /// Invite, add, deactivate members and change roles below owner.
    MembersManage,
    /// Grant or revoke the OWNER role.
    OwnersManage,
    /// See cost and bill rates.
    RatesRead,
    /// Edit one's own profile.
    ProfileEditOwn,
    /// See teams.
    TeamsRead,
    /// Create, change and delete teams and their members.
    TeamsManage,
    /// See the skills catalog.
    SkillsRead,
    /// Manage the skills catalog.
    SkillsManage,
    /// Set one's own skills.
    SkillsEditOwn,
    /// Set anyone's skills.
    MemberSkillsManage,
    /// Create and revoke API keys.
    ApiKeysManage,
    /// Register and manage outgoing webhooks (they receive every event they ask for).
    WebhooksManage,
    /// Read the audit log.
    AuditRead,
    /// Read organisation settings.
    SettingsRead,
    /// Change organisation settings.
    SettingsManage,
    /// Read and manage one's own notifications.
    NotificationsOwn,
    /// Read projects and tasks.
    WorkRead,
    /// Read the projects one may see, with their tasks and milestones: all of them for
    /// staff; for a CLIENT only those they are staffed on (Row Level Security narrows the
    /// rows, see `Tenant::client_member`).
    ProjectsRead,
    /// Create and change tasks, log time.
    WorkWrite,
    /// Manage projects, members and plans.
    WorkManage,
    /// Read accounts, contacts, pipelines and deals.
    CrmRead,
    /// Read the accounts one may see, with their proposals and feedback: all of them for
    /// staff; for a CLIENT only the account of the contact it is linked to (Row Level
    /// Security narrows the rows; drafts stay hidden).
    AccountsRead,
    /// Give client feedback and answer proposals: staff who write crm data, and a CLIENT
    /// for its own account.
    ClientRespond,
    /// Create and change accounts, contacts, deals and interactions.
    CrmWrite,
    /// Manage pipelines, the industry catalog, merges and exchange rates.
    CrmManage,
    /// Read invoices, payments, the fiscal calendar and project financials.
    FinanceRead,
    /// Read the invoices one may see: all of them for finance readers; for a CLIENT its
    /// account's issued ones (Row Level Security narrows the rows).
    InvoicesRead,
    /// Draft, issue, send and void invoices, record payments.
    FinanceWrite,
    /// Keep the fiscal calendar: create years, close and reopen periods.
    FinanceManage,
    /// Read the knowledge collections one may see and search them (Row Level Security
    /// decides which: visibility and grants; a CLIENT only what is granted to it).
    KnowledgeRead,
    /// Create collections and write documents in the collections one may write.
    KnowledgeWrite,
    /// Manage every non-private collection of the organisation.
    KnowledgeManage,
    /// Talk to the organisation's agents: start conversations, send messages.
    AiUse,
    /// Configure agents.
    AiManage,
    /// Run integrations: external references, upserts by reference and the change feed
    /// (what is written also needs the domain's own permission).
    Integrate,
    /// See KPIs, shared dashboards, saved queries and report templates, run them and
    /// generate reports (they show only what the viewer may see).
    AnalyticsRead,
    /// Keep one's own saved queries, dashboards and report templates.
    AnalyticsWrite,
    /// Define KPIs and share dashboards, saved queries and report templates with the
    /// organisation.
    AnalyticsManage,
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// No credentials.
    Anonymous,
    /// A signed-in user (access token).
    User {
        /// The user's id.
        user_id: Uuid,
    },
    /// An organisation API key.
    ApiKey {
        /// The key's id.
        key_id: Uuid,
    },
    /// An AI agent acting for a member (with that member's rights, never more): its writes
    /// are audited with the run and message that made them.
    Agent {
        /// The agent.
        agent_id: Uuid,
        /// The user the agent acts for.
        user_id: Uuid,
        /// The run.
        run_id: Uuid,
        /// The message whose tool call wrote.
        message_id: Uuid,
    },
}

/// The authenticated caller of one request: actor, active organisation, role.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who is calling.
    pub actor: Actor,
    /// The active organisation, if any.
    pub org_id: Option<Uuid>,
    /// The caller's membership in the active organisation (users only).
    pub membership_id: Option<Uuid>,
    /// The effective role in the active organisation.
    pub role: Option<Role>,
    /// Request id for logs and audit rows.
    pub request_id: String,
    /// Client address, if known.
    pub ip: Option<String>,
    /// Client user agent, if known.
    pub user_agent: Option<String>,
    /// When the credentials stop being valid (unix seconds), if they expire: long-lived
    /// connections close then.
    pub expires_at: Option<i64>,
}

impl Session {
    /// What the session's transactions run as: its organisation and user, and for a
    /// CLIENT its membership (which narrows Row Level Security to its projects).
    pub fn tenant(&self) -> crate::db::Tenant {
        let user_id = self.acting_user();
        let client_member = if self.role == Some(Role::Client) { self.membership_id } else { None };
        let member = self.membership_id.zip(self.role.map(Role::as_str));
        crate::db::Tenant { org_id: self.org_id, user_id, api_key_prefix: None, client_member, member }
    }

    /// An anonymous session.
    pub fn anonymous(request_id: impl Into<String>) -> Self {
        Session {
            actor: Actor::Anonymous,
            org_id: None,
            membership_id: None,
            role: None,
            request_id: request_id.into(),
            ip: None,
            user_agent: None,
            expires_at: None,
        }
    }

    /// The user the session acts for: the signed-in user, or the one an agent acts for.
    pub fn acting_user(&self) -> Option<Uuid> {
        match self.actor {
            Actor::User { user_id } | Actor::Agent { user_id, .. } => Some(user_id),
            Actor::ApiKey { .. } | Actor::Anonymous => None,
        }
    }

    /// The signed-in user (or the user an agent acts for), or UNAUTHENTICATED.
    pub fn user_id(&self) -> AppResult<Uuid> {
        match self.actor {
            Actor::User { user_id } | Actor::Agent { user_id, .. } => Ok(user_id),
            Actor::ApiKey { .. } => {
                Err(AppError::Forbidden("this operation needs a signed-in user, not an API key".into()))
            }
            Actor::Anonymous => Err(AppError::Unauthenticated("sign in first".into())),
        }
    }

    /// The active organisation, or the right error.
    pub fn org_id(&self) -> AppResult<Uuid> {
        if self.actor == Actor::Anonymous {
            return Err(AppError::Unauthenticated("sign in first".into()));
        }
        self.org_id.ok_or_else(|| AppError::Forbidden("no active organisation".into()))
    }

    /// Checks `perm` in the active organisation; returns its id.
    pub fn require(&self, perm: Permission) -> AppResult<Uuid> {
        let org_id = self.org_id()?;
        match self.role {
            Some(role) if role.allows(perm) => Ok(org_id),
            _ => Err(AppError::Forbidden(format!("missing permission {perm:?}"))),
        }
    }

    /// Whether `perm` is granted (for fields that hide rather than fail).
    pub fn can(&self, perm: Permission) -> bool {
        self.require(perm).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_table() {
        assert!(Role::Owner.allows(Permission::OwnersManage));
        assert!(!Role::Admin.allows(Permission::OwnersManage));
        assert!(Role::Admin.allows(Permission::MembersManage));
        assert!(!Role::Manager.allows(Permission::MembersManage));
        assert!(Role::Manager.allows(Permission::TeamsManage));
        assert!(!Role::Viewer.allows(Permission::WorkWrite));
        assert!(!Role::Client.allows(Permission::MembersRead));
        assert!(!Role::Client.allows(Permission::CrmRead) && Role::Client.allows(Permission::AccountsRead));
        assert!(Role::Client.allows(Permission::ClientRespond) && !Role::Viewer.allows(Permission::ClientRespond));
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
    }

    #[test]
    fn anonymous_is_unauthenticated_and_no_org_is_forbidden() {
        let s = Session::anonymous("r");
        assert!(matches!(s.require(Permission::OrgRead), Err(AppError::Unauthenticated(_))));
        let s = Session { actor: Actor::User { user_id: Uuid::nil() }, ..Session::anonymous("r") };
        assert!(matches!(s.require(Permission::OrgRead), Err(AppError::Forbidden(_))));
    }
}
