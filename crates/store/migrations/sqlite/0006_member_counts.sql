-- How many users each app and each tenant has, kept by triggers in the same transaction
-- as the rows they count, so that an unfiltered count or list total reads one row instead
-- of counting every member. Each app and tenant gets its row when it is created, so the
-- per-user triggers are plain updates.
CREATE TABLE app_member_counts (
    tenant_id TEXT NOT NULL,
    app_id    TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, app_id),
    FOREIGN KEY (tenant_id, app_id) REFERENCES apps (tenant_id, app_id) ON DELETE CASCADE
) WITHOUT ROWID;
INSERT INTO app_member_counts (tenant_id, app_id, n)
    SELECT a.tenant_id, a.app_id,
           (SELECT COUNT(*) FROM user_apps m WHERE m.tenant_id = a.tenant_id AND m.app_id = a.app_id)
    FROM apps a;

CREATE TABLE tenant_user_counts (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    n         BIGINT NOT NULL
) WITHOUT ROWID;
INSERT INTO tenant_user_counts (tenant_id, n)
    SELECT t.tenant_id, (SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.tenant_id)
    FROM tenants t;

CREATE TRIGGER apps_counted AFTER INSERT ON apps BEGIN
    INSERT INTO app_member_counts (tenant_id, app_id, n) VALUES (NEW.tenant_id, NEW.app_id, 0);
END;
CREATE TRIGGER tenants_counted AFTER INSERT ON tenants BEGIN
    INSERT INTO tenant_user_counts (tenant_id, n) VALUES (NEW.tenant_id, 0);
END;
CREATE TRIGGER user_apps_count_insert AFTER INSERT ON user_apps BEGIN
    UPDATE app_member_counts SET n = n + 1
        WHERE tenant_id = NEW.tenant_id AND app_id = NEW.app_id;
END;
CREATE TRIGGER user_apps_count_delete AFTER DELETE ON user_apps BEGIN
    UPDATE app_member_counts SET n = n - 1
        WHERE tenant_id = OLD.tenant_id AND app_id = OLD.app_id;
END;
CREATE TRIGGER users_count_insert AFTER INSERT ON users BEGIN
    UPDATE tenant_user_counts SET n = n + 1 WHERE tenant_id = NEW.tenant_id;
END;
CREATE TRIGGER users_count_delete AFTER DELETE ON users BEGIN
    UPDATE tenant_user_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id;
END;
