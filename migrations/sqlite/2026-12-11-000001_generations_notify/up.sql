-- PostgreSQL's instances hear of raised counts by NOTIFY; SQLite's processes ask `data_version`
-- instead (see src/freshness.rs), so there is nothing to add here.
SELECT 1;
