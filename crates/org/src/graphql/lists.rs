//! List specs (filters, orders) of the org node types and their relationships.

use crate::enums::{ApiKeyScope, NotificationKind, SkillKind, TeamKind};
pub(crate) use crate::loader::{
    ChildTeams, MembershipsOfUser, ReportsOf, SkillsOfMember, TeamMembersOfTeam, TeamsOfMember,
};
use crate::nodes::{ApiKey, AuditEntry, MemberSkill, Membership, Notification, Skill, Team, TeamMember};
use opsgraph_core::Role;
use opsgraph_core::aggregate::{GroupKind as G, gf};
use opsgraph_core::gql::GqlEnum;
use opsgraph_core::node::NodeType;
use std::sync::LazyLock;

use opsgraph_core::filter::{FieldKind as K, ff};
use opsgraph_core::pagination::{ListSpec, SortKind as S, sk};

use crate::entity::{api_key, audit_entry, member_skill, membership, notification, skill, team, team_member};

/// `Membership` lists.
pub static MEMBERS: LazyLock<ListSpec<membership::Entity>> = LazyLock::new(|| {
    use membership::Column as C;
    ListSpec {
        node: Membership::NAME,
        id: C::Id,
        filters: vec![
            ff("role", C::Role, K::Enum(Role::NAME)),
            ff("jobTitle", C::JobTitle, K::Text),
            ff("department", C::Department, K::Text),
            ff("managerId", C::ManagerId, K::Id(Membership::NAME)),
            ff("hireDate", C::HireDate, K::Date),
            ff("isActive", C::IsActive, K::Boolean),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
            sk("ROLE", C::Role, S::Ranked(&Role::VALUES)),
            sk("UPDATED_AT", C::UpdatedAt, S::DateTime),
        ],
        default_sort: "CREATED_AT",
        // Rates are not measures: they need RatesRead, which a list does not check.
        aggregates: vec![],
        groups: vec![
            gf("ROLE", C::Role, G::Enum(&Role::VALUES)),
            gf("DEPARTMENT", C::Department, G::Text),
            gf("MANAGER", C::ManagerId, G::Id(Membership::NAME)),
            gf("HIRE_DATE", C::HireDate, G::Date),
            gf("IS_ACTIVE", C::IsActive, G::Text),
        ],
    }
});

/// `Team` lists.
pub static TEAMS: LazyLock<ListSpec<team::Entity>> = LazyLock::new(|| {
    use team::Column as C;
    ListSpec {
        node: Team::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("kind", C::Kind, K::Enum(TeamKind::NAME)),
            ff("parentId", C::ParentId, K::Id(Team::NAME)),
            ff("leadId", C::LeadId, K::Id(Membership::NAME)),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("NAME", C::Name, S::Text), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "NAME",
        aggregates: vec![],
        groups: vec![],
    }
});

/// `TeamMember` lists.
pub static TEAM_MEMBERS: LazyLock<ListSpec<team_member::Entity>> = LazyLock::new(|| {
    use team_member::Column as C;
    ListSpec {
        node: TeamMember::NAME,
        id: C::Id,
        filters: vec![ff("role", C::Role, K::Text), ff("membershipId", C::MembershipId, K::Id(Membership::NAME))],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Skill` lists.
pub static SKILLS: LazyLock<ListSpec<skill::Entity>> = LazyLock::new(|| {
    use skill::Column as C;
    ListSpec {
        node: Skill::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("kind", C::Kind, K::Enum(SkillKind::NAME)),
            ff("category", C::Category, K::Text),
            ff("parentId", C::ParentId, K::Id(Skill::NAME)),
        ],
        sorts: vec![
            sk("NAME", C::Name, S::Text),
            sk("KIND", C::Kind, S::Ranked(&SkillKind::VALUES)),
            sk("CREATED_AT", C::CreatedAt, S::DateTime),
        ],
        default_sort: "NAME",
        aggregates: vec![],
        groups: vec![],
    }
});

/// `ApiKey` lists.
pub static API_KEYS: LazyLock<ListSpec<api_key::Entity>> = LazyLock::new(|| {
    use api_key::Column as C;
    ListSpec {
        node: ApiKey::NAME,
        id: C::Id,
        filters: vec![
            ff("name", C::Name, K::Text),
            ff("scope", C::Scope, K::Enum(ApiKeyScope::NAME)),
            ff("revokedAt", C::RevokedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime), sk("NAME", C::Name, S::Text)],
        default_sort: "CREATED_AT",
        aggregates: vec![],
        groups: vec![],
    }
});

/// `AuditEntry` lists.
pub static AUDIT: LazyLock<ListSpec<audit_entry::Entity>> = LazyLock::new(|| {
    use audit_entry::Column as C;
    ListSpec {
        node: AuditEntry::NAME,
        id: C::Id,
        filters: vec![
            ff("action", C::Action, K::Text),
            ff("entityType", C::EntityType, K::Text),
            ff("actorMembershipId", C::ActorMembershipId, K::Id(Membership::NAME)),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        aggregates: vec![],
        groups: vec![],
    }
});

/// `MemberSkill` lists.
pub static MEMBER_SKILLS: LazyLock<ListSpec<member_skill::Entity>> = LazyLock::new(|| {
    use member_skill::Column as C;
    ListSpec {
        node: MemberSkill::NAME,
        id: C::Id,
        filters: vec![ff("skillId", C::SkillId, K::Id(Skill::NAME)), ff("proficiency", C::Proficiency, K::Int)],
        sorts: vec![sk("PROFICIENCY", C::Proficiency, S::Int), sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        aggregates: vec![],
        groups: vec![],
    }
});

/// `Notification` lists.
pub static NOTIFICATIONS: LazyLock<ListSpec<notification::Entity>> = LazyLock::new(|| {
    use notification::Column as C;
    ListSpec {
        node: Notification::NAME,
        id: C::Id,
        filters: vec![
            ff("kind", C::Kind, K::Enum(NotificationKind::NAME)),
            ff("readAt", C::ReadAt, K::DateTime),
            ff("archivedAt", C::ArchivedAt, K::DateTime),
            ff("createdAt", C::CreatedAt, K::DateTime),
        ],
        sorts: vec![sk("CREATED_AT", C::CreatedAt, S::DateTime)],
        default_sort: "CREATED_AT",
        aggregates: vec![],
        groups: vec![],
    }
});
