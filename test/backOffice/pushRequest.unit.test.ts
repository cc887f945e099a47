// What goes on the wire for one change, pinned with literal values: the SOAP Create envelope, and a signed
// webhook's headers for a fixed secret, id and timestamp (the signature checked with Python's hmac too).
import { describe, expect, it } from 'vitest';
import { pushRequest } from '../../src/backOffice/pushRequest';
import type { BackOfficeTarget } from '../../src/backOffice/target';
import { buildPushBody } from '../../src/model/pushBody';
import { GOLDEN_BODY, GOLDEN_CONNECTOR, goldenChange } from '../support/goldenChange';

const body = () => buildPushBody(GOLDEN_CONNECTOR, goldenChange());
const at = Date.UTC(2025, 10, 28, 8, 0, 0); // 1764316800 s
const target = (t: Partial<BackOfficeTarget>): BackOfficeTarget => ({
  id: GOLDEN_CONNECTOR,
  backOffice: 'bc-online',
  apiType: 'rest',
  authType: 'oauth2-client-credentials',
  webServiceUri: 'https://api.businesscentral.dynamics.com/v2.0/t/Production/api/x/y/v1.0/companies(1)/appointments',
  login: 't',
  secret: 's',
  ...t,
});

describe('requests on the wire', () => {
  it('REST: the body as it is, with an Idempotency-Key', () => {
    const request = pushRequest(target({}), body(), at);
    expect(request).toEqual({
      url: 'https://api.businesscentral.dynamics.com/v2.0/t/Production/api/x/y/v1.0/companies(1)/appointments',
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'idempotency-key': '40172c6a-4735-5103-8a92-d6edf0ebab05',
      },
      body: GOLDEN_BODY,
    });
  });

  it('SOAP: a Create envelope with page-field names, nulls left out, XML escaped', () => {
    const request = pushRequest(
      target({
        backOffice: 'nav',
        apiType: 'soap',
        authType: 'basic',
        webServiceUri: 'https://nav.example.com:7047/NAV/WS/CRONUS/Page/Appointment',
      }),
      body(),
      at,
    );
    expect(request.headers).toEqual({
      'content-type': 'text/xml; charset=utf-8',
      soapaction: '"urn:microsoft-dynamics-schemas/page/appointment:Create"',
      'idempotency-key': '40172c6a-4735-5103-8a92-d6edf0ebab05',
    });
    expect(request.body).toBe(
      '<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><Create xmlns="urn:microsoft-dynamics-schemas/page/appointment"><Appointment><Id>40172c6a-4735-5103-8a92-d6edf0ebab05</Id><Database_Action>U</Database_Action><Revision>17</Revision><Source_App>BCCRONUSUS</Source_App><Source_Type>SERVICE</Source_Type><Job_No>SO-1001</Job_No><Task_No>10000</Task_No><Appointment_Id>12345</Appointment_Id><Appointment_Guid>5e2c7a90-1b3d-4f6e-8a9c-0d1e2f3a4b5c</Appointment_Guid><Appointment_No>A-1</Appointment_No><Subject>Install &lt;boiler&gt; &amp; test</Subject><Body>Bring the ladder</Body><Start_Date_Time>2026-11-30T08:00:00.000Z</Start_Date_Time><End_Date_Time>2026-11-30T11:00:00.000Z</End_Date_Time><Importance>normal</Importance><Locked>false</Locked><Planning_Quantity>4</Planning_Quantity><Planning_Unit_Of_Measure>HOUR</Planning_Unit_Of_Measure><Planning_UOM_Conversion>1</Planning_UOM_Conversion><Use_Fixed_Planning_Quantity>false</Use_Fixed_Planning_Quantity><Round_To_Unit_Of_Measure>false</Round_To_Unit_Of_Measure><Sent_From_Back_Office>false</Sent_From_Back_Office><Resources><Appointment_Resource><Resource_No>R-01</Resource_No></Appointment_Resource><Appointment_Resource><Resource_No>R-02</Resource_No></Appointment_Resource></Resources></Appointment></Create></soap:Body></soap:Envelope>',
    );
  });

  it('webhook: the body with the three Standard Webhooks headers for a fixed secret, id and timestamp', () => {
    const request = pushRequest(
      target({
        backOffice: 'webhook',
        authType: 'signing-secret',
        webServiceUri: 'https://hooks.example.com/in',
        login: null,
        secret: 'whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
      }),
      body(),
      at,
    );
    expect(request.body).toBe(GOLDEN_BODY);
    expect(request.headers).toEqual({
      'content-type': 'application/json',
      accept: 'application/json',
      'idempotency-key': '40172c6a-4735-5103-8a92-d6edf0ebab05',
      'webhook-id': '40172c6a-4735-5103-8a92-d6edf0ebab05',
      'webhook-timestamp': '1764316800',
      'webhook-signature': 'v1,x/Ubnx4a+V20lvfWdNEnIV1rxszApWGSYfoE2DNvooE=',
    });
  });
});
