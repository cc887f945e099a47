import { it } from 'vitest';
import { changeMessage } from './support/changes';
import { createUnitApp } from './support/unitApp';

it('cost', async () => {
  const app = createUnitApp({ SYNC_BATCH_LINGER_MS: '50', SYNC_CONNECTOR_CACHE_SECONDS: '15' });
  await app.connector({ name: 'a', login: 'A' });
  await app.connector({
    name: 'b',
    login: 'B',
    webServiceUri: 'https://bc2.example.com/BC/api/x/v1.0/companies(2)/appointments',
  });
  const by: Record<string, number> = {};
  for (const name of ['deliveries', 'syncstate', 'latestrevisions', 'budgets', 'connectors']) {
    app.tables.get(name).beforeRequest = (kind, keys) => {
      const k = `${name}:${kind}:${keys ? keys.partitionKey.replace(/[0-9a-f-]{36}/, 'C').replace(/^(.~).*/, '$1') : ''}`;
      by[k] = (by[k] ?? 0) + 1;
    };
  }
  const before = app.tables.requests;
  const N = 500;
  const changes = Array.from({ length: N }, () => changeMessage('BCCRONUSUS'));
  for (let i = 0; i < N; i += 32)
    await Promise.all(changes.slice(i, i + 32).map((c) => app.services.sync.handleChange(app.message(c), app.log)));
  console.log('table requests per delivery', (app.tables.requests - before) / (2 * N));
  console.log(
    Object.entries(by)
      .sort()
      .map(([k, v]) => `${k} ${(v / (2 * N)).toFixed(3)}`)
      .join('\n'),
  );
}, 120_000);
