-- How many users each app and each tenant has, kept by triggers in the same transaction
-- as the rows they count, so that an unfiltered count or list total reads one row instead
-- of counting every member.
CREATE TABLE app_member_counts (
    tenant_id TEXT NOT NULL,
    app_id    TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, app_id)
) WITHOUT ROWID;
INSERT INTO app_member_counts (tenant_id, app_id, n)
    SELECT tenant_id, app_id, COUNT(*) FROM user_apps GROUP BY tenant_id, app_id;

CREATE TABLE tenant_user_counts (
    tenant_id TEXT PRIMARY KEY,
    n         BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO tenant_user_counts (tenant_id, n)
    SELECT tenant_id, COUNT(*) FROM users GROUP BY tenant_id;

CREATE TRIGGER user_apps_count_insert AFTER INSERT ON user_apps BEGIN
    INSERT INTO app_member_counts (tenant_id, app_id, n) VALUES (NEW.tenant_id, NEW.app_id, 1)
        ON CONFLICT (tenant_id, app_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER user_apps_count_delete AFTER DELETE ON user_apps BEGIN
    UPDATE app_member_counts SET n = n - 1
        WHERE tenant_id = OLD.tenant_id AND app_id = OLD.app_id;
END;
CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    INSERT INTO tenant_user_counts (tenant_id, n) VALUES (NEW.tenant_id, 1)
        ON CONFLICT (tenant_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE tenant_user_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id;
END;
