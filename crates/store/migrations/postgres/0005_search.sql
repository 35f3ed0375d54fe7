-- Search: the profile names that filters compare and match by prefix (`name.last_name sw`),
-- indexed by the same expressions the filter compiler writes.
CREATE INDEX users_last_name_idx ON users (tenant_id, (profile::jsonb #>> '{name,last_name}'));
CREATE INDEX users_first_name_idx ON users (tenant_id, (profile::jsonb #>> '{name,first_name}'));
