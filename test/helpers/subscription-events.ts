import { HANG_MS } from './receiver.js';

/** A delivery update as the operations in operations/webhook.graphql select it. */
export interface DeliveryEvent {
  id: string;
  status: string;
  attempts: number;
}

/**
 * Most transports give no signal that the server has registered a subscription (a WebSocket
 * `subscribe` message has no acknowledgement). So ping until an event arrives, then follow
 * that delivery until it is DELIVERED. No wait decides the outcome; each only paces the pings,
 * and the pace slows (up to 2 s) so that a busy machine gets time rather than a count of pings.
 * `ping` answers the id of the delivery it made; the events must be about one of them.
 */
export async function followFirstDelivery(
  next: () => Promise<DeliveryEvent>,
  ping: () => Promise<string>,
): Promise<{ pinged: string[]; seen: DeliveryEvent[] }> {
  const first = next();
  const pinged: string[] = [];
  const deadline = Date.now() + HANG_MS;
  let event: DeliveryEvent | undefined;
  for (let paceMs = 100; !event; paceMs = Math.min(paceMs * 2, 2000)) {
    if (Date.now() > deadline) throw new Error(`no subscription event after ${pinged.length} pings`);
    pinged.push(await ping());
    event = await Promise.race([first, new Promise<undefined>((resolve) => setTimeout(resolve, paceMs))]);
  }
  const seen = [event];
  while (seen.at(-1)!.status !== 'DELIVERED') {
    const more = await next();
    if (more.id === event.id) seen.push(more);
  }
  return { pinged, seen };
}

/** An async iterator of a client library's subscription results, mapped to the delivery. */
export function deliveryEvents<T>(iterator: AsyncIterator<T>, pick: (value: T) => DeliveryEvent): () => Promise<DeliveryEvent> {
  return async () => {
    const result = await iterator.next();
    if (result.done) throw new Error('the subscription ended');
    return pick(result.value);
  };
}

/** The delivery went PENDING (if the subscription was in time to see it) then DELIVERED, and was ours. */
export function expectDelivered({ pinged, seen }: { pinged: string[]; seen: DeliveryEvent[] }): void {
  const statuses = seen.map((e) => `${e.status}/${e.attempts}`).join(' ');
  if (!pinged.includes(seen[0]!.id)) throw new Error(`event for a delivery nobody pinged: ${seen[0]!.id}`);
  if (statuses !== 'PENDING/0 DELIVERED/1' && statuses !== 'DELIVERED/1') throw new Error(`unexpected events: ${statuses}`);
}
