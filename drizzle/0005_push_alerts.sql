CREATE TABLE "quote_changes" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "quote_changes_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"ticker" text NOT NULL,
	"price" double precision NOT NULL,
	"as_of" timestamp with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "state" text DEFAULT 'ARMED' NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "notify" text DEFAULT 'EVERY_CROSSING' NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "cooldown_seconds" integer;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "expires_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "notify_resolved" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "last_triggered_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "trigger_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "alerts" ADD COLUMN "state_changed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "webhook_deliveries" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
CREATE INDEX "quote_changes_ticker_idx" ON "quote_changes" USING btree ("ticker","id");--> statement-breakpoint
CREATE INDEX "alerts_ticker_idx" ON "alerts" USING btree ("ticker");