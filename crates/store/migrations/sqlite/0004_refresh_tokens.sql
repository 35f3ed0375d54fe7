-- Refresh tokens of end-user sessions: stored as SHA-256 digests, rotated on every use.
-- A token presented twice revokes its whole family (every token rotated from one login).

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    family_id   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    -- Set when the token was exchanged for the next one.
    used_at     BIGINT,
    revoked     BOOLEAN NOT NULL DEFAULT FALSE,
    created_at  BIGINT NOT NULL,
    FOREIGN KEY (tenant_id, user_id, app_id) REFERENCES user_apps (tenant_id, user_id, app_id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_member_idx ON refresh_tokens (tenant_id, user_id, app_id);
