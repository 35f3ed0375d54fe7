-- The kept counts of 0006, updated once per statement instead of once per row. A row
-- trigger updated the same count row once per user, and within one transaction each
-- update has to walk every earlier version of that row: a batch of 10,000 users took
-- seconds. A statement trigger adds each tenant's and app's total in one update.
DROP TRIGGER users_counted ON users;
DROP TRIGGER user_apps_counted ON user_apps;
DROP FUNCTION count_tenant_users();
DROP FUNCTION count_app_members();

CREATE FUNCTION count_tenant_users_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_user_counts c SET n = c.n + d.k
        FROM (SELECT tenant_id, COUNT(*) AS k FROM added GROUP BY tenant_id) d
        WHERE c.tenant_id = d.tenant_id;
    RETURN NULL;
END $$;
CREATE FUNCTION count_tenant_users_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE tenant_user_counts c SET n = c.n - d.k
        FROM (SELECT tenant_id, COUNT(*) AS k FROM removed GROUP BY tenant_id) d
        WHERE c.tenant_id = d.tenant_id;
    RETURN NULL;
END $$;
CREATE TRIGGER users_counted_insert AFTER INSERT ON users
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_tenant_users_added();
CREATE TRIGGER users_counted_delete AFTER DELETE ON users
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_tenant_users_removed();

CREATE FUNCTION count_app_members_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE app_member_counts c SET n = c.n + d.k
        FROM (SELECT tenant_id, app_id, COUNT(*) AS k FROM added GROUP BY tenant_id, app_id) d
        WHERE c.tenant_id = d.tenant_id AND c.app_id = d.app_id;
    RETURN NULL;
END $$;
CREATE FUNCTION count_app_members_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE app_member_counts c SET n = c.n - d.k
        FROM (SELECT tenant_id, app_id, COUNT(*) AS k FROM removed GROUP BY tenant_id, app_id) d
        WHERE c.tenant_id = d.tenant_id AND c.app_id = d.app_id;
    RETURN NULL;
END $$;
CREATE TRIGGER user_apps_counted_insert AFTER INSERT ON user_apps
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION count_app_members_added();
CREATE TRIGGER user_apps_counted_delete AFTER DELETE ON user_apps
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION count_app_members_removed();
