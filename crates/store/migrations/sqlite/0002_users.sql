-- Users: the tenant-level profile, per-app memberships, and sign-in identities.
-- Users and memberships keep a rowid: new rows are appended, and only their small
-- primary-key entries land at random places (ids are random). Identities live in their
-- primary-key tree.

CREATE TABLE users (
    tenant_id         TEXT NOT NULL REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL,
    email             TEXT,
    -- Lower-cased primary email: unique per tenant, the lookup and sort key.
    email_key         TEXT,
    email_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    email_verified_at BIGINT,
    -- E.164.
    phone_number      TEXT,
    phone_verified    BOOLEAN NOT NULL DEFAULT FALSE,
    phone_verified_at BIGINT,
    external_user_id  TEXT,
    status            TEXT NOT NULL,
    status_changed_at BIGINT NOT NULL,
    last_auth         BIGINT,
    -- YYYY-MM-DD.
    birthday          TEXT,
    -- Secondary contacts, name, address, picture, language (JSON).
    profile           TEXT NOT NULL DEFAULT '{}',
    custom_data       TEXT NOT NULL DEFAULT '{}',
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE UNIQUE INDEX users_email_uq ON users (tenant_id, email_key);
CREATE UNIQUE INDEX users_phone_uq ON users (tenant_id, phone_number);
CREATE UNIQUE INDEX users_external_user_id_uq ON users (tenant_id, external_user_id);
CREATE INDEX users_created_idx ON users (tenant_id, created_at, user_id);
CREATE INDEX users_last_auth_idx ON users (tenant_id, last_auth);

CREATE TABLE user_apps (
    tenant_id           TEXT NOT NULL,
    app_id              TEXT NOT NULL,
    user_id             TEXT NOT NULL,
    username            TEXT,
    username_key        TEXT,
    external_account_id TEXT,
    custom_app_data     TEXT NOT NULL DEFAULT '{}',
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, app_id),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE,
    FOREIGN KEY (tenant_id, app_id) REFERENCES apps (tenant_id, app_id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX user_apps_username_uq ON user_apps (tenant_id, app_id, username_key);
CREATE UNIQUE INDEX user_apps_external_account_id_uq
    ON user_apps (tenant_id, app_id, external_account_id);
-- An app's members in rowid (insertion) order: new members are appended.
CREATE INDEX user_apps_app_idx ON user_apps (tenant_id, app_id);

CREATE TABLE user_identities (
    tenant_id       TEXT NOT NULL,
    user_id         TEXT NOT NULL,
    provider_name   TEXT NOT NULL,
    provider_type   TEXT NOT NULL,
    auth_type       TEXT NOT NULL,
    identifier      TEXT NOT NULL,
    first_auth_date BIGINT NOT NULL,
    last_auth_date  BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, provider_name, identifier),
    FOREIGN KEY (tenant_id, user_id) REFERENCES users (tenant_id, user_id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX user_identities_identifier_idx ON user_identities (tenant_id, identifier);
