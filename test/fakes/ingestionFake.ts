// Application Insights' ingestion endpoint (v2.1/track) at the HTTP level: the Azure Monitor exporters post
// envelopes there (JSON, often gzipped). A test points APPLICATIONINSIGHTS_CONNECTION_STRING's IngestionEndpoint
// here and reads back what Azure would store. HTTPS only, as the exporters insist: with the self-signed
// certificate of test/fixtures/tls, which the test's process must be told to accept.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HttpFake, jsonReply } from './httpFake';

// biome-ignore lint/suspicious/noExplicitAny: envelopes, read field by field
type Loose = Record<string, any>;

export interface Envelope {
  name: string;
  iKey?: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: Loose };
}

const selfSigned = () => {
  const dir = join(__dirname, '..', 'fixtures', 'tls');
  return {
    key: readFileSync(join(dir, 'localhost-key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'localhost-cert.pem'), 'utf8'),
  };
};

export class IngestionFake extends HttpFake {
  readonly envelopes: Envelope[] = [];

  constructor() {
    super((req) => {
      if (req.method !== 'POST' || !req.path.endsWith('/track')) return jsonReply(404, {});
      const text =
        req.headers['content-encoding'] === 'gzip' ? gunzipSync(req.raw ?? Buffer.alloc(0)).toString('utf8') : req.body;
      const items = JSON.parse(text) as Envelope[];
      this.envelopes.push(...items);
      return jsonReply(200, { itemsReceived: items.length, itemsAccepted: items.length, errors: [] });
    }, selfSigned());
  }

  ofType(baseType: string) {
    return this.envelopes.filter((e) => e.data?.baseType === baseType).map((e) => e.data!.baseData!);
  }
}
