// `npm run fakes`: the Entra and Business Central fakes on fixed loopback ports, for trying the app by hand, a
// webhook receiver that verifies signatures, and an OpenTelemetry collector that prints the spans it gets.
// Start the app with ENTRA_AUTHORITY_HOST (and, for telemetry, OTEL_EXPORTER_OTLP_ENDPOINT) pointing here: the
// commands are printed below.
import { startBackOfficeFakes } from './backOfficeFakes';
import { BusinessCentralFake } from './businessCentralFake';
import { CLIENT, TENANT } from './demoTenant';
import { OtlpCollector } from './otlpCollector';
import { WebhookReceiver } from './webhookReceiver';

export const demo = {
  tenant: TENANT,
  clientId: CLIENT,
  clientSecret: 'demo-client-secret',
  user: 'SVC-DIME',
  accessKey: 'demo-web-service-access-key',
  windowsUser: 'CRONUS\\svc-dime',
  windowsPassword: 'demo-windows-password',
  /** The webhook receiver's signing secret (Standard Webhooks form): a webhook connector's password. */
  webhookSecret: 'whsec_ZGVtby13ZWJob29rLXNpZ25pbmctc2VjcmV0',
};

/** Starts every fake on its port (the defaults, or the *_FAKE_PORT variables) and prints the banner. */
export async function serveFakes(print: (text: string) => void = console.log) {
  const entraPort = Number(process.env.ENTRA_FAKE_PORT ?? 7081);
  const bcPort = Number(process.env.BC_FAKE_PORT ?? 7082);
  const fakes = await startBackOfficeFakes(demo, { entra: entraPort, bc: bcPort });
  // A second server instance with the Windows credential type (NTLM only), as on-premises installs default to.
  const windows = new BusinessCentralFake();
  windows.windows.addUser(demo.windowsUser, demo.windowsPassword);
  await windows.http.listen(Number(process.env.BC_WINDOWS_FAKE_PORT ?? 7083));
  const { entra, bc } = fakes;
  const collector = new OtlpCollector();
  await collector.listen(Number(process.env.OTLP_FAKE_PORT ?? 7084));
  const webhook = new WebhookReceiver(demo.webhookSecret);
  await webhook.listen(Number(process.env.WEBHOOK_FAKE_PORT ?? 7085));
  webhook.onPush = (push) => {
    const pushed = push.body as { appointmentGuid?: string; revision?: number; databaseAction?: string } | undefined;
    const what = `appointment ${pushed?.appointmentGuid ?? '?'} revision ${pushed?.revision ?? '?'} (${pushed?.databaseAction ?? '?'})`;
    print(`${push.at} webhook ${push.verified ? 'signature verified' : `REFUSED (${push.reason})`}: ${what}`);
  };
  // One line per span, as it arrives: where a change went, how long it took, what came of it.
  collector.onSpan = (span) => {
    const a = span.attributes;
    const what = [a['connector.name'], a.outcome, a['delivery.code'], a['http.response.status_code'], a['url.full']]
      .filter((v) => v !== undefined && v !== '')
      .join(' ');
    print(`${new Date().toISOString()} span ${span.name} trace ${span.traceId} ${what}`);
  };
  bc.latencyMs = Number(process.env.BC_FAKE_LATENCY_MS ?? 0);
  bc.faultRate = Number(process.env.BC_FAKE_FAULT_RATE ?? 0);
  // Business Central's per-principal limits: "concurrent,queued,requests per window,window ms" (5,95,6000,300000).
  const limits = process.env.BC_FAKE_LIMITS?.split(',').map(Number);
  if (limits?.length === 4 && limits.every(Number.isFinite)) {
    const [maxConcurrent, maxQueued, requestsPerWindow, windowMs] = limits as [number, number, number, number];
    bc.limits = { maxConcurrent, maxQueued, requestsPerWindow, windowMs };
  }
  const lines = [
    'Fakes for trying the app by hand (Ctrl-C stops them):',
    '',
    `Entra fake:              ${entra.url}   tenant ${demo.tenant}, client ${demo.clientId}, secret ${demo.clientSecret}`,
    `  token endpoint:        ${entra.url}/${demo.tenant}/oauth2/v2.0/token   (what the app calls for bc-online)`,
    `  a caller's token:      curl -s -X POST ${entra.url}/_fake/api-token/${demo.tenant} -d '{"roles":["Connectors.Manage","Deliveries.Read"]}'`,
    `  what it did:           ${entra.url}/_fake/stats`,
    `Business Central fake:   ${bc.url}   Basic ${demo.user} / ${demo.accessKey}`,
    `  bc-online URI:         ${bc.url}/v2.0/${demo.tenant}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
    `  bc-onprem URI:         ${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
    `  nav SOAP URI:          ${bc.url}/NAV/WS/CRONUS/Page/Appointment`,
    `  what it got:           ${bc.url}/_fake/stats, ${bc.url}/_fake/bodies`,
    `Windows (NTLM) instance: ${windows.url}/NAV/WS/CRONUS/Page/Appointment   authType ntlm, ${demo.windowsUser} / ${demo.windowsPassword}`,
    `Webhook receiver:        ${webhook.url}/hooks/planning   signing secret ${demo.webhookSecret}`,
    `  what it got:           ${webhook.url}/_fake/stats, ${webhook.url}/_fake/bodies   (verifies every signature)`,
    `OpenTelemetry collector: ${collector.url}   OTLP/HTTP JSON; prints each span`,
    '',
    `Start the app against them:  ENTRA_AUTHORITY_HOST=${entra.url} npm start`,
    `With telemetry:              OTEL_EXPORTER_OTLP_ENDPOINT=${collector.url} OTEL_METRIC_EXPORT_INTERVAL=10000 ENTRA_AUTHORITY_HOST=${entra.url} npm start`,
    `With callers checked:        AUTH_MODE=entra AUTH_TENANT_ID=${demo.tenant} AUTH_AUDIENCE=${entra.apiAudience} ENTRA_AUTHORITY_HOST=${entra.url} npm start`,
  ];
  print(lines.join('\n'));
  const counts = setInterval(() => {
    for (const [name, fake] of [
      ['Business Central fake', bc],
      ['Windows instance fake', windows],
    ] as const)
      if (fake.insertOrder.length)
        print(`${new Date().toISOString()} ${name} has ${fake.insertOrder.length} appointment rows`);
  }, 10_000).unref();
  return {
    entra,
    bc,
    webhook,
    async stop() {
      clearInterval(counts);
      await Promise.all([fakes.stop(), windows.stop(), collector.stop(), webhook.stop()]);
    },
  };
}

if (require.main === module)
  void serveFakes().then((fakes) => {
    // Started by the benchmark with fork(): tell it where the fakes listen.
    if (process.send) process.send({ entra: fakes.entra.url, bc: fakes.bc.url });
    const stop = () => void fakes.stop().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
