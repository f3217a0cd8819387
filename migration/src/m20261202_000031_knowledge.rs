//! knowledge: collections with visibility and grants, folders, documents with every saved
//! version, links to any entity, chunks with full text, and embeddings per model.
//!
//! Visibility is Row Level Security. A collection is readable by its owner; by everyone of
//! the organisation (ORGANIZATION), the members of its team (TEAM) or of its project
//! (PROJECT); by owners and admins unless PRIVATE; and by any member or team granted it
//! (003 RagAccessControl). A CLIENT reads only what is granted to it. Folders, documents,
//! versions, links, chunks and embeddings follow their collection through subqueries that
//! are themselves under RLS, so a search hit is never a chunk its reader cannot open. The
//! background indexer (`app.system = 'indexer'`) sees every collection of its organisation.
//! Embeddings of several models live side by side: one HNSW index per model and dimension.

use sea_orm_migration::prelude::*;

use crate::sql::{GRANT_APP, tenant_table, updated_at_trigger};

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &str = r#"
CREATE FUNCTION app_member() RETURNS uuid LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.member_id', true), '')::uuid $$;
CREATE FUNCTION app_role() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('app.role', true), '') $$;

CREATE TABLE collections (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description text CHECK (length(description) <= 2000),
  kind text NOT NULL DEFAULT 'KNOWLEDGE_BASE' CHECK (kind IN ('KNOWLEDGE_BASE', 'WIKI', 'MEMORY')),
  visibility text NOT NULL CHECK (visibility IN ('ORGANIZATION', 'TEAM', 'PROJECT', 'PRIVATE')),
  team_id uuid,
  project_id uuid,
  owner_id uuid NOT NULL,
  language text NOT NULL DEFAULT 'english',
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT collections_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT collections_team_check CHECK ((visibility = 'TEAM') = (team_id IS NOT NULL)),
  CONSTRAINT collections_project_check CHECK ((visibility = 'PROJECT') = (project_id IS NOT NULL)),
  FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, project_id) REFERENCES projects (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, owner_id) REFERENCES memberships (org_id, id)
);

CREATE TABLE collection_grants (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  collection_id uuid NOT NULL,
  membership_id uuid,
  team_id uuid,
  access text NOT NULL CHECK (access IN ('READ', 'WRITE')),
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT collection_grants_org_id_id_key UNIQUE (org_id, id),
  CONSTRAINT collection_grants_one_principal CHECK (num_nonnulls(membership_id, team_id) = 1),
  CONSTRAINT collection_grants_key UNIQUE NULLS NOT DISTINCT (collection_id, membership_id, team_id),
  FOREIGN KEY (org_id, collection_id) REFERENCES collections (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, membership_id) REFERENCES memberships (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, team_id) REFERENCES teams (org_id, id) ON DELETE CASCADE
);

CREATE TABLE folders (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  collection_id uuid NOT NULL,
  parent_id uuid,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  position integer NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT folders_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, collection_id) REFERENCES collections (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, parent_id) REFERENCES folders (org_id, id) ON DELETE CASCADE
);

CREATE TABLE documents (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  collection_id uuid NOT NULL,
  folder_id uuid,
  kind text NOT NULL CHECK (kind IN ('WIKI_PAGE', 'ARTICLE', 'NOTE', 'FILE', 'MEMORY', 'BLOG_POST', 'IDEA')),
  title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
  body text NOT NULL DEFAULT '' CHECK (length(body) <= 1000000),
  source_url text CHECK (length(source_url) <= 2000),
  language text NOT NULL DEFAULT 'english',
  tags text[] NOT NULL DEFAULT '{}',
  author_id uuid,
  content_hash bytea NOT NULL,
  revision integer NOT NULL DEFAULT 1,
  index_status text NOT NULL DEFAULT 'PENDING' CHECK (index_status IN ('PENDING', 'INDEXED', 'FAILED')),
  index_error text,
  index_attempts integer NOT NULL DEFAULT 0,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deleted_at timestamptz,
  CONSTRAINT documents_org_id_id_key UNIQUE (org_id, id),
  FOREIGN KEY (org_id, collection_id) REFERENCES collections (org_id, id) ON DELETE CASCADE,
  FOREIGN KEY (org_id, folder_id) REFERENCES folders (org_id, id) ON DELETE SET NULL (folder_id),
  FOREIGN KEY (org_id, author_id) REFERENCES memberships (org_id, id) ON DELETE SET NULL (author_id)
);
CREATE INDEX documents_collection_idx ON documents (collection_id) WHERE deleted_at IS NULL;
CREATE INDEX documents_tags_idx ON documents USING gin (tags);
CREATE INDEX documents_unindexed_idx ON documents (org_id) WHERE index_status <> 'INDEXED' AND deleted_at IS NULL;

CREATE TABLE document_versions (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  document_id uuid NOT NULL,
  version integer NOT NULL,
  title text NOT NULL,
  body text NOT NULL,
  content_hash bytea NOT NULL,
  author_id uuid,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT document_versions_key UNIQUE (document_id, version),
  FOREIGN KEY (org_id, document_id) REFERENCES documents (org_id, id) ON DELETE CASCADE
);

CREATE TABLE document_links (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  document_id uuid NOT NULL,
  target_type text NOT NULL CHECK (target_type ~ '^[A-Z][A-Za-z]{1,40}$'),
  target_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT document_links_key UNIQUE (document_id, target_type, target_id),
  FOREIGN KEY (org_id, document_id) REFERENCES documents (org_id, id) ON DELETE CASCADE
);
CREATE INDEX document_links_target_idx ON document_links (target_type, target_id);

CREATE TABLE chunks (
  id uuid PRIMARY KEY,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  collection_id uuid NOT NULL,
  document_id uuid NOT NULL,
  document_version integer NOT NULL,
  position integer NOT NULL,
  text text NOT NULL,
  token_count integer NOT NULL,
  char_start integer NOT NULL,
  char_end integer NOT NULL,
  tsv tsvector NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT chunks_key UNIQUE (document_id, document_version, position),
  FOREIGN KEY (org_id, document_id) REFERENCES documents (org_id, id) ON DELETE CASCADE
);
CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv);
CREATE INDEX chunks_trgm_idx ON chunks USING gin (text gin_trgm_ops);
CREATE INDEX chunks_collection_idx ON chunks (collection_id);

CREATE TABLE chunk_embeddings (
  chunk_id uuid NOT NULL REFERENCES chunks (id) ON DELETE CASCADE,
  org_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
  collection_id uuid NOT NULL,
  document_id uuid NOT NULL,
  model text NOT NULL,
  dimensions integer NOT NULL,
  embedding vector NOT NULL CHECK (vector_dims(embedding) = dimensions),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (chunk_id, model)
);
-- A selective filter (a few collections) is answered exactly from this index instead of
-- walking the HNSW graph past thousands of rows the filter drops.
CREATE INDEX chunk_embeddings_collection_idx ON chunk_embeddings (collection_id, model);
CREATE INDEX chunk_embeddings_minilm_idx ON chunk_embeddings
  USING hnsw ((embedding::vector(384)) vector_cosine_ops) WHERE model = 'all-MiniLM-L6-v2';
CREATE INDEX chunk_embeddings_1536_idx ON chunk_embeddings
  USING hnsw ((embedding::vector(1536)) vector_cosine_ops) WHERE dimensions = 1536;
"#;

/// Who may read a collection row (`c` qualified columns), besides the indexer.
const COLLECTION_VISIBLE: &str = r#"
current_setting('app.system', true) = 'indexer'
OR owner_id = (SELECT app_member())
OR (visibility <> 'PRIVATE' AND (SELECT app_role()) IN ('OWNER', 'ADMIN'))
OR (visibility = 'ORGANIZATION' AND (SELECT app_client_member()) IS NULL)
OR (visibility = 'TEAM' AND team_id IN
     (SELECT tm.team_id FROM team_members tm WHERE tm.membership_id = (SELECT app_member())))
OR (visibility = 'PROJECT' AND project_id IN
     (SELECT pm.project_id FROM project_members pm WHERE pm.membership_id = (SELECT app_member())))
OR id IN (SELECT g.collection_id FROM collection_grants g WHERE g.membership_id = (SELECT app_member())
     OR g.team_id IN (SELECT tm.team_id FROM team_members tm WHERE tm.membership_id = (SELECT app_member())))
"#;

fn policies() -> String {
    let mut sql = String::new();
    for t in [
        "collections",
        "collection_grants",
        "folders",
        "documents",
        "document_versions",
        "document_links",
        "chunks",
        "chunk_embeddings",
    ] {
        sql.push_str(&tenant_table(t));
        // Replaced below: the collection's visibility decides for everyone, clients included.
        sql.push_str(&format!("DROP POLICY client_scope ON {t};\n"));
    }
    // Each table's client_scope says what a CLIENT (and, here, anyone) may read of it.
    sql.push_str(&format!("CREATE POLICY visible ON collections AS RESTRICTIVE USING ({COLLECTION_VISIBLE});\n"));
    sql.push_str(
        "CREATE POLICY client_scope ON collections AS RESTRICTIVE USING (app_client_member() IS NULL OR \
         (visibility <> 'PRIVATE' AND id IN (SELECT g.collection_id FROM collection_grants g \
           WHERE g.membership_id = app_client_member())));\n",
    );
    // Grants may not read collections back (the collections policy reads grants): staff see
    // the organisation's grant rows, a client only its own.
    sql.push_str(
        "CREATE POLICY client_scope ON collection_grants AS RESTRICTIVE \
         USING (app_client_member() IS NULL OR membership_id = app_client_member());\n",
    );
    for t in ["folders", "documents", "chunks", "chunk_embeddings"] {
        sql.push_str(&format!(
            "CREATE POLICY client_scope ON {t} AS RESTRICTIVE USING (collection_id IN (SELECT c.id FROM collections c));\n"
        ));
    }
    for t in ["document_versions", "document_links"] {
        sql.push_str(&format!(
            "CREATE POLICY client_scope ON {t} AS RESTRICTIVE USING (document_id IN (SELECT d.id FROM documents d));\n"
        ));
    }
    for t in ["collections", "folders"] {
        sql.push_str(&updated_at_trigger(t));
    }
    // A document's `updated_at` moves with its version (the indexer's status writes leave it).
    sql.push_str(
        "CREATE TRIGGER documents_updated_at BEFORE UPDATE ON documents FOR EACH ROW \
        WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION set_updated_at();\n",
    );
    sql
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = format!("{UP}{}{GRANT_APP}", policies());
        manager.get_connection().execute_unprepared(&sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared(
                "DROP TABLE IF EXISTS chunk_embeddings, chunks, document_links, document_versions, documents, folders, \
                 collection_grants, collections; DROP FUNCTION IF EXISTS app_member(); DROP FUNCTION IF EXISTS app_role();",
            )
            .await?;
        Ok(())
    }
}
