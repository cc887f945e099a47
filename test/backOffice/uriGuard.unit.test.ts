import { describe, expect, it } from 'vitest';
import { classifyAddress } from '../../src/backOffice/addressClass';
import { BlockedAddressError, checkResolvedAddresses, checkWebServiceUri } from '../../src/backOffice/uriGuard';

const strict = { allowLoopback: false };
const local = { allowLoopback: true };
const rule = (uri: string, backOffice = 'bc-onprem', options = strict) =>
  checkWebServiceUri(uri, backOffice, options)?.rule;

describe('checkWebServiceUri', () => {
  it('accepts public https URIs, and Business Central hosts for bc-online', () => {
    expect(
      rule('https://bc.contoso.com:7048/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments'),
    ).toBeUndefined();
    expect(rule('https://api.businesscentral.dynamics.com/v2.0/t/Production/api/x', 'bc-online')).toBeUndefined();
    expect(rule('https://does-not-resolve.invalid/hook', 'webhook')).toBeUndefined(); // saving does not depend on DNS
  });

  it.each([
    ['not absolute', '/relative/path', 'absolute-uri'],
    ['http', 'http://bc.contoso.com/x', 'https-required'],
    ['ftp', 'ftp://bc.contoso.com/x', 'https-required'],
    ['credentials', 'https://user:pw@bc.contoso.com/x', 'no-credentials-in-uri'],
    ['fragment', 'https://bc.contoso.com/x#frag', 'no-fragment'],
    ['localhost', 'https://localhost/x', 'no-loopback'],
    ['127.x', 'https://127.0.0.2/x', 'no-loopback'],
    ['[::1]', 'https://[::1]/x', 'no-loopback'],
    ['decimal loopback', 'https://2130706433/x', 'no-loopback'],
    ['hex loopback', 'https://0x7f.1/x', 'no-loopback'],
    ['mapped loopback', 'https://[::ffff:127.0.0.1]/x', 'no-loopback'],
    ['10.x', 'https://10.1.2.3/x', 'no-private'],
    ['172.16.x', 'https://172.16.0.1/x', 'no-private'],
    ['192.168.x', 'https://192.168.1.10/x', 'no-private'],
    ['ULA', 'https://[fd12:3456::1]/x', 'no-private'],
    ['link-local', 'https://169.254.10.10/x', 'no-link-local'],
    ['IPv6 link-local', 'https://[fe80::1]/x', 'no-link-local'],
    ['metadata', 'https://169.254.169.254/latest/meta-data', 'no-metadata'],
    ['unspecified', 'https://0.0.0.0/x', 'no-unspecified'],
    ['bc-online elsewhere', 'https://bc.contoso.com/x', 'no-bc-online'],
  ])('refuses %s', (_name, uri, expected) => {
    const backOffice = expected === 'no-bc-online' ? 'bc-online' : 'bc-onprem';
    expect(rule(uri, backOffice)).toBe(expected === 'no-bc-online' ? 'bc-online-host' : expected);
  });

  it('with BACKOFFICE_ALLOW_LOOPBACK allows loopback and http on loopback, nothing else', () => {
    expect(rule('http://127.0.0.1:8080/x', 'bc-online', local)).toBeUndefined();
    expect(rule('http://localhost:8080/x', 'webhook', local)).toBeUndefined();
    expect(rule('http://bc.contoso.com/x', 'webhook', local)).toBe('https-required');
    expect(rule('https://10.0.0.1/x', 'webhook', local)).toBe('no-private');
    expect(rule('http://169.254.169.254/x', 'webhook', local)).toBe('no-metadata');
    expect(rule('https://[fd00:ec2::254]/x', 'webhook', local)).toBe('no-metadata');
  });
});

/** IPv6 forms of blocked IPv4 addresses, Azure's platform address and the special-purpose ranges. */
const notGloballyReachable: Array<[string, string, string]> = [
  ['NAT64 of the metadata address', 'https://[64:ff9b::a9fe:a9fe]/', 'no-metadata'],
  ['NAT64 of a private address', 'https://[64:ff9b::a00:1]/', 'no-private'],
  ['local-use NAT64 (64:ff9b:1::/48) of a public address', 'https://[64:ff9b:1::808:808]/', 'no-reserved'],
  ['6to4 of the metadata address', 'https://[2002:a9fe:a9fe::]/', 'no-metadata'],
  ['6to4 of loopback', 'https://[2002:7f00:1::]/', 'no-loopback'],
  ['Teredo whose client is loopback', 'https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/', 'no-loopback'],
  ['IPv4-compatible private', 'https://[::a00:1]/', 'no-private'],
  ['IPv4-mapped link-local', 'https://[::ffff:169.254.1.1]/', 'no-link-local'],
  ["Azure's platform address", 'https://168.63.129.16/', 'no-metadata'],
  ['documentation (TEST-NET-1)', 'https://192.0.2.1/', 'no-reserved'],
  ['documentation (TEST-NET-3)', 'https://203.0.113.9/', 'no-reserved'],
  ['benchmarking', 'https://198.18.0.1/', 'no-reserved'],
  ['IETF protocol assignments', 'https://192.0.0.8/', 'no-reserved'],
  ['shared address space', 'https://100.64.1.1/', 'no-private'],
  ['multicast', 'https://239.1.2.3/', 'no-reserved'],
  ['class E', 'https://240.0.0.1/', 'no-reserved'],
  ['broadcast', 'https://255.255.255.255/', 'no-reserved'],
  ['IPv6 documentation', 'https://[2001:db8::1]/', 'no-reserved'],
  ['IPv6 documentation (3fff::/20)', 'https://[3fff::1]/', 'no-reserved'],
  ['IPv6 discard-only', 'https://[100::1]/', 'no-reserved'],
  ['IPv6 site-local', 'https://[fec0::1]/', 'no-private'],
];

describe('addresses that are not globally reachable', () => {
  it.each(notGloballyReachable)('refuses %s at save', (_name, uri, expected) => {
    expect(rule(uri, 'webhook')).toBe(expected);
  });

  it.each(notGloballyReachable)('refuses %s at send, before connecting', async (_name, uri) => {
    const host = new URL(uri).hostname;
    await expect(checkResolvedAddresses(host, strict)).rejects.toBeInstanceOf(BlockedAddressError);
  });

  it('keeps public addresses and their NAT64 form', () => {
    expect(rule('https://20.50.2.1/x', 'webhook')).toBeUndefined();
    expect(rule('https://[64:ff9b::1432:201]/x', 'webhook')).toBeUndefined();
    expect(rule('https://[2606:4700::1111]/x', 'webhook')).toBeUndefined();
  });
});

describe('classifyAddress', () => {
  it.each([
    ['8.8.8.8', 'public'],
    ['2606:4700::1111', 'public'],
    ['100.64.0.1', 'private'],
    ['::', 'unspecified'],
    ['::ffff:10.0.0.1', 'private'],
    ['224.0.0.1', 'reserved'],
    ['ff02::1', 'reserved'],
  ])('%s is %s', (address, cls) => {
    expect(classifyAddress(address)).toBe(cls);
  });
});

describe('checkResolvedAddresses (send time, against DNS rebinding)', () => {
  it('refuses a name that resolves to a private address, even if one of its addresses is public', async () => {
    const resolver = async () => [
      { address: '20.1.2.3', family: 4 },
      { address: '192.168.0.5', family: 4 },
    ];
    await expect(checkResolvedAddresses('rebind.example.com', strict, resolver)).rejects.toBeInstanceOf(
      BlockedAddressError,
    );
  });

  it('returns the checked addresses of a public name', async () => {
    const resolver = async () => [{ address: '20.1.2.3', family: 4 }];
    expect(await checkResolvedAddresses('bc.example.com', strict, resolver)).toEqual(['20.1.2.3']);
  });

  it('allows loopback only with the setting', async () => {
    await expect(checkResolvedAddresses('127.0.0.1', strict)).rejects.toThrow(/loopback/);
    expect(await checkResolvedAddresses('127.0.0.1', local)).toEqual(['127.0.0.1']);
  });
});
