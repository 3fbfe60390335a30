-- A redelivery sends its original's message again (webhook-id); null: the delivery's own id.
ALTER TABLE "webhook_deliveries" ADD COLUMN IF NOT EXISTS "message_id" uuid;
