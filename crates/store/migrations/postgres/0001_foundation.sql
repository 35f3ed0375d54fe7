-- Tenants, applications, OAuth clients and token signing keys.
-- Every tenant-owned table carries tenant_id and is keyed by it.

CREATE TABLE tenants (
    tenant_id  TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    -- 'default' marks the tenant made by bootstrap; NULL for the others.
    slug       TEXT UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE apps (
    tenant_id       TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    app_id          TEXT NOT NULL,
    name            TEXT NOT NULL,
    is_management   BOOLEAN NOT NULL DEFAULT FALSE,
    settings        TEXT NOT NULL DEFAULT '{}',
    password_config TEXT NOT NULL DEFAULT '{}',
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, app_id)
);
CREATE UNIQUE INDEX apps_name_uq ON apps (tenant_id, name);
CREATE UNIQUE INDEX apps_management_uq ON apps (tenant_id) WHERE is_management;

CREATE TABLE clients (
    -- Globally unique: the token endpoint finds the tenant from the client id.
    client_id     TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL,
    app_id        TEXT NOT NULL,
    name          TEXT NOT NULL,
    description   TEXT,
    redirect_uris TEXT NOT NULL DEFAULT '[]',
    resources     TEXT NOT NULL DEFAULT '[]',
    secret_hash   TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, app_id) REFERENCES apps (tenant_id, app_id) ON DELETE CASCADE
);
CREATE INDEX clients_app_idx ON clients (tenant_id, app_id);

-- Installation-wide: every node on this database signs and verifies with these keys.
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    purpose     TEXT NOT NULL UNIQUE,
    algorithm   TEXT NOT NULL,
    private_key TEXT NOT NULL,
    public_key  TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
