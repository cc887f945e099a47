// The code catalogue: every code a delivery row, an attempt or a connection test can carry, with what it means
// and what to do about it. One source: the API's `help` fields and docs/codes.md (npm run docs) come from here.
import type { CodeEntry } from './codeEntry';
import { syncCodes } from './delivery';
import { outcomeCodes } from './outcome';

export const connectionTestCodes = {
  ok: {
    meaning: '(connection test only) the credentials, the token and a harmless request all worked',
    help: 'nothing',
  },
  connected: {
    meaning:
      '(connection test of a webhook only) the host accepted a connection (and a TLS handshake, for https); no request was sent, so the endpoint was not asked to take a delivery',
    help: "post a change and read its delivery row: the endpoint's answer to a signed delivery is what proves it",
  },
} as const satisfies Record<string, CodeEntry>;

export const codeCatalogue: Readonly<Record<string, CodeEntry>> = {
  ...connectionTestCodes,
  ...outcomeCodes,
  ...syncCodes,
};

/** What to do about a code; null for a code the catalogue does not know (or none). */
export const helpFor = (code: string | null | undefined): string | null =>
  (code && Object.hasOwn(codeCatalogue, code) ? codeCatalogue[code]!.help : null) ?? null;
