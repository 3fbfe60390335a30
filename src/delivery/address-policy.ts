import ipaddr from 'ipaddr.js';

export const PRIVATE_NETWORKS_SETTING = 'WEBHOOK_ALLOW_PRIVATE_NETWORKS';

export const privateNetworksHint = `set ${PRIVATE_NETWORKS_SETTING}=true to allow private and loopback receivers`;

type Address = ipaddr.IPv4 | ipaddr.IPv6;

/** IPv4 ranges ipaddr.js calls "unicast" are public; every other range it names is not. */
function ipv4Reason(address: ipaddr.IPv4): string | null {
  const range = address.range();
  return range === 'unicast' ? null : range;
}

/** The IPv4 address an IPv6 translation/tunnel form carries, when it carries one. */
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const range = address.range();
  const bytes = address.toByteArray();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') {
    return ipaddr.IPv4.parse(bytes.slice(12).join('.'));
  }
  if (range === '6to4') return ipaddr.IPv4.parse(bytes.slice(2, 6).join('.'));
  return null;
}

/** Why an address must not receive deliveries (e.g. "loopback"), or null when it is public. */
export function blockedReason(address: Address): string | null {
  if (address.kind() === 'ipv4') return ipv4Reason(address as ipaddr.IPv4);
  const v6 = address as ipaddr.IPv6;
  const inner = embeddedIpv4(v6);
  if (inner) {
    const reason = ipv4Reason(inner);
    return reason ? `${reason} (${v6.range()})` : null;
  }
  const range = v6.range();
  if (range !== 'unicast') return range;
  // ipaddr.js calls anything it has no name for "unicast"; only 2000::/3 is global unicast.
  return (v6.parts[0]! & 0xe000) === 0x2000 ? null : 'reserved';
}

/**
 * Parses a host that is an IP literal. Hosts from `new URL()` are already canonical
 * (`127.1`, `2130706433` and `0x7f.1` all become `127.0.0.1`); other spellings are
 * normalised here the same way so callers that skip the URL parser are covered too.
 */
export function parseIpLiteral(host: string): Address | null {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (ipaddr.IPv6.isValid(bare)) return ipaddr.IPv6.parse(bare);
  if (ipaddr.IPv4.isValid(bare)) return ipaddr.IPv4.parse(bare);
  try {
    const canonical = new URL(`http://${bare}/`).hostname;
    return ipaddr.IPv4.isValidFourPartDecimal(canonical) ? ipaddr.IPv4.parse(canonical) : null;
  } catch {
    return null;
  }
}

export interface AddressVerdict {
  address: string;
  reason: string;
}

/** A verdict when a textual address is not allowed; null when it is public. */
export function checkAddress(text: string): AddressVerdict | null {
  const address = parseIpLiteral(text);
  if (!address) return { address: text, reason: 'not an IP address' };
  const reason = blockedReason(address);
  return reason ? { address: address.toString(), reason } : null;
}

function isLocalhostName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}

/**
 * The check setWebhook can make on the URL text alone: literal private addresses and
 * localhost names. Returns why the host is refused, or null. The send-time guard still checks
 * the address actually connected to, because a public name can resolve to a private address.
 */
export function privateHostReason(hostname: string): string | null {
  if (isLocalhostName(hostname)) return `${hostname} is a loopback name`;
  const literal = parseIpLiteral(hostname);
  if (!literal) return null;
  const reason = blockedReason(literal);
  return reason ? `${literal.toString()} is ${reason}` : null;
}
