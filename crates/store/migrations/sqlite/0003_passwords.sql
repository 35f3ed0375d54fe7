-- Password credentials: one per user and app, dropped with the membership (removal from
-- the app, or deletion of the user).

CREATE TABLE user_passwords (
    tenant_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    app_id      TEXT NOT NULL,
    -- Argon2id PHC string.
    hash        TEXT NOT NULL,
    -- Set by an admin with force_replace: must be replaced at the next login.
    temporary   BOOLEAN NOT NULL,
    updated_at  BIGINT NOT NULL,
    -- From the app's policy when the password was set; NULL when it never expires.
    expires_at  BIGINT,
    -- Earlier hashes, newest first, as many as the app's blockPreviousPasswords keeps (JSON).
    history     TEXT NOT NULL DEFAULT '[]',
    -- Failed logins of the current window, when it began, and the lock they caused.
    failures    INTEGER NOT NULL DEFAULT 0,
    failures_since BIGINT,
    locked_until BIGINT,
    PRIMARY KEY (tenant_id, user_id, app_id),
    FOREIGN KEY (tenant_id, user_id, app_id) REFERENCES user_apps (tenant_id, user_id, app_id) ON DELETE CASCADE
);
