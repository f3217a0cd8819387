//! The task status state machine: which transitions are allowed, and why not.

use crate::enums::TaskStatus;

/// Whether `status` counts as finished (no more work expected).
pub fn is_closed(status: &str) -> bool {
    matches!(status, "DONE" | "CANCELLED")
}

/// Checks a status change made with `transitionTask`. Open statuses move freely among each
/// other and to DONE or CANCELLED (BACKLOG must be planned into TODO before it can be DONE);
/// DONE and CANCELLED only leave through `reopenTask`.
pub fn check_transition(from: &str, to: &str) -> Result<(), String> {
    if !TaskStatus::VALUES.contains(&to) {
        return Err(format!("unknown status {to}"));
    }
    if from == to {
        return Ok(());
    }
    match (from, to) {
        ("DONE", _) => Err("a DONE task must be reopened (reopenTask) before it changes status".into()),
        ("CANCELLED", _) => Err("a CANCELLED task is terminal unless reopened (reopenTask)".into()),
        ("BACKLOG", "DONE") => Err("plan a BACKLOG task (TODO) before completing it".into()),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transitions() {
        assert!(check_transition("TODO", "IN_PROGRESS").is_ok());
        assert!(check_transition("IN_PROGRESS", "BLOCKED").is_ok());
        assert!(check_transition("BLOCKED", "IN_REVIEW").is_ok());
        assert!(check_transition("IN_REVIEW", "DONE").is_ok());
        assert!(check_transition("TODO", "CANCELLED").is_ok());
        assert!(check_transition("DONE", "TODO").is_err());
        assert!(check_transition("CANCELLED", "IN_PROGRESS").is_err());
        assert!(check_transition("BACKLOG", "DONE").is_err());
        assert!(check_transition("TODO", "NOPE").is_err());
        assert!(check_transition("DONE", "DONE").is_ok());
        assert!(is_closed("DONE") && is_closed("CANCELLED") && !is_closed("BLOCKED"));
    }
}
