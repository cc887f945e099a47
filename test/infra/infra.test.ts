// infra/: the Bicep compiles and lints without a single warning, and the compiled template keeps the policy.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import names from '../../src/platform/resourceNames.json';
import { repoRoot } from '../support/testApp';

type Resource = {
  type: string;
  name: string;
  properties?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  sku?: Record<string, unknown>;
  kind?: string;
};

const bicep = (...args: string[]) =>
  spawnSync('bash', [join(repoRoot, 'infra', 'bicep.sh'), ...args], { cwd: repoRoot, encoding: 'utf8' });
let template: { resources: Resource[] };
let all: Array<Resource & { module: string; variables: Record<string, unknown> }>;

/** Every resource of the template and of its nested module deployments. */
function flatten(
  t: { resources: Resource[]; variables?: Record<string, unknown> },
  module: string,
): Array<Resource & { module: string; variables: Record<string, unknown> }> {
  return t.resources.flatMap((r) =>
    r.type === 'Microsoft.Resources/deployments'
      ? flatten((r.properties as { template: typeof t }).template, r.name)
      : [{ ...r, module, variables: t.variables ?? {} }],
  );
}
const ofType = (type: string) => all.filter((r) => r.type.toLowerCase() === type.toLowerCase());

beforeAll(() => {
  const build = bicep('build', 'infra/main.bicep', '--stdout');
  expect(build.status, build.stderr).toBe(0);
  expect(build.stderr.trim(), 'bicep build warnings').toBe('');
  template = JSON.parse(build.stdout);
  all = flatten(template, 'main');
}, 180_000);

describe('infra/', () => {
  it('lints without warnings, and the parameter file builds', () => {
    const lint = bicep('lint', 'infra/main.bicep');
    expect(lint.status).toBe(0);
    expect(`${lint.stdout}${lint.stderr}`.trim(), 'bicep lint output').toBe('');
    const params = bicep('build-params', 'infra/main.bicepparam', '--stdout');
    expect(params.status, params.stderr).toBe(0);
  }, 120_000);

  it('uses no registry modules, keys or connection strings with secrets', () => {
    const files = ['main.bicep', ...readdirSync(join(repoRoot, 'infra', 'modules')).map((f) => `modules/${f}`)];
    for (const file of files) {
      const text = readFileSync(join(repoRoot, 'infra', file), 'utf8');
      for (const banned of ['br/public:', 'br:', 'listKeys(', 'AccountKey=', 'SharedAccessSignature'])
        expect(text, `${file} has ${banned}`).not.toContain(banned);
    }
  });

  it('makes storage keyless, TLS 1.2, with no public blobs', () => {
    const [storage] = ofType('Microsoft.Storage/storageAccounts');
    expect(storage!.properties).toMatchObject({
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      minimumTlsVersion: 'TLS1_2',
      supportsHttpsTrafficOnly: true,
      defaultToOAuthAuthentication: true,
    });
  });

  it("creates the queues and tables the code uses, from the code's own names file", () => {
    const storageModule = ofType('Microsoft.Storage/storageAccounts')[0]!;
    // loadJsonContent inlines the file as a variable of the compiled module.
    expect(storageModule.variables.names).toBe("[variables('$fxv#0')]");
    expect(storageModule.variables['$fxv#0']).toEqual(names);
    expect(ofType('Microsoft.Storage/storageAccounts/queueServices/queues')).toHaveLength(1); // a copy loop over queueNames
    expect(JSON.stringify(storageModule.variables.queueNames)).toContain('-poison');
    expect(JSON.stringify(ofType('Microsoft.Storage/storageAccounts/tableServices/tables'))).toContain(
      "items(variables('names').tables)",
    );
  });

  it('makes Key Vault RBAC-only with purge protection', () => {
    const [vault] = ofType('Microsoft.KeyVault/vaults');
    expect(vault!.properties).toMatchObject({
      enableRbacAuthorization: true,
      enablePurgeProtection: true,
      enableSoftDelete: true,
    });
  });

  it('runs the app on Flex Consumption with its managed identity, https only, TLS 1.2, FTP off', () => {
    const [plan] = ofType('Microsoft.Web/serverfarms');
    expect(plan!.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    const [site] = ofType('Microsoft.Web/sites');
    expect(site!.kind).toBe('functionapp,linux');
    expect(site!.identity?.type).toBe('UserAssigned');
    expect(site!.properties).toMatchObject({
      httpsOnly: true,
      siteConfig: { minTlsVersion: '1.2', ftpsState: 'Disabled' },
    });
    const config = site!.properties!.functionAppConfig as {
      runtime: { name: string };
      deployment: { storage: { authentication: { type: string } } };
    };
    expect(config.runtime.name).toBe('node');
    expect(config.deployment.storage.authentication.type).toBe('UserAssignedIdentity');
    for (const policy of ofType('Microsoft.Web/sites/basicPublishingCredentialsPolicies'))
      expect(policy.properties).toEqual({ allow: false });
  });

  it('configures identity-based settings and nothing the code does not read', () => {
    const [settings] = ofType('Microsoft.Web/sites/config');
    const keys = Object.keys(settings!.properties!);
    expect(keys).toEqual(
      expect.arrayContaining([
        'AzureWebJobsStorage__credential',
        'AzureWebJobsStorage__clientId',
        'AzureWebJobsStorage__queueServiceUri',
        'AzureWebJobsStorage__tableServiceUri',
        'KEY_VAULT_URI',
        'AZURE_CLIENT_ID',
        'APPLICATIONINSIGHTS_CONNECTION_STRING',
        'APPLICATIONINSIGHTS_AUTHENTICATION_STRING',
        'APPOINTMENTS_QUEUE',
        'APPOINTMENT_RETRIES_QUEUE',
        'POISON_SWEEP_SCHEDULE',
      ]),
    );
    expect(settings!.properties!.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(keys).not.toContain('AzureWebJobsStorage');
    expect(keys).not.toContain('FUNCTIONS_WORKER_RUNTIME');
    expect(keys).not.toContain('KEY_VAULT_ALLOW_INSECURE');
    expect(settings!.properties!.BACKOFFICE_ALLOW_LOOPBACK).toBe('false');
  });

  it('assigns only the intended roles, all to the app identity as a service principal', () => {
    const allowed = new Set([
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
      '3913510d-42f4-4e42-8a64-420c390055eb',
    ]);
    const assigned =
      JSON.stringify(ofType('Microsoft.Authorization/roleAssignments')) +
      JSON.stringify(ofType('Microsoft.Authorization/roleAssignments').map((r) => r.variables));
    const ids = new Set(
      [...assigned.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map((m) => m[0]),
    );
    expect([...ids].sort()).toEqual([...allowed].sort());
    for (const r of ofType('Microsoft.Authorization/roleAssignments'))
      expect(r.properties!.principalType).toBe('ServicePrincipal');
  });

  it('disables local auth on Application Insights and wires the alerts and the workbook', () => {
    const [appi] = ofType('Microsoft.Insights/components');
    expect(appi!.properties).toMatchObject({ DisableLocalAuth: true });
    expect(ofType('Microsoft.Insights/actionGroups')).toHaveLength(1);
    const rules = ofType('Microsoft.Insights/scheduledQueryRules');
    expect(rules).toHaveLength(1); // a copy loop
    const alertNames = (rules[0]!.variables.alerts as Array<{ name: string }>).map((a) => a.name);
    expect(alertNames).toEqual([
      'deliveries-failed',
      'poison-queue-moves',
      'function-failure-rate',
      'no-connector-burst',
    ]);
    expect(ofType('Microsoft.Insights/workbooks')).toHaveLength(1);
  });
});
