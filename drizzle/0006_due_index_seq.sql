-- The new index is built before the old one is dropped: while it builds, writes to the table wait
-- but reads and claims keep their index; DROP's exclusive lock comes last, for an instant.
CREATE INDEX "webhook_deliveries_due_seq_idx" ON "webhook_deliveries" USING btree ("status","next_attempt_at","seq");--> statement-breakpoint
DROP INDEX "webhook_deliveries_due_idx";--> statement-breakpoint
ALTER INDEX "webhook_deliveries_due_seq_idx" RENAME TO "webhook_deliveries_due_idx";
