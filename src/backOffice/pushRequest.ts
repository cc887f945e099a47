// One change as the request a back office takes: REST JSON (API page or webhook, signed when the connector has
// a signing secret) or a SOAP Create envelope.
import type { PushBody } from '../model/pushBody';
import type { OutboundRequest } from './outboundHttp';
import { soapAction, soapCreateEnvelope, soapServiceName } from './soapEnvelope';
import type { BackOfficeTarget } from './target';
import { signWebhook } from './webhookSignature';

export function pushRequest(target: BackOfficeTarget, body: PushBody, nowMs: number): OutboundRequest {
  if (target.apiType === 'soap') {
    const service = soapServiceName(target.webServiceUri);
    return {
      url: target.webServiceUri,
      method: 'POST',
      headers: {
        'content-type': 'text/xml; charset=utf-8',
        soapaction: soapAction(service, 'Create'),
        'idempotency-key': body.id,
      },
      body: soapCreateEnvelope(service, body),
    };
  }
  const json = JSON.stringify(body);
  const signature =
    target.authType === 'signing-secret' && target.secret
      ? signWebhook(target.secret, body.id, Math.floor(nowMs / 1000), json)
      : {};
  return {
    url: target.webServiceUri,
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': body.id,
      ...signature,
    },
    body: json,
  };
}
