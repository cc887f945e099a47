import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseErrorBody, parseRetryAfter } from '../../src/backOffice/outcome';
import { syncCodes } from '../../src/model/delivery';
import { outcomeCodes } from '../../src/model/outcome';
import { repoRoot } from '../support/repoRoot';

describe('parseErrorBody', () => {
  it.each([
    [
      'OData JSON',
      '{"error":{"code":"BadRequest_NotFound","message":"No HTTP resource.  CorrelationId:  1f2e."}}',
      'BadRequest_NotFound',
      'No HTTP resource. CorrelationId: 1f2e.',
    ],
    [
      'Entra JSON',
      '{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.\\r\\nTrace ID: x"}',
      'invalid_client',
      'AADSTS7000215: Invalid client secret provided.',
    ],
    ['problem JSON', '{"type":"x","title":"Bad","detail":"field missing"}', undefined, 'field missing'],
    [
      'OData XML',
      '<error xmlns="http://docs.oasis-open.org/odata/ns/metadata"><code>Unauthorized</code><message>The credentials provided are incorrect</message></error>',
      'Unauthorized',
      'The credentials provided are incorrect',
    ],
    [
      'SOAP fault',
      '<s:Envelope><s:Body><s:Fault><faultcode xmlns:a="urn:e">a:Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideRecordNotFoundException</faultcode><faultstring xml:lang="en-US">The record &amp; key was not found</faultstring></s:Fault></s:Body></s:Envelope>',
      'Microsoft.Dynamics.Nav.Types.Exceptions.NavCSideRecordNotFoundException',
      'The record & key was not found',
    ],
    [
      'HTML',
      '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad</h1></body></html>',
      undefined,
      '502 Bad Gateway',
    ],
    ['plain text', 'Service Unavailable', undefined, 'Service Unavailable'],
  ])('%s', (_name, body, code, message) => {
    const parsed = parseErrorBody(body);
    expect(parsed.code).toBe(code);
    expect(parsed.message).toBe(message);
  });

  it('returns nothing for an empty body and redacts secrets echoed by an upstream', () => {
    expect(parseErrorBody('  ')).toEqual({});
    expect(parseErrorBody('{"error":{"code":"X","message":"bad client_secret=abc123def"}}').message).not.toContain(
      'abc123def',
    );
  });
});

describe('parseRetryAfter', () => {
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(parseRetryAfter(new Date(Date.now() + 30_000).toUTCString())).toBeGreaterThan(25_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('the README', () => {
  it('documents every outcome code and every sync code', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const missing = [...Object.keys(outcomeCodes), ...Object.keys(syncCodes)].filter(
      (code) => !readme.includes(`| \`${code}\` |`),
    );
    expect(missing).toEqual([]);
  });
});
