// A webhook endpoint as a back office would write one: it verifies each push's Standard Webhooks signature with
// the `standardwebhooks` library (the reference implementation, not our signing code) and answers 401 with the
// reason when it does not verify, 204 when it does. `npm run fakes` serves it so a person can watch signed
// deliveries arrive; tests use it to check the signature from the outside.
import { Webhook, WebhookVerificationError } from 'standardwebhooks';
import { HttpFake, jsonReply, type RecordedRequest } from './httpFake';

export interface ReceivedPush {
  at: string;
  verified: boolean;
  /** Why it was refused, when it was. */
  reason?: string;
  webhookId?: string;
  body: unknown;
}

export class WebhookReceiver {
  readonly received: ReceivedPush[] = [];
  readonly http: HttpFake;
  onPush: (push: ReceivedPush) => void = () => {};
  readonly #verifier: Webhook;

  /** `secret` in the Standard Webhooks form, `whsec_<base64>`: what the connector's password is. */
  constructor(readonly secret: string) {
    this.#verifier = new Webhook(secret);
    this.http = new HttpFake((req) => this.#handle(req));
  }

  get url(): string {
    return this.http.url;
  }

  listen(port = 0): Promise<string> {
    return this.http.listen(port);
  }

  stop(): Promise<void> {
    return this.http.stop();
  }

  #handle(req: RecordedRequest) {
    if (req.path === '/_fake/stats')
      return jsonReply(200, {
        received: this.received.length,
        verified: this.received.filter((p) => p.verified).length,
        refused: this.received.filter((p) => !p.verified).length,
      });
    if (req.path === '/_fake/bodies') return jsonReply(200, this.received);
    if (req.method !== 'POST') return jsonReply(405, { error: 'POST a push here' });
    const push: ReceivedPush = {
      at: new Date().toISOString(),
      verified: false,
      webhookId: req.headers['webhook-id'],
      body: parseOrText(req.body),
    };
    try {
      this.#verifier.verify(req.body, req.headers);
      push.verified = true;
    } catch (error) {
      push.reason = error instanceof WebhookVerificationError ? error.message : String(error);
    }
    this.received.push(push);
    this.onPush(push);
    return push.verified ? { status: 204 } : jsonReply(401, { error: 'signature', detail: push.reason });
  }
}

function parseOrText(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return body;
  }
}
