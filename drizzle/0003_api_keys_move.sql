-- Custom SQL (drizzle cannot express a data move or a trigger).
-- 1. Every user's existing key becomes their `default` key. Only its hash was ever stored, so
--    its prefix is shown as the product prefix alone. users.api_key_hash stays for one release:
--    the previous release still reads it (rolling deploy, rollback) and may register users with
--    only that column, whose keys are moved on first use (legacy-api-key.ts); a later migration
--    clears the column.
INSERT INTO "api_keys" ("user_id", "name", "key_hash", "prefix", "created_at")
SELECT "id", 'default', "api_key_hash", 'aw_', "created_at" FROM "users" WHERE "api_key_hash" IS NOT NULL
ON CONFLICT ("key_hash") DO NOTHING;
--> statement-breakpoint
-- 2. Every process caches key hash → user; a revoked key (or a removed user, by cascade) must be
--    refused at once everywhere, so every removal of a key row is announced with its hash.
CREATE OR REPLACE FUNCTION "alertwire_api_key_removed"() RETURNS trigger AS $$
BEGIN
  PERFORM pg_notify('alertwire_api_key_removed', OLD."key_hash");
  RETURN OLD;
END;
$$ LANGUAGE plpgsql;
--> statement-breakpoint
CREATE TRIGGER "api_keys_removed" AFTER DELETE ON "api_keys"
FOR EACH ROW EXECUTE FUNCTION "alertwire_api_key_removed"();
