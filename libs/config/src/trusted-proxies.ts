import { isIP } from 'node:net';

/**
 * The names proxy-addr (Fastify's `trustProxy`) understands besides addresses and CIDRs:
 * loopback, link-local, and the private ranges (10/8, 172.16/12, 192.168/16, fc00::/7).
 */
const NAMED_RANGES = ['loopback', 'linklocal', 'uniquelocal'] as const;

/**
 * The problem with a GENESIS_TRUSTED_PROXIES value (comma-separated addresses, CIDRs or the named
 * ranges), or undefined when every entry is one. Checked at boot: Fastify would only throw when it
 * builds its first request object, and a typo must not silently trust nobody (or everybody).
 */
export function trustedProxiesProblem(value: string): string | undefined {
  if (value.trim() === '') return undefined;
  for (const raw of value.split(',')) {
    const entry = raw.trim();
    if ((NAMED_RANGES as readonly string[]).includes(entry)) continue;
    const [address, prefix, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || extra !== undefined) {
      return `"${entry}" is not an IP address, a CIDR or one of ${NAMED_RANGES.join(', ')}`;
    }
  }
  return undefined;
}
