-- Device keys: public keys bound to a user in one app. They hang off the membership, so
-- removing the user from the app, or deleting the user, removes them.
CREATE TABLE device_keys (
    tenant_id    TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    app_id       TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    public_key   TEXT NOT NULL,
    display_name TEXT,
    custom_data  TEXT NOT NULL DEFAULT '{}',
    push_config  TEXT,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, user_id, app_id, key_id),
    FOREIGN KEY (tenant_id, user_id, app_id) REFERENCES user_apps (tenant_id, user_id, app_id) ON DELETE CASCADE
);
