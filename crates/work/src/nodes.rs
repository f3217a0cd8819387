//! The work node types: the public handles other crates use to reference, extend and load
//! work data (never the entity modules).

use crate::entity::{
    change_request, channel, channel_member, channel_message, checklist_item, comment, feedback, key_result, kudos,
    message_reaction, milestone, objective, project, project_member, risk, task, task_dependency, time_entry, time_off,
};

opsgraph_core::node_type! {
    /// A project (an engagement for a client, or internal work).
    pub Project = project, read ProjectsRead;
    /// A piece of work in a project.
    pub Task = task, read ProjectsRead;
    /// "Task A waits on task B".
    pub TaskDependency = task_dependency, read WorkRead;
    /// A member staffed on a project.
    pub ProjectMember = project_member, read WorkRead;
    /// A delivery milestone of a project.
    pub Milestone = milestone, read ProjectsRead;
    /// A risk of a project.
    pub Risk = risk, read WorkRead;
    /// Time logged by a member.
    pub TimeEntry = time_entry, read WorkRead;
    /// Leave requested by a member.
    pub TimeOff = time_off, read WorkRead;
    /// A comment on a task or project.
    pub Comment = comment, read WorkRead;
    /// One item of a task's checklist.
    pub ChecklistItem = checklist_item, read WorkRead;
    /// A change request on a project.
    pub ChangeRequest = change_request, read WorkRead;
    /// Feedback about a member.
    pub Feedback = feedback, read WorkRead;
    /// Public recognition of a member.
    pub Kudos = kudos, read WorkRead;
    /// An objective (OKR).
    pub Objective = objective, read WorkRead;
    /// A measurable key result of an objective.
    pub KeyResult = key_result, read WorkRead;
    /// A chat channel.
    pub Channel = channel, read WorkRead;
    /// A member of a chat channel, with where they last read.
    pub ChannelMember = channel_member, read WorkRead;
    /// A chat message (a thread's reply when it has a parent).
    pub ChannelMessage = channel_message, read WorkRead;
    /// One member's reaction to a chat message.
    pub MessageReaction = message_reaction, read WorkRead;
}
