-- How many users each app and each tenant has, kept by triggers in the same transaction
-- as the rows they count, so that an unfiltered count or list total reads one row instead
-- of counting every member.
CREATE TABLE app_member_counts (
    tenant_id TEXT NOT NULL,
    app_id    TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, app_id)
);
INSERT INTO app_member_counts (tenant_id, app_id, n)
    SELECT tenant_id, app_id, COUNT(*) FROM user_apps GROUP BY tenant_id, app_id;

CREATE TABLE tenant_user_counts (
    tenant_id TEXT PRIMARY KEY,
    n         BIGINT NOT NULL
);
INSERT INTO tenant_user_counts (tenant_id, n)
    SELECT tenant_id, COUNT(*) FROM users GROUP BY tenant_id;

CREATE FUNCTION count_app_members() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO app_member_counts (tenant_id, app_id, n) VALUES (NEW.tenant_id, NEW.app_id, 1)
            ON CONFLICT (tenant_id, app_id) DO UPDATE SET n = app_member_counts.n + 1;
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
        INSERT INTO tenant_user_counts (tenant_id, n) VALUES (NEW.tenant_id, 1)
            ON CONFLICT (tenant_id) DO UPDATE SET n = tenant_user_counts.n + 1;
    ELSE
        UPDATE tenant_user_counts SET n = n - 1 WHERE tenant_id = OLD.tenant_id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER users_counted AFTER INSERT OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION count_tenant_users();
