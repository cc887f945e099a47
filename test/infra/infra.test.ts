// infra/: the Bicep compiles and lints without a single warning, and the compiled template keeps the policy.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import alertsFile from '../../infra/alerts.json';
import names from '../../src/platform/resourceNames.json';
import { type Ran, run } from '../support/run';
import { repoRoot } from '../support/testApp';

type Resource = {
  type: string;
  name: string;
  properties?: Record<string, unknown>;
  identity?: Record<string, unknown>;
  sku?: Record<string, unknown>;
  kind?: string;
};

/** The Bicep CLI with these variables over the test process's own (undefined: left unset). */
const bicep = (args: string[], env: Record<string, string | undefined> = {}) =>
  run('bash', [join(repoRoot, 'infra', 'bicep.sh'), ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
/** What azd passes the parameter file. */
const azdEnv = { AZURE_ENV_NAME: 'bocs-test', ALERT_EMAIL: 'ops@example.com', AUTH_AUDIENCE: 'api://bocs-test' };
let template: {
  resources: Array<Resource & { condition?: string }>;
  parameters: Record<string, Record<string, unknown>>;
  variables: Record<string, unknown>;
  outputs: Record<string, unknown>;
};
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

/** `npm run infra:build` as it runs without an azd environment: it compiles the template the tests read. */
let infraBuild: Ran;

beforeAll(async () => {
  const env = { ...process.env, AZURE_ENV_NAME: undefined, ALERT_EMAIL: undefined, AUTH_AUDIENCE: undefined };
  infraBuild = await run('bash', [join(repoRoot, 'infra', 'build.sh')], { cwd: repoRoot, env });
  expect(infraBuild.status, infraBuild.stderr).toBe(0);
  expect(infraBuild.stderr.trim(), 'bicep build warnings').toBe('');
  template = JSON.parse(readFileSync(join(repoRoot, 'dist-infra', 'main.json'), 'utf8'));
  all = flatten(template, 'main');
}, 180_000);

describe('infra/', () => {
  it("lints without warnings; the parameter file builds from azd's values and names a missing one", async () => {
    // `bicep build` runs the linter with infra/bicepconfig.json: the build in beforeAll printed nothing.
    expect(infraBuild.stderr.trim(), 'bicep build (and lint) output').toBe('');
    const params = await bicep(['build-params', 'infra/main.bicepparam', '--stdout'], azdEnv);
    expect(params.status, params.stderr).toBe(0);
    const values = JSON.parse(JSON.parse(params.stdout).parametersJson).parameters;
    expect(values).toMatchObject({
      environmentName: { value: 'bocs-test' },
      alertEmail: { value: 'ops@example.com' },
      authAudience: { value: 'api://bocs-test' },
      environmentType: { value: 'dev' },
      location: { value: '' },
      vnetEnabled: { value: false },
      logRetentionDays: { value: 90 },
    });
    // Every parameter of main.bicep is set by the parameter file, so azd reaches each one.
    expect(Object.keys(values).sort()).toEqual(Object.keys(template.parameters).sort());
    // No receiver, no deployment: an empty value is too short, an unset one is named.
    const empty = await bicep(['build-params', 'infra/main.bicepparam', '--stdout'], { ...azdEnv, ALERT_EMAIL: '' });
    expect(empty.status).not.toBe(0);
    expect(empty.stdout + empty.stderr).toContain('minimum allowable length is 3');
    const unset = await bicep(['build-params', 'infra/main.bicepparam', '--stdout'], {
      ...azdEnv,
      ALERT_EMAIL: undefined,
    });
    expect(unset.status).not.toBe(0);
    expect(unset.stdout + unset.stderr).toContain('Environment variable "ALERT_EMAIL" does not exist');
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

  it('runs the app on Flex Consumption with its managed identity, https only, TLS 1.2, basic publishing off', () => {
    const [plan] = ofType('Microsoft.Web/serverfarms');
    expect(plan!.sku).toEqual({ name: 'FC1', tier: 'FlexConsumption' });
    const [site] = ofType('Microsoft.Web/sites');
    expect(site!.kind).toBe('functionapp,linux');
    expect(site!.identity?.type).toBe('UserAssigned');
    expect(site!.properties).toMatchObject({ httpsOnly: true, siteConfig: { minTlsVersion: '1.2' } });
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
        'RECOVERIES_QUEUE',
        'POISON_SWEEP_SCHEDULE',
        'AUTH_TENANT_ID',
        'AUTH_AUDIENCE',
      ]),
    );
    // Callers are checked in Azure: the app refuses AUTH_MODE=off there, so infra sets entra with its tenant.
    expect(settings!.properties!.AUTH_MODE).toBe('entra');
    expect(settings!.properties!.AUTH_TENANT_ID).toBe("[parameters('authTenantId')]");
    expect(settings!.properties!.RECOVERIES_QUEUE).toBe("[parameters('queues').recoveries]");
    expect(settings!.properties!.AzureWebJobsStorage__credential).toBe('managedidentity');
    expect(keys).not.toContain('AzureWebJobsStorage');
    expect(keys).not.toContain('FUNCTIONS_WORKER_RUNTIME');
    expect(keys).not.toContain('KEY_VAULT_ALLOW_INSECURE');
    expect(settings!.properties!.BACKOFFICE_ALLOW_LOOPBACK).toBe('false');
  });

  it('assigns only the intended roles: the app identity as a service principal, producers and the deployer as asked', () => {
    const allowed = new Set([
      'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
      '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
      '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
      'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
      '3913510d-42f4-4e42-8a64-420c390055eb',
      'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a', // Storage Queue Data Message Sender: producers
      '76199698-9eea-4c19-bc75-cec21354c6b6', // Storage Table Data Reader: the deployer, when asked
    ]);
    const assigned =
      JSON.stringify(ofType('Microsoft.Authorization/roleAssignments')) +
      JSON.stringify(ofType('Microsoft.Authorization/roleAssignments').map((r) => r.variables));
    const ids = new Set(
      [...assigned.matchAll(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g)].map((m) => m[0]),
    );
    expect([...ids].sort()).toEqual([...allowed].sort());
    const byPrincipal = (p: string) =>
      ofType('Microsoft.Authorization/roleAssignments').filter((r) => r.properties!.principalId === p);
    for (const r of byPrincipal("[parameters('principalId')]"))
      expect(r.properties!.principalType).toBe('ServicePrincipal');
    expect(byPrincipal("[parameters('principalId')]")).toHaveLength(3); // storage (a loop of 3), vault, monitoring
    // Producers: Message Sender on the appointments queue alone, one assignment per principal listed.
    const [producers] = byPrincipal("[parameters('producerPrincipalIds')[copyIndex()]]");
    expect((producers as { scope?: string }).scope).toBe(
      "[resourceId('Microsoft.Storage/storageAccounts/queueServices/queues', parameters('storageName'), 'default', parameters('appointmentsQueueName'))]",
    );
    expect(producers!.properties!.roleDefinitionId).toBe(
      "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('roles').storageQueueDataMessageSender)]",
    );
    expect(producers!.variables.roles).toMatchObject({
      storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
    });
    const rolesModule = template.resources.find((r) => r.name === 'roles')!;
    expect(JSON.stringify(rolesModule.properties)).toContain(
      '"producerPrincipalIds":{"value":"[variables(\'producers\')]"}',
    );
    expect(template.variables.producers).toBe(
      "[filter(parameters('producerPrincipalIds'), lambda('p', not(empty(trim(string(lambdaVariables('p')))))))]",
    );
    // The deployer: nothing unless deployerDataAccess.
    expect((rolesModule.properties as { parameters: Record<string, unknown> }).parameters.deployerPrincipalId).toBe(
      "[if(parameters('deployerDataAccess'), createObject('value', parameters('deployerPrincipalId')), createObject('value', ''))]",
    );
    expect(template.parameters.deployerDataAccess).toMatchObject({ type: 'bool', defaultValue: false });
  });

  it('disables local auth on Application Insights and Log Analytics, and wires the alerts and the workbook', () => {
    const [appi] = ofType('Microsoft.Insights/components');
    expect(appi!.properties).toMatchObject({ DisableLocalAuth: true });
    const [workspace] = ofType('Microsoft.OperationalInsights/workspaces');
    expect(workspace!.properties).toMatchObject({ features: { disableLocalAuth: true } });
    const rules = ofType('Microsoft.Insights/scheduledQueryRules');
    expect(rules).toHaveLength(1); // a copy loop over infra/alerts.json
    expect(rules[0]!.variables['$fxv#0']).toEqual(alertsFile);
    expect(alertsFile.map((a) => a.name)).toEqual([
      'deliveries-failed',
      'no-connector-burst',
      'credentials-expiring',
      'backoffice-throttling',
      'sync-backlog',
      'poison-queue-moves',
      'function-failure-rate',
    ]);
    // Every rule compares the query's "value" column; a rule with `split` fires per value of that column.
    const criteria = (rules[0]!.properties!.criteria as { allOf: Array<Record<string, unknown>> }).allOf[0]!;
    expect(criteria).toMatchObject({ timeAggregation: 'Total', metricMeasureColumn: 'value', operator: 'GreaterThan' });
    expect(criteria.dimensions).toBe(
      "[if(contains(variables('alerts')[copyIndex()], 'split'), createArray(createObject('name', variables('alerts')[copyIndex()].split, 'operator', 'Include', 'values', createArray('*'))), createArray())]",
    );
    const [workbook] = ofType('Microsoft.Insights/workbooks');
    expect(workbook!.properties!.serializedData).toBe("[string(variables('workbookContent'))]");
  });

  it('requires a receiver for the alerts', () => {
    expect(template.parameters.alertEmail).toMatchObject({ type: 'string', minLength: 3 });
    expect(template.parameters.alertEmail!.defaultValue).toBeUndefined();
    const [group] = ofType('Microsoft.Insights/actionGroups');
    expect(group!.properties!.emailReceivers).toEqual([
      { name: 'operators', emailAddress: "[parameters('alertEmail')]", useCommonAlertSchema: true },
    ]);
  });

  it('sets nothing on the Flex Consumption deprecation list', () => {
    // "Flex Consumption plan deprecations" (App settings reference for Azure Functions): site properties
    // and app settings a Flex app must not set; newer stamps reject some (ftpsState: error 51021).
    const deprecatedProperties = [
      'ftpsState',
      'alwaysOn',
      'containerSize',
      'functionAppScaleLimit',
      'isReserved',
      'isXenon',
      'javaVersion',
      'linuxFxVersion',
      'netFrameworkVersion',
      'powerShellVersion',
      'preWarmedInstanceCount',
      'use32BitWorkerProcess',
      'vnetRouteAllEnabled',
      'http20Enabled',
    ];
    const deprecatedSettings = [
      'FUNCTIONS_EXTENSION_VERSION',
      'FUNCTIONS_WORKER_RUNTIME',
      'FUNCTIONS_WORKER_RUNTIME_VERSION',
      'FUNCTIONS_MAX_HTTP_CONCURRENCY',
      'FUNCTIONS_WORKER_PROCESS_COUNT',
      'FUNCTIONS_WORKER_DYNAMIC_CONCURRENCY_ENABLED',
      'SCM_DO_BUILD_DURING_DEPLOYMENT',
      'ENABLE_ORYX_BUILD',
      'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING',
      'WEBSITE_CONTENTOVERVNET',
      'WEBSITE_CONTENTSHARE',
      'WEBSITE_DNS_SERVER',
      'WEBSITE_MAX_DYNAMIC_APPLICATION_SCALE_OUT',
      'WEBSITE_NODE_DEFAULT_VERSION',
      'WEBSITE_RUN_FROM_PACKAGE',
      'WEBSITE_SKIP_CONTENTSHARE_VALIDATION',
      'WEBSITE_VNET_ROUTE_ALL',
    ];
    const [site] = ofType('Microsoft.Web/sites');
    const keysIn = (value: unknown): string[] =>
      value && typeof value === 'object'
        ? Object.entries(value).flatMap(([k, v]) => [k.toLowerCase(), ...keysIn(v)])
        : [];
    const siteKeys = keysIn(site!.properties);
    for (const property of deprecatedProperties) expect(siteKeys, property).not.toContain(property.toLowerCase());
    const [settings] = ofType('Microsoft.Web/sites/config');
    for (const setting of deprecatedSettings) expect(Object.keys(settings!.properties!)).not.toContain(setting);
  });

  it("sends the vault's audit events and the storage services' read, write and delete logs to the workspace", () => {
    const diagnostics = ofType('Microsoft.Insights/diagnosticSettings');
    const scopes = diagnostics.map((d) => String((d as { scope?: string }).scope));
    expect(scopes.some((s) => s.includes('Microsoft.KeyVault/vaults'))).toBe(true);
    for (const service of ['blobServices', 'queueServices', 'tableServices'])
      expect(
        scopes.some((s) => s.includes(service)),
        service,
      ).toBe(true);
    type Logs = Array<{ category: string; enabled: boolean }>;
    // A module variable compiles to a reference: look it up.
    const logs = diagnostics.map((d) => {
      const value = (d.properties as { logs: Logs | string }).logs;
      return typeof value === 'string' ? (d.variables[/variables\('(\w+)'\)/.exec(value)![1]!] as Logs) : value;
    });
    expect(logs).toContainEqual([{ category: 'AuditEvent', enabled: true }]);
    expect(logs.filter((l) => l.length === 3)).toHaveLength(3);
    for (const l of logs.filter((l) => l.length === 3))
      expect(l.map((c) => c.category)).toEqual(['StorageRead', 'StorageWrite', 'StorageDelete']);
    for (const d of diagnostics) expect(d.properties!.workspaceId).toBe("[parameters('workspaceId')]");
  });

  it('protects the data: locks in production only (a trial environment comes down), zone redundancy where offered, blob soft delete', () => {
    expect(template.parameters.environmentType).toMatchObject({
      type: 'string',
      defaultValue: 'dev',
      allowedValues: ['dev', 'prod'],
    });
    expect(template.resources.find((r) => r.name === 'locks')!.condition).toBe("[variables('isProd')]");
    expect(template.variables.isProd).toBe("[equals(parameters('environmentType'), 'prod')]");
    const locks = ofType('Microsoft.Authorization/locks');
    expect(locks.map((l) => l.properties!.level)).toEqual(['CanNotDelete', 'CanNotDelete']);
    expect(locks.map((l) => String((l as { scope?: string }).scope))).toEqual([
      expect.stringContaining('Microsoft.Storage/storageAccounts'),
      expect.stringContaining('Microsoft.KeyVault/vaults'),
    ]);
    expect(String(template.variables.storageSku)).toContain("'Standard_ZRS'");
    expect(String(template.variables.storageSku)).toContain("not(variables('regionHasZones'))");
    expect(template.variables.regionHasZones).toBe(
      "[contains(variables('zoneRegions'), toLower(variables('requestedRegion')))]",
    );
    const [blobs] = ofType('Microsoft.Storage/storageAccounts/blobServices');
    expect(blobs!.properties).toEqual({
      deleteRetentionPolicy: { enabled: true, days: 7 },
      containerDeleteRetentionPolicy: { enabled: true, days: 7 },
    });
  });

  it("gives a way past a deleted vault's reserved name: a suffix, or recovering it", () => {
    expect(template.parameters.keyVaultNameSuffix).toMatchObject({ type: 'string', maxLength: 4, defaultValue: '' });
    const [vault] = ofType('Microsoft.KeyVault/vaults');
    expect(vault!.properties!.createMode).toBe("[if(parameters('recover'), 'recover', 'default')]");
    const keyVaultModule = template.resources.find((r) => r.name === 'keyVault')!;
    expect(JSON.stringify(keyVaultModule.properties)).toContain("parameters('keyVaultNameSuffix')");
  });

  it('outputs what azd expects, and refuses an environment name or region that cannot work, by name', () => {
    expect(Object.keys(template.outputs)).toEqual(
      expect.arrayContaining(['AZURE_LOCATION', 'AZURE_TENANT_ID', 'AZURE_RESOURCE_GROUP', 'AZURE_FUNCTION_APP_NAME']),
    );
    expect(String(template.variables.prefix)).toMatch(
      /fail\(format\('environmentName "\{0\}" cannot name Azure resources/,
    );
    expect(String(template.variables.region)).toMatch(/fail\(format\('Flex Consumption is not offered in \{0\}/);
    expect(template.variables.flexRegions).toBe("[variables('$fxv#0')]");
    expect(template.variables['$fxv#0']).toContain('westeurope');
  });

  it('can put storage and Key Vault behind private endpoints (vnetEnabled, off by default)', () => {
    expect(template.parameters.vnetEnabled).toMatchObject({ type: 'bool', defaultValue: false });
    for (const name of ['network', 'privateEndpoints'])
      expect(template.resources.find((r) => r.name === name)!.condition).toBe("[parameters('vnetEnabled')]");
    const endpoints = ofType('Microsoft.Network/privateEndpoints');
    expect(endpoints).toHaveLength(1); // a copy loop: blob, queue, table, vault
    expect(JSON.stringify(endpoints[0]!.variables.targets)).toMatch(/blob.*queue.*table.*vault/);
    const [storage] = ofType('Microsoft.Storage/storageAccounts');
    expect(storage!.properties!.publicNetworkAccess).toBe("[if(parameters('publicAccess'), 'Enabled', 'Disabled')]");
    const [site] = ofType('Microsoft.Web/sites');
    expect(site!.properties!.virtualNetworkSubnetId).toBe(
      "[if(empty(parameters('subnetId')), null(), parameters('subnetId'))]",
    );
    const [network] = ofType('Microsoft.Network/virtualNetworks');
    expect(JSON.stringify(network!.properties)).toContain('Microsoft.App/environments');
  });
  it('takes the region from the resource group (or azd), never a fixed one', () => {
    expect(template.parameters.location).toMatchObject({ type: 'string', defaultValue: '' });
    expect(template.variables.requestedRegion).toBe(
      "[if(empty(parameters('location')), resourceGroup().location, parameters('location'))]",
    );
    const files = [
      'main.bicep',
      'main.bicepparam',
      ...readdirSync(join(repoRoot, 'infra', 'modules')).map((f) => `modules/${f}`),
    ];
    for (const file of files)
      expect(readFileSync(join(repoRoot, 'infra', file), 'utf8'), file).not.toMatch(/westeurope|eastus|northeurope/i);
  });

  it('keeps logs 90 days by default (the audit trail), with an optional daily cap', () => {
    expect(template.parameters.logRetentionDays).toMatchObject({ type: 'int', defaultValue: 90, minValue: 30 });
    expect(template.parameters.logDailyCapGb).toMatchObject({ type: 'int', defaultValue: 0 });
    const [workspace] = ofType('Microsoft.OperationalInsights/workspaces');
    expect(workspace!.properties).toMatchObject({
      retentionInDays: "[parameters('retentionInDays')]",
      workspaceCapping: { dailyQuotaGb: "[if(greater(parameters('dailyCapGb'), 0), parameters('dailyCapGb'), -1)]" },
    });
  });

  it('offers production options: zone redundancy, always-ready HTTP instances, NSGs on the subnets', () => {
    expect(template.parameters.zoneRedundant).toMatchObject({ type: 'bool', defaultValue: false });
    expect(template.parameters.alwaysReadyInstances).toMatchObject({ type: 'int', defaultValue: 0 });
    const [plan] = ofType('Microsoft.Web/serverfarms');
    expect(plan!.properties).toEqual({ reserved: true, zoneRedundant: "[parameters('zoneRedundant')]" });
    // Zone redundancy takes zone-redundant storage, and refuses a region without zones, or LRS, by name.
    expect(String(template.variables.storageSku)).toMatch(
      /^\[if\(parameters\('zoneRedundant'\), if\(not\(variables\('regionHasZones'\)\), fail\(/,
    );
    expect(String(template.variables.storageSku)).toContain('zoneRedundant needs zone-redundant storage');
    const [site] = ofType('Microsoft.Web/sites');
    expect((site!.properties!.functionAppConfig as { scaleAndConcurrency: unknown }).scaleAndConcurrency).toEqual({
      maximumInstanceCount: "[parameters('maximumInstanceCount')]",
      instanceMemoryMB: "[parameters('instanceMemoryMB')]",
      alwaysReady:
        "[if(greater(parameters('alwaysReadyInstances'), 0), createArray(createObject('name', 'http', 'instanceCount', parameters('alwaysReadyInstances'))), createArray())]",
    });
    const groups = ofType('Microsoft.Network/networkSecurityGroups');
    expect(groups.map((g) => g.name)).toEqual([
      "[format('nsg-{0}-app', parameters('namePrefix'))]",
      "[format('nsg-{0}-private-endpoints', parameters('namePrefix'))]",
    ]);
    const [network] = ofType('Microsoft.Network/virtualNetworks');
    const subnets = network!.properties!.subnets as Array<{ properties: { networkSecurityGroup?: { id: string } } }>;
    expect(subnets.map((s) => s.properties.networkSecurityGroup?.id)).toEqual([
      "[resourceId('Microsoft.Network/networkSecurityGroups', format('nsg-{0}-app', parameters('namePrefix')))]",
      "[resourceId('Microsoft.Network/networkSecurityGroups', format('nsg-{0}-private-endpoints', parameters('namePrefix')))]",
    ]);
  });

  it('passes each variable azd holds to its parameter', async () => {
    const params = await bicep(['build-params', 'infra/main.bicepparam', '--stdout'], {
      ...azdEnv,
      ENVIRONMENT_TYPE: 'prod',
      AZURE_LOCATION: 'swedencentral',
      SKIP_REGION_CHECK: 'true',
      NODE_VERSION: '20',
      MAXIMUM_INSTANCE_COUNT: '40',
      INSTANCE_MEMORY_MB: '4096',
      ALWAYS_READY_INSTANCES: '1',
      ZONE_REDUNDANT: 'true',
      KEY_VAULT_NAME_SUFFIX: '2',
      KEY_VAULT_RECOVER: 'true',
      STORAGE_REDUNDANCY: 'ZRS',
      VNET_ENABLED: 'true',
      LOG_RETENTION_DAYS: '180',
      LOG_DAILY_CAP_GB: '5',
      DEPLOYER_DATA_ACCESS: 'true',
      AZURE_PRINCIPAL_ID: '00000000-0000-0000-0000-0000000000aa',
      AZURE_PRINCIPAL_TYPE: 'ServicePrincipal',
      PRODUCER_PRINCIPAL_IDS: '00000000-0000-0000-0000-0000000000b1,00000000-0000-0000-0000-0000000000b2',
      PRODUCER_PRINCIPAL_TYPE: 'Group',
    });
    expect(params.status, params.stderr).toBe(0);
    const values = JSON.parse(JSON.parse(params.stdout).parametersJson).parameters;
    expect(Object.fromEntries(Object.entries(values).map(([k, v]) => [k, (v as { value: unknown }).value]))).toEqual({
      environmentName: 'bocs-test',
      environmentType: 'prod',
      location: 'swedencentral',
      skipRegionCheck: true,
      nodeVersion: '20',
      alertEmail: 'ops@example.com',
      authAudience: 'api://bocs-test',
      maximumInstanceCount: 40,
      instanceMemoryMB: 4096,
      alwaysReadyInstances: 1,
      zoneRedundant: true,
      keyVaultNameSuffix: '2',
      keyVaultRecover: true,
      storageRedundancy: 'ZRS',
      vnetEnabled: true,
      logRetentionDays: 180,
      logDailyCapGb: 5,
      deployerDataAccess: true,
      deployerPrincipalId: '00000000-0000-0000-0000-0000000000aa',
      deployerPrincipalType: 'ServicePrincipal',
      producerPrincipalIds: ['00000000-0000-0000-0000-0000000000b1', '00000000-0000-0000-0000-0000000000b2'],
      producerPrincipalType: 'Group',
    });
  }, 60_000);

  it('npm run infra:build with an empty environment compiles the template and names what a deployment needs', () => {
    expect(infraBuild.stdout).toContain('Compiled infra/main.bicep to dist-infra/main.json.');
    expect(infraBuild.stdout).toContain(
      [
        'Not built: dist-infra/main.parameters.json. A deployment needs these variables (azd env set NAME value;',
        'azd sets AZURE_ENV_NAME itself):',
        '  ALERT_EMAIL (not set)',
        '  AUTH_AUDIENCE (not set)',
        '  AZURE_ENV_NAME (not set)',
      ].join('\n'),
    );
    expect(infraBuild.stdout).toMatch(
      /Optional, each with a default \(docs\/deployment.md\):\n {2}ALWAYS_READY_INSTANCES, AZURE_LOCATION, /,
    );
    expect(Object.keys(template.parameters)).toContain('environmentName');
  });
});

describe('azure.yaml', () => {
  const yaml = readFileSync(join(repoRoot, 'azure.yaml'), 'utf8');
  it('builds the package in a service-level hook, so azd deploy (not only azd up or azd package) ships the code as it is', () => {
    expect(yaml).toContain(
      [
        'services:',
        '  api:',
        '    project: ./dist-package',
        '    language: js',
        '    host: function',
        '    remoteBuild: false',
        '    hooks:',
        '      prepackage:',
        '        posix:',
        '          shell: sh',
        '          run: cd .. && npm ci --no-audit --no-fund && npm run package',
      ].join('\n'),
    );
    // No root prepackage hook besides: it would build twice under azd up.
    expect(yaml.match(/prepackage:/g)).toHaveLength(1);
    // The service folder exists in a fresh clone: its README is committed.
    expect(readFileSync(join(repoRoot, 'dist-package', 'README.md'), 'utf8').length).toBeGreaterThan(0);
  });

  it('runs the vault check before provisioning', () => {
    expect(yaml).toContain(
      [
        'hooks:',
        '  preprovision:',
        '    posix:',
        '      shell: sh',
        '      run: node infra/hooks/preprovision.mjs',
      ].join('\n'),
    );
  });
});

describe('host.json', () => {
  it('asks Flex Consumption for the fewest instances (batchSize 32, its target per instance) and lets each hold more', () => {
    const host = JSON.parse(readFileSync(join(repoRoot, 'host.json'), 'utf8'));
    // docs/deployment.md, "Concurrency": at most 132 changes in flight per instance, most of them waiting.
    expect(host.extensions.queues).toMatchObject({ batchSize: 32, newBatchThreshold: 100 });
  });
});
