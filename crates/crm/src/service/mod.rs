//! The crm domain's services: plain functions over a connection, each write through the
//! platform's `Write` pipeline.

pub mod accounts;
pub mod checks;
pub mod contacts;
pub mod conversations;
pub mod deals;
pub mod feedback;
pub mod forecast;
pub mod industries;
pub mod interactions;
pub mod lead_rules;
pub mod merge;
pub mod phone_numbers;
pub mod pipelines;
pub mod portal;
pub mod projects;
pub mod proposals;
pub mod rates;
pub mod segments;
