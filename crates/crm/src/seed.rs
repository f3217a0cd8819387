//! Demo data of the crm domain (filled in by `seed::crm`).
