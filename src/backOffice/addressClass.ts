// Classifies IP addresses for the back-office URI guard: pure functions, no DNS. The special-purpose ranges
// come from ipaddr.js, which names the ranges of the IANA IPv4 and IPv6 special-purpose registries; what is
// left for us is the rule: only globally reachable unicast may be a back office, and an IPv6 address that
// carries an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) is judged by the IPv4 address it carries.
import ipaddr from 'ipaddr.js';

export type AddressClass = 'public' | 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'reserved';

/** Cloud metadata and platform endpoints, refused even where their range is allowed. */
const platformAddresses = new Set([
  '169.254.169.254', // instance metadata (Azure, AWS, GCP)
  '169.254.170.2', // ECS task metadata
  '100.100.100.200', // Alibaba metadata
  '168.63.129.16', // Azure's platform (wire server, DNS, health probes)
  'fd00:ec2::254', // AWS metadata over IPv6
]);

const v4Classes: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  loopback: 'loopback',
  private: 'private',
  carrierGradeNat: 'private',
  linkLocal: 'link-local',
};

const v6Classes: Record<string, AddressClass> = {
  unicast: 'public',
  unspecified: 'unspecified',
  loopback: 'loopback',
  uniqueLocal: 'private',
  deprecatedSiteLocal: 'private',
  linkLocal: 'link-local',
};

function classifyV4(address: ipaddr.IPv4): AddressClass {
  if (platformAddresses.has(address.toString())) return 'metadata';
  return v4Classes[address.range()] ?? 'reserved';
}

const v4From = (high: number, low: number) => new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);

/** The IPv4 addresses an IPv6 address carries, or undefined when it carries none. */
function embeddedV4(address: ipaddr.IPv6): ipaddr.IPv4[] | undefined {
  const p = address.parts;
  const range = address.range();
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052') return [v4From(p[6]!, p[7]!)];
  // IPv4-compatible (::a.b.c.d, deprecated) falls in no named range.
  if (p.slice(0, 6).every((x) => x === 0) && (p[6]! !== 0 || p[7]! > 1)) return [v4From(p[6]!, p[7]!)];
  if (range === '6to4') return [v4From(p[1]!, p[2]!)];
  // Teredo: the server's address in clear, the client's inverted in the last 32 bits.
  if (range === 'teredo') return [v4From(p[2]!, p[3]!), v4From(~p[6]! & 0xffff, ~p[7]! & 0xffff)];
  return undefined;
}

const severity: AddressClass[] = ['metadata', 'link-local', 'loopback', 'private', 'unspecified', 'reserved', 'public'];

function classifyV6(address: ipaddr.IPv6): AddressClass {
  if (platformAddresses.has(address.toString())) return 'metadata';
  const carried = embeddedV4(address);
  if (carried) {
    // The local-use NAT64 prefix (64:ff9b:1::/48) is not globally reachable whatever it carries.
    if (address.parts[0] === 0x64 && address.parts[1] === 0xff9b && address.parts[2] === 1) return 'reserved';
    return carried.map(classifyV4).sort((a, b) => severity.indexOf(a) - severity.indexOf(b))[0]!;
  }
  return v6Classes[address.range()] ?? 'reserved';
}

export function classifyAddress(address: string): AddressClass {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  if (!ipaddr.isValid(bare)) throw new Error(`not an IP address: ${address}`);
  const parsed = ipaddr.parse(bare);
  return parsed.kind() === 'ipv4' ? classifyV4(parsed as ipaddr.IPv4) : classifyV6(parsed as ipaddr.IPv6);
}
