-- PostgreSQL's 0010 moves its count triggers to one update per statement (a row trigger
-- there rewrites the count row once per user). SQLite updates a row in place, so its row
-- triggers stay; this migration keeps both backends numbered alike.

