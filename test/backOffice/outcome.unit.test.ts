import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCodesDoc } from '../../scripts/codesDoc';
import { parseErrorBody, parseRetryAfter } from '../../src/backOffice/outcome';
import { codeCatalogue, helpFor } from '../../src/model/codes';
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

describe('the code catalogue', () => {
  it('docs/codes.md is the catalogue as generated, with every outcome and sync code and what to do', () => {
    const doc = readFileSync(join(repoRoot, 'docs', 'codes.md'), 'utf8');
    expect(doc).toBe(renderCodesDoc());
    const missing = [...Object.keys(outcomeCodes), ...Object.keys(syncCodes), 'ok'].filter(
      (code) => !doc.includes(`| \`${code}\` |`),
    );
    expect(missing).toEqual([]);
  });

  it.each([
    [
      'auth.invalid-client-secret',
      'create a new client secret in the app registration and PUT the connector with its value (not its ID)',
    ],
    ['http.throttled', "nothing: retried after Retry-After or a back-off; the principal's budget pauses too"],
    ['sync.no-connector', "create a connector for the source app, or fix the producer's source app code; then recover"],
    ['ok', 'nothing'],
  ])('%s says what to do', (code, help) => {
    expect(helpFor(code)).toBe(help);
  });

  it('has no help for what it does not know, nor for a row without a code', () => {
    expect(helpFor('toString')).toBeNull();
    expect(helpFor('made.up')).toBeNull();
    expect(helpFor(null)).toBeNull();
  });

  it('gives every code a help that is a sentence of its own, not the meaning again', () => {
    for (const [code, entry] of Object.entries(codeCatalogue)) {
      expect(entry.help.length, code).toBeGreaterThan(5);
      expect(entry.help, code).not.toBe(entry.meaning);
    }
  });
});
