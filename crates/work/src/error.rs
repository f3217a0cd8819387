//! What can go wrong in the work domain beyond bad input, mapped once into [`AppError`].

use opsgraph_core::AppError;

/// Work-domain failures callers can act on.
#[derive(Debug, thiserror::Error)]
pub enum WorkError {
    /// A subtask cannot come back while its parent is deleted.
    #[error("restore the parent task first")]
    ParentDeleted,
    /// Requested leave overlaps leave already requested or approved.
    #[error("overlaps time off from {start} to {end} ({status})")]
    TimeOffOverlap {
        /// First day of the existing leave.
        start: chrono::NaiveDate,
        /// Last day of the existing leave.
        end: chrono::NaiveDate,
        /// Its status.
        status: String,
    },
    /// Only a comment's author may change it.
    #[error("only the author can change a comment")]
    NotTheAuthor,
    /// Feedback and kudos need a person, not an API key.
    #[error("feedback and kudos come from people, not API keys")]
    NotAPerson,
    /// A dependency would close a cycle (named task by task).
    #[error("this dependency would close the cycle {0}")]
    Cycle(String),
}

impl From<WorkError> for AppError {
    fn from(e: WorkError) -> Self {
        let msg = e.to_string();
        match e {
            WorkError::ParentDeleted | WorkError::TimeOffOverlap { .. } => AppError::Conflict(msg),
            WorkError::NotTheAuthor | WorkError::NotAPerson => AppError::Forbidden(msg),
            WorkError::Cycle(_) => AppError::bad_input("dependsOnId", msg),
        }
    }
}
