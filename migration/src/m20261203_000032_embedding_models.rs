//! Each collection embeds with one model (`embedding_model`, the local all-MiniLM-L6-v2
//! unless chosen otherwise); vectors of several models live side by side in
//! `chunk_embeddings`, each configured model with its own HNSW index (created by the server
//! for the models it is configured with; the local model's and a 1536-dimension one for
//! imported vectors are created in 000031).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = "ALTER TABLE collections ADD COLUMN embedding_model text NOT NULL DEFAULT 'all-MiniLM-L6-v2' \
                     CHECK (length(embedding_model) BETWEEN 1 AND 200);";
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("ALTER TABLE collections DROP COLUMN embedding_model;").await?;
        Ok(())
    }
}
