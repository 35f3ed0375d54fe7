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
);
INSERT INTO app_member_counts (tenant_id, app_id, n)
    SELECT a.tenant_id, a.app_id,
           (SELECT COUNT(*) FROM user_apps m WHERE m.tenant_id = a.tenant_id AND m.app_id = a.app_id)
    FROM apps a;

CREATE TABLE tenant_user_counts (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (tenant_id) ON DELETE CASCADE,
    n         BIGINT NOT NULL
);
INSERT INTO tenant_user_counts (tenant_id, n)
    SELECT t.tenant_id, (SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.tenant_id)
    FROM tenants t;

CREATE FUNCTION count_new_app() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO app_member_counts (tenant_id, app_id, n) VALUES (NEW.tenant_id, NEW.app_id, 0);
    RETURN NULL;
END $$;
CREATE TRIGGER apps_counted AFTER INSERT ON apps
    FOR EACH ROW EXECUTE FUNCTION count_new_app();

CREATE FUNCTION count_new_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tenant_user_counts (tenant_id, n) VALUES (NEW.tenant_id, 0);
    RETURN NULL;
END $$;
CREATE TRIGGER tenants_counted AFTER INSERT ON tenants
    FOR EACH ROW EXECUTE FUNCTION count_new_tenant();

CREATE FUNCTION count_app_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE app_member_counts SET n = n + 1
            WHERE tenant_id = NEW.tenant_id AND app_id = NEW.app_id;
    ELSE
        UPDATE app_member_counts SET n = n - 1
            WHERE tenant_id = OLD.tenant_id AND app_id = OLD.app_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER user_apps_counted AFTER INSERT OR DELETE ON user_apps
    FOR EACH ROW EXECUTE FUNCTION count_app_members();

CREATE FUNCTION count_tenant_users() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        UPDATE tenant_user_counts SET n = n + 1 WHERE tenant_id = NEW.tenant_id;
    ELSE
        UPDATE tenant_user_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_counted AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION count_tenant_users();
