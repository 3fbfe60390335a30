import { PRIVATE_NETWORKS_SETTING, privateHostReason } from '../../delivery/address-policy.js';
import { InvalidWebhookUrl } from '../../errors.js';

const MAX_WEBHOOK_URL_LENGTH = 2048;

/** The URL rules of setWebhook; returns the URL as given, or throws InvalidWebhookUrl carrying it. */
export function checkWebhookUrl(url: string, options: { allowPrivateNetworks?: boolean } = {}): URL {
  const reject = (reason: string): never => {
    throw new InvalidWebhookUrl(`Invalid webhook URL: ${reason}`, url);
  };
  if (url.trim() === '') reject('the URL is empty');
  if (url.length > MAX_WEBHOOK_URL_LENGTH) reject(`the URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
  if (url !== url.trim() || /[\s\u0000-\u001f]/.test(url)) reject('the URL contains whitespace or control characters');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return reject('not a valid absolute URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') reject('the scheme must be http or https');
  if (!parsed.hostname) reject('the URL has no host');
  if (parsed.username || parsed.password) reject('credentials in the URL are not allowed; use the secret instead');
  if (options.allowPrivateNetworks === false) {
    const reason = privateHostReason(parsed.hostname);
    if (reason) reject(`the host ${reason}; deliveries to private networks are off (${PRIVATE_NETWORKS_SETTING}=true allows them)`);
  }
  return parsed;
}
