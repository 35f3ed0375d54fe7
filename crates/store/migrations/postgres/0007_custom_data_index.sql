-- Search: `custom_data.<path> eq "v"` (and `eq true|false`) is compiled to a containment
-- test that this index answers; on SQLite such a filter reads every user of the tenant.
CREATE INDEX users_custom_data_idx ON users USING gin ((custom_data::jsonb) jsonb_path_ops);
