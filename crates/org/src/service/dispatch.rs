//! The notification dispatcher: turns committed domain events into inbox notifications for
//! the right members (addressed recipients and the event's audience, never the actor),
//! according to each member's preferences; e-mail and push are recorded as pending
//! deliveries. Safe on several instances at once: an organisation is dispatched by one of
//! them at a time (transaction-scoped advisory lock, so notifications commit in event
//! order), events are claimed with `FOR UPDATE SKIP LOCKED`, and a notification is unique
//! per (member, event), so a retry or a second dispatcher never duplicates one. Committed
//! notifications are announced with `NOTIFY opsgraph_inbox, '<org>:<seq>'`.

use std::collections::HashMap;

use opsgraph_core::id::new_id;
use opsgraph_core::{AppResult, Tenant, TxDb};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde_json::Value;
use uuid::Uuid;

/// Most events one dispatcher transaction claims per organisation.
pub const BATCH: i64 = 500;

/// Why a member hears of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Addressed directly (assignee, mentioned, owner).
    Direct,
    /// Watching the subject or managing its project.
    Following,
}

fn text(data: &Value, key: &str) -> String {
    data.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The notification kind and title of event `kind` for a member reached for `reason`;
/// `None` when that member is not told about it.
pub fn render(kind: &str, data: &Value, reason: Reason) -> Option<(&'static str, String)> {
    use Reason::{Direct, Following};
    let title = text(data, "title");
    Some(match (kind, reason) {
        ("task.created" | "task.assigned", Direct) => ("ASSIGNMENT", format!("Assigned to you: {title}")),
        ("task.status_changed", _) => {
            ("STATUS_CHANGE", format!("{title}: {} → {}", text(data, "from"), text(data, "to")))
        }
        ("comment.created" | "comment.edited", Direct) => {
            ("MENTION", format!("You were mentioned: {}", text(data, "excerpt")))
        }
        ("comment.created", Following) => ("COMMENT", format!("New comment: {}", text(data, "excerpt"))),
        ("risk.raised", _) => ("WARNING", format!("Risk raised: {title} ({})", text(data, "level"))),
        ("milestone.achieved", Following) => ("SUCCESS", format!("Milestone reached: {}", text(data, "name"))),
        ("milestone.missed", Following) => ("WARNING", format!("Milestone missed: {}", text(data, "name"))),
        ("milestone.due", _) => ("REMINDER", format!("Milestone due: {}", text(data, "name"))),
        ("task.due", _) => ("REMINDER", format!("Due tomorrow: {title}")),
        ("task.overdue", _) => ("REMINDER", format!("Overdue: {title}")),
        ("change_request.proposed", Following) => ("INFO", format!("Change requested: {title}")),
        ("change_request.decided", Direct) => {
            ("STATUS_CHANGE", format!("Change request {}: {title}", text(data, "status").to_lowercase()))
        }
        ("project.member_added", Direct) => ("ASSIGNMENT", "You were added to a project".to_owned()),
        ("project.status_changed", Following) => ("STATUS_CHANGE", "A project you follow changed status".to_owned()),
        ("time_off.decided", Direct) => {
            ("STATUS_CHANGE", format!("Your time off was {}", text(data, "status").to_lowercase()))
        }
        ("kudos.received", Direct) => ("RECOGNITION", format!("Kudos: {}", text(data, "message"))),
        ("feedback.received", Direct) => ("RECOGNITION", "You received feedback".to_owned()),
        (_, Direct) => return announced(data),
        _ => return None,
    })
}

/// The kinds a domain may announce itself (`data.notify`).
const KINDS: [&str; 9] =
    ["ASSIGNMENT", "STATUS_CHANGE", "MENTION", "COMMENT", "WARNING", "SUCCESS", "REMINDER", "INFO", "RECOGNITION"];

/// A notification an event spells out for its direct recipients: `data.notify = { kind,
/// title }` (how domains above org announce their events without org knowing them).
fn announced(data: &Value) -> Option<(&'static str, String)> {
    let n = data.get("notify")?;
    let kind = KINDS.iter().find(|k| n.get("kind").and_then(Value::as_str) == Some(**k))?;
    let title: String = n.get("title").and_then(Value::as_str)?.chars().take(300).collect();
    Some((kind, title))
}

/// Default channels of a kind when a member set no preference: in-app always; e-mail for
/// what needs the member (mentions, assignments, reminders); push off.
pub fn default_channels(kind: &str) -> (bool, bool, bool) {
    (true, matches!(kind, "MENTION" | "ASSIGNMENT" | "REMINDER"), false)
}

struct Event {
    seq: i64,
    kind: String,
    subject_type: String,
    subject_id: Uuid,
    actor: Option<Uuid>,
    recipients: Vec<Uuid>,
    audience: Vec<Uuid>,
    data: Value,
}

/// Organisations with undispatched events.
async fn pending_orgs(pool: &DatabaseConnection) -> AppResult<Vec<Uuid>> {
    let db = TxDb::begin_system(pool, None, "dispatcher").await?;
    let rows = db
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT org_id FROM event_counters WHERE last_seq > dispatched_seq ORDER BY org_id",
        ))
        .await?;
    db.commit().await?;
    Ok(rows.iter().map(|r| r.try_get("", "org_id")).collect::<Result<_, _>>()?)
}

/// One dispatch pass over every organisation; returns the notifications created. One
/// organisation that fails does not hold the others' notifications back: each is tried,
/// and the pass reports the first failure after all of them.
pub async fn run_once(pool: &DatabaseConnection) -> AppResult<usize> {
    let (mut created, mut failed) = (0, None);
    for org in pending_orgs(pool).await? {
        match dispatch_org(pool, org).await {
            Ok(n) => created += n,
            Err(e) => {
                tracing::warn!(error = ?e, %org, "dispatching an organisation's events failed");
                failed.get_or_insert(e);
            }
        }
    }
    failed.map_or(Ok(created), Err)
}

/// Dispatches one batch of an organisation's events in its own tenant transaction.
pub async fn dispatch_org(pool: &DatabaseConnection, org: Uuid) -> AppResult<usize> {
    let db = TxDb::begin(pool, &Tenant { org_id: Some(org), ..Default::default() }).await?;
    // One dispatcher per organisation at a time, so notifications commit in event order
    // (live inbox streams rely on it); another instance busy with it will also take the rest.
    let locked = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock(hashtextextended('opsgraph.dispatch:' || $1::text, 0)) AS locked",
            [org.into()],
        ))
        .await?
        .map(|r| r.try_get::<bool>("", "locked"))
        .transpose()?
        .unwrap_or(false);
    if !locked {
        db.commit().await?;
        return Ok(0);
    }
    let events = pending_events(&db, org).await?;
    if events.is_empty() {
        db.commit().await?;
        return Ok(0);
    }
    let mut members: Vec<Uuid> = events.iter().flat_map(|e| e.recipients.iter().chain(&e.audience)).copied().collect();
    members.sort();
    members.dedup();
    let prefs = preferences(&db, &members).await?;
    let n = fan_out(&events, &prefs);
    let created = n.insert(&db, org).await?;
    mark_dispatched(&db, org, &events, created).await?;
    db.commit().await?;
    Ok(created)
}

async fn preferences(db: &TxDb, members: &[Uuid]) -> AppResult<HashMap<(Uuid, String), (bool, bool, bool)>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT membership_id, kind, in_app, email, push FROM notification_preferences WHERE membership_id = ANY($1)",
            [opsgraph_core::loader::keys_array(members)],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                (r.try_get("", "membership_id")?, r.try_get("", "kind")?),
                (r.try_get("", "in_app")?, r.try_get("", "email")?, r.try_get("", "push")?),
            ))
        })
        .collect::<Result<_, sea_orm::DbErr>>()
        .map_err(Into::into)
}

/// Notification rows and pending deliveries of one batch, inserted set-wise.
#[derive(Default)]
struct Notifications {
    member: Vec<Uuid>,
    kind: Vec<String>,
    title: Vec<String>,
    subject_type: Vec<String>,
    subject_id: Vec<Uuid>,
    data: Vec<Value>,
    seq: Vec<i64>,
    deliveries: Vec<(Uuid, i64, &'static str, &'static str, String)>,
}

impl Notifications {
    fn push(&mut self, member: Uuid, kind: &str, title: &str, e: &Event) {
        self.member.push(member);
        self.kind.push(kind.to_owned());
        self.title.push(title.to_owned());
        self.subject_type.push(e.subject_type.clone());
        self.subject_id.push(e.subject_id);
        self.data.push(serde_json::json!({ "event": e.kind, "seq": e.seq, "details": e.data }));
        self.seq.push(e.seq);
    }

    async fn insert(self, db: &TxDb, org: Uuid) -> AppResult<usize> {
        let mut created = 0;
        if !self.member.is_empty() {
            let ids: Vec<Uuid> = self.member.iter().map(|_| new_id()).collect();
            let res = db
                .execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "INSERT INTO notifications (id, org_id, membership_id, kind, title, subject_type, subject_id, data, event_seq) \
                     SELECT i, $1, m, k, t, st, si, d, s FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[], \
                       $6::text[], $7::uuid[], $8::jsonb[], $9::int8[]) AS x(i, m, k, t, st, si, d, s) \
                     ON CONFLICT (org_id, membership_id, event_seq) DO NOTHING",
                    [
                        org.into(),
                        ids.into(),
                        self.member.into(),
                        self.kind.into(),
                        self.title.into(),
                        self.subject_type.into(),
                        self.subject_id.into(),
                        self.data.into(),
                        self.seq.into(),
                    ],
                ))
                .await?;
            created = res.rows_affected() as usize;
        }
        if !self.deliveries.is_empty() {
            let (mut ids, mut m, mut s, mut c, mut k, mut t) = (vec![], vec![], vec![], vec![], vec![], vec![]);
            for (member, seq, channel, kind, title) in self.deliveries {
                ids.push(new_id());
                m.push(member);
                s.push(seq);
                c.push(channel.to_owned());
                k.push(kind.to_owned());
                t.push(title);
            }
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "INSERT INTO notification_deliveries (id, org_id, membership_id, event_seq, channel, kind, title) \
                 SELECT i, $1, m, s, c, k, t FROM unnest($2::uuid[], $3::uuid[], $4::int8[], $5::text[], $6::text[], \
                   $7::text[]) AS x(i, m, s, c, k, t) ON CONFLICT DO NOTHING",
                [org.into(), ids.into(), m.into(), s.into(), c.into(), k.into(), t.into()],
            ))
            .await?;
        }
        Ok(created)
    }
}

/// The organisation's next undispatched events, locked for this dispatcher.
async fn pending_events(db: &TxDb, org: Uuid) -> AppResult<Vec<Event>> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT seq, kind, subject_type, subject_id, actor_membership_id, recipients, audience, data \
             FROM domain_events WHERE org_id = $1 AND dispatched_at IS NULL ORDER BY seq LIMIT $2 \
             FOR UPDATE SKIP LOCKED",
            [org.into(), BATCH.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Event {
                seq: r.try_get("", "seq")?,
                kind: r.try_get("", "kind")?,
                subject_type: r.try_get("", "subject_type")?,
                subject_id: r.try_get("", "subject_id")?,
                actor: r.try_get("", "actor_membership_id")?,
                recipients: r.try_get("", "recipients")?,
                audience: r.try_get("", "audience")?,
                data: r.try_get("", "data")?,
            })
        })
        .collect::<Result<Vec<_>, sea_orm::DbErr>>()
        .map_err(Into::into)
}

/// The in-app notifications and channel deliveries of `events`, per recipient preferences
/// (the actor is never notified of their own action; each member once per event).
fn fan_out(events: &[Event], prefs: &HashMap<(Uuid, String), (bool, bool, bool)>) -> Notifications {
    let mut n = Notifications::default();
    for e in events {
        let reached = e
            .recipients
            .iter()
            .map(|m| (*m, Reason::Direct))
            .chain(e.audience.iter().filter(|m| !e.recipients.contains(m)).map(|m| (*m, Reason::Following)));
        let mut seen = vec![];
        for (member, reason) in reached {
            if Some(member) == e.actor || seen.contains(&member) {
                continue;
            }
            seen.push(member);
            let Some((kind, title)) = render(&e.kind, &e.data, reason) else { continue };
            let (in_app, email, push) =
                prefs.get(&(member, kind.to_owned())).copied().unwrap_or_else(|| default_channels(kind));
            let title: String = title.chars().take(255).collect();
            if in_app {
                n.push(member, kind, &title, e);
            }
            for (on, channel) in [(email, "EMAIL"), (push, "PUSH")] {
                if on {
                    n.deliveries.push((member, e.seq, channel, kind, title.clone()));
                }
            }
        }
    }
    n
}

/// Marks `events` dispatched and wakes live inbox streams when notifications were created.
async fn mark_dispatched(db: &TxDb, org: Uuid, events: &[Event], created: usize) -> AppResult<()> {
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    if created > 0 {
        // Wake-up for live inbox streams, sent on commit.
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2::text || ':' || $3::text)",
            [crate::live::INBOX_CHANNEL.into(), org.into(), seqs.iter().max().copied().unwrap_or_default().into()],
        ))
        .await?;
    }
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE domain_events SET dispatched_at = now() WHERE org_id = $1 AND seq = ANY($2)",
        [org.into(), seqs.into()],
    ))
    .await?;
    // Everything up to the first undispatched event, or up to the last event this
    // statement's snapshot sees. Not the row's `last_seq`: an event committing meanwhile
    // holds the counter row, this update waits for it and then reads its new `last_seq`,
    // while the event itself is not in the snapshot; counting it as dispatched would lose
    // its notifications (the organisation would no longer look pending).
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE event_counters SET dispatched_seq = coalesce((SELECT min(seq) - 1 FROM domain_events \
           WHERE org_id = $1 AND dispatched_at IS NULL), \
           (SELECT s.last_seq FROM event_counters s WHERE s.org_id = $1)) WHERE org_id = $1",
        [org.into()],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Reason, render};

    #[test]
    fn renders_by_reason() {
        let d = serde_json::json!({ "title": "Fix login", "from": "TODO", "to": "DONE", "excerpt": "hi @ana" });
        assert_eq!(render("task.assigned", &d, Reason::Direct).map(|x| x.0), Some("ASSIGNMENT"));
        assert_eq!(render("task.assigned", &d, Reason::Following), None);
        assert_eq!(
            render("task.status_changed", &d, Reason::Following).map(|x| x.1).as_deref(),
            Some("Fix login: TODO → DONE")
        );
        assert_eq!(render("comment.created", &d, Reason::Direct).map(|x| x.0), Some("MENTION"));
        assert_eq!(render("comment.created", &d, Reason::Following).map(|x| x.0), Some("COMMENT"));
        assert_eq!(render("comment.edited", &d, Reason::Following), None);
        assert_eq!(render("key_result.checked_in", &d, Reason::Direct), None);
    }

    #[test]
    fn other_domains_announce_their_events() {
        let d = serde_json::json!({ "notify": { "kind": "SUCCESS", "title": "Deal won: Pilot" } });
        assert_eq!(render("deal.won", &d, Reason::Direct), Some(("SUCCESS", "Deal won: Pilot".to_owned())));
        assert_eq!(render("deal.won", &d, Reason::Following), None);
        let bad = serde_json::json!({ "notify": { "kind": "SPAM", "title": "x" } });
        assert_eq!(render("deal.won", &bad, Reason::Direct), None);
    }
}
