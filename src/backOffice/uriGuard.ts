// The back-office URI guard. At save time it judges the URI text (no DNS: a name that does not resolve
// today is still saved); at send time `checkResolvedAddresses` judges what the name resolves to.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type AddressClass, classifyAddress } from './addressClass';

export interface UriGuardOptions {
  /** BACKOFFICE_ALLOW_LOOPBACK: loopback hosts and http are allowed, nothing else. */
  allowLoopback: boolean;
}

export interface UriProblem {
  rule: string;
  message: string;
}

const BC_ONLINE_HOST = /(^|\.)businesscentral\.dynamics\.com$/i;

function hostClass(hostname: string): AddressClass | 'name' {
  const host = hostname
    .replace(/^\[|\]$/g, '')
    .toLowerCase()
    .replace(/\.$/, '');
  if (isIP(host)) return classifyAddress(host);
  if (host === 'localhost' || host.endsWith('.localhost')) return 'loopback';
  if (host === 'metadata.google.internal' || host === 'metadata') return 'metadata';
  return 'name';
}

/** Why an address may not be a back office; undefined when it may. */
export function addressProblem(cls: AddressClass | 'name', options: UriGuardOptions): UriProblem | undefined {
  switch (cls) {
    case 'public':
    case 'name':
      return undefined;
    case 'loopback':
      return options.allowLoopback
        ? undefined
        : { rule: 'no-loopback', message: 'must not target loopback (localhost, 127.0.0.0/8, ::1)' };
    case 'metadata':
      return {
        rule: 'no-metadata',
        message: 'must not target a cloud metadata or platform endpoint (169.254.169.254, 168.63.129.16)',
      };
    case 'link-local':
      return { rule: 'no-link-local', message: 'must not target link-local addresses (169.254.0.0/16, fe80::/10)' };
    case 'private':
      return {
        rule: 'no-private',
        message: 'must not target private addresses (10/8, 172.16/12, 192.168/16, 100.64/10, fc00::/7)',
      };
    case 'unspecified':
      return { rule: 'no-unspecified', message: 'must not target an unspecified address (0.0.0.0, ::)' };
    case 'reserved':
      return {
        rule: 'no-reserved',
        message:
          'must not target an address that is not globally reachable (documentation, benchmarking, multicast, reserved or special-purpose ranges)',
      };
  }
}

/** Judges a web service URI as saved on a connector. */
export function checkWebServiceUri(text: string, backOffice: string, options: UriGuardOptions): UriProblem | undefined {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { rule: 'absolute-uri', message: 'must be an absolute URI such as https://host/path' };
  }
  if (text.includes('#')) return { rule: 'no-fragment', message: 'must not contain a fragment (#...)' };
  if (url.username || url.password) {
    return { rule: 'no-credentials-in-uri', message: 'must not carry credentials; use login and password' };
  }
  // The target comes first: "must not target the metadata endpoint" says more than "must use https".
  const cls = hostClass(url.hostname);
  const problem = addressProblem(cls, options);
  if (problem) return problem;
  if (url.protocol !== 'https:') {
    const httpAllowed = url.protocol === 'http:' && options.allowLoopback && cls === 'loopback';
    if (!httpAllowed) return { rule: 'https-required', message: 'must use https' };
  }
  if (
    backOffice === 'bc-online' &&
    !(options.allowLoopback && cls === 'loopback') &&
    !BC_ONLINE_HOST.test(url.hostname)
  ) {
    return {
      rule: 'bc-online-host',
      message: 'must be a Business Central online host (*.businesscentral.dynamics.com)',
    };
  }
  return undefined;
}

export class BlockedAddressError extends Error {
  override readonly name = 'BlockedAddressError';
  constructor(
    readonly host: string,
    readonly problem: UriProblem,
  ) {
    super(`${host} resolves to an address that ${problem.message}`);
  }
}

export type Resolver = (host: string) => Promise<Array<{ address: string; family: number }>>;
const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Send-time check against DNS rebinding: every address the name resolves to must pass. Returns the
 * addresses so the caller can connect to exactly what was checked.
 */
export async function checkResolvedAddresses(
  hostname: string,
  options: UriGuardOptions,
  resolve: Resolver = systemResolver,
): Promise<string[]> {
  const host = hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await resolve(host)).map((a) => a.address);
  for (const address of addresses) {
    const problem = addressProblem(classifyAddress(address), options);
    if (problem) throw new BlockedAddressError(hostname, problem);
  }
  return addresses;
}
