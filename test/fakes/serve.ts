// `npm run fakes`: the Entra and Business Central fakes on fixed loopback ports, for trying the app by hand, and
// an OpenTelemetry collector that prints the spans it gets. Start the app with ENTRA_AUTHORITY_HOST (and, for
// telemetry, OTEL_EXPORTER_OTLP_ENDPOINT) pointing here: the commands are printed below.
import { startBackOfficeFakes } from './backOfficeFakes';
import { BusinessCentralFake } from './businessCentralFake';
import { CLIENT, TENANT } from './demoTenant';
import { OtlpCollector } from './otlpCollector';

export const demo = {
  tenant: TENANT,
  clientId: CLIENT,
  clientSecret: 'demo-client-secret',
  user: 'SVC-DIME',
  accessKey: 'demo-web-service-access-key',
  windowsUser: 'CRONUS\\svc-dime',
  windowsPassword: 'demo-windows-password',
};

async function main(): Promise<void> {
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
  // One line per span, as it arrives: where a change went, how long it took, what came of it.
  collector.onSpan = (span) => {
    const a = span.attributes;
    const what = [a['connector.name'], a.outcome, a['delivery.code'], a['http.response.status_code'], a['url.full']]
      .filter((v) => v !== undefined && v !== '')
      .join(' ');
    console.log(`${new Date().toISOString()} span ${span.name} trace ${span.traceId} ${what}`);
  };
  bc.latencyMs = Number(process.env.BC_FAKE_LATENCY_MS ?? 0);
  bc.faultRate = Number(process.env.BC_FAKE_FAULT_RATE ?? 0);
  // Business Central's per-principal limits: "concurrent,queued,requests per window,window ms" (5,95,6000,300000).
  const limits = process.env.BC_FAKE_LIMITS?.split(',').map(Number);
  if (limits?.length === 4 && limits.every(Number.isFinite)) {
    const [maxConcurrent, maxQueued, requestsPerWindow, windowMs] = limits as [number, number, number, number];
    bc.limits = { maxConcurrent, maxQueued, requestsPerWindow, windowMs };
  }
  // Started by the benchmark with fork(): tell it where the fakes listen.
  if (process.send) process.send({ entra: entra.url, bc: bc.url });
  console.log(
    `Entra fake:            ${entra.url}   (tenant ${demo.tenant}, client ${demo.clientId}, secret ${demo.clientSecret})`,
  );
  console.log(`Business Central fake: ${bc.url}   (Basic ${demo.user} / ${demo.accessKey})`);
  console.log(`OpenTelemetry collector: ${collector.url}   (OTLP/HTTP JSON; prints each span)`);
  console.log(`\nStart the app against it:  ENTRA_AUTHORITY_HOST=${entra.url} npm start`);
  console.log(
    `With telemetry:            OTEL_EXPORTER_OTLP_ENDPOINT=${collector.url} OTEL_METRIC_EXPORT_INTERVAL=10000 ENTRA_AUTHORITY_HOST=${entra.url} npm start`,
  );
  console.log(
    `With callers checked:      AUTH_MODE=entra AUTH_TENANT_ID=${demo.tenant} AUTH_AUDIENCE=${entra.apiAudience} ENTRA_AUTHORITY_HOST=${entra.url} npm start`,
  );
  console.log(
    `A token with roles:        curl -s -X POST ${entra.url}/_fake/api-token/${demo.tenant} -d '{"roles":["Connectors.Manage","Deliveries.Read"]}'`,
  );
  console.log(
    `bc-online URI: ${bc.url}/v2.0/${demo.tenant}/Production/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`,
  );
  console.log(`bc-onprem URI: ${bc.url}/BC/api/dimeSoftware/dimeScheduler/v1.0/companies(1)/appointments`);
  console.log(`nav SOAP URI:  ${bc.url}/NAV/WS/CRONUS/Page/Appointment`);
  console.log(
    `Windows (NTLM) instance: ${windows.url}/NAV/WS/CRONUS/Page/Appointment   (authType ntlm, ${demo.windowsUser} / ${demo.windowsPassword})`,
  );
  setInterval(() => {
    for (const [name, fake] of [
      ['Business Central fake', bc],
      ['Windows instance fake', windows],
    ] as const)
      if (fake.insertOrder.length)
        console.log(`${new Date().toISOString()} ${name} has ${fake.insertOrder.length} appointment rows`);
  }, 10_000).unref();
  const stop = async () => {
    await fakes.stop();
    await windows.stop();
    await collector.stop();
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

if (require.main === module) void main();
